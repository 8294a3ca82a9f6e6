// The board's words in Russian and English, and the page's language.

export const I18N = {
  ru: {
    title: 'Супервизор', retries: 'Обратные звонки без ответа, повторим позже',
    stranded: 'Звонки остановленного контроллера: ждут его или замену', waiting: 'Ждут', longest: 'Дольше всех', sl: 'SL', target: 'Цель',
    offered: 'Поступило', answered: 'Отвечено', abandoned: 'Потеряно', announcement: 'Объявление',
    staff: 'Есть/нужно', staffHead: 'Агентов на смене / нужно по Erlang C', staffTip: 'Агентов очереди на смене {in}, свободны {free}.\nНужно по Erlang C для цели: {n15} (поток за 15 мин: {r15} в час), {n30} (за 30 мин: {r30} в час).\nОбработка с поствызовной работой: {aht} с.',
    'ann.none': 'нет', 'ann.holiday': 'праздник', 'ann.outage': 'авария', logout: 'Выйти',
    langTitle: 'Switch to English (t)', help: 'Клавиши (?)', stale: 'Нет связи с контроллером: данные устарели',
    queues: 'Очереди', queue: 'Очередь', calls: 'Ожидающие звонки', caller: 'Номер', wait: 'Ждёт',
    priority: 'Приор.', ivr: 'IVR', noCalls: 'Никто не ждёт', agents: 'Операторы', find: 'Найти оператора (/)',
    nothingSelected: 'Ничего не выбрано', listen: 'Слушать', whisper: 'Суфлёр', barge: 'Вмешаться', leave: 'Выйти из звонка',
    move: 'Перевести', forcePause: 'Пауза', forceAvailable: 'Готов', forceLogout: 'Выход',
    login: 'Вход супервизора', supervisorId: 'Учётная запись', password: 'Пароль', enter: 'Войти',
    throttled: 'Слишком много неудачных попыток. Повторите через {n} с', adminOnly: 'Только для администратора',
    softphoneHint: 'Звук прослушивания приходит в ваш софтфон: войдите на /agent/ с этой же учётной записью',
    moveTitle: 'Перевести звонок в очередь', cancel: 'Отмена', ok: 'OK', reason: 'Причина', close: 'Закрыть',
    keys: 'Клавиши', 'k.focus': 'к очередям, звонкам, операторам', 'k.move': 'выбор строки или оператора',
    'k.enter': 'на очереди: показать только её звонки', 'k.snoop': 'слушать, суфлёр, вмешаться, выйти (разговор оператора)',
    'k.moveCall': 'перевести ожидающий звонок', 'k.agent': 'оператор: пауза, готов, выход', 'k.announce': 'объявление',
    'k.find': 'найти оператора', 'k.dense': 'плотная сетка операторов (только цвет)', 'k.lang': 'русский / English', 'k.help': 'эта справка / закрыть',
    'st.offline': 'не в сети', 'st.available': 'свободен', 'st.ringing': 'вызов', 'st.on_call': 'разговор', 'st.consult': 'консультация',
    'st.wrap_up': 'обработка', 'st.paused': 'пауза',
    'pr.break': 'перерыв', 'pr.lunch': 'обед', 'pr.training': 'обучение', 'pr.meeting': 'совещание',
    'pr.technical': 'технические проблемы', 'pr.no answer': 'не ответил на вызов', 'pr.disconnected': 'страница закрыта',
    call: 'Звонок', agent: 'Оператор', inQueue: 'в очереди', onCall: 'звонок', filterAll: '(все)',
    pauseTitle: 'Пауза оператора', logoutTitle: 'Выход оператора', done: 'Готово', noCall: 'Нет разговора',
    notCall: 'Выберите ожидающий звонок', notAgent: 'Выберите оператора', wrongPw: 'Неверная учётная запись или пароль',
    connLost: 'нет связи', reports: 'Отчёты',
    allStates: 'все состояния', allGroups: 'все группы', allQueues: 'все очереди', groupBy: 'Группы', sortBy: 'Порядок',
    'g.group': 'по группам', 'g.state': 'по состоянию', 'g.queue': 'по очереди звонка', 'g.none': 'без групп',
    'o.id': 'по номеру', 'o.name': 'по имени', 'o.since': 'дольше в состоянии', noQueue: 'без звонка',
    target: 'Цель', targetFmt: '{p}% за {s} с', shown: 'показано {n} из {all}',
    'e.400': 'Неверный запрос', 'e.403': 'Только для администратора', 'e.404': 'Звонка или оператора уже нет',
    'e.409': 'Сейчас нельзя: звонок или оператор в другом состоянии, или ваш софтфон не подключён',
    'e.504': 'Контроллер не ответил вовремя', 'e.other': 'Не получилось',
  },
  en: {
    title: 'Supervisor', retries: 'Callbacks not answered, to be tried again',
    stranded: 'Calls of a stopped controller: waiting for it or a replacement', waiting: 'Waiting', longest: 'Longest', sl: 'SL', target: 'Target',
    offered: 'Offered', answered: 'Answered', abandoned: 'Abandoned', announcement: 'Announcement',
    staff: 'Have/need', staffHead: 'Agents on shift / needed by Erlang C', staffTip: 'Agents of this queue on shift {in}, available {free}.\nNeeded by Erlang C for the target: {n15} (last 15 min: {r15} calls an hour), {n30} (last 30 min: {r30} an hour).\nHandle time with wrap-up: {aht} s.',
    'ann.none': 'none', 'ann.holiday': 'holiday', 'ann.outage': 'outage', logout: 'Log out',
    langTitle: 'Переключить на русский (t)', help: 'Keys (?)', stale: 'No link to the controller: data is stale',
    queues: 'Queues', queue: 'Queue', calls: 'Waiting calls', caller: 'Caller', wait: 'Wait',
    priority: 'Prio', ivr: 'IVR', noCalls: 'Nobody is waiting', agents: 'Agents', find: 'Find agent (/)',
    nothingSelected: 'Nothing selected', listen: 'Listen', whisper: 'Whisper', barge: 'Barge', leave: 'Leave the call',
    move: 'Move', forcePause: 'Pause', forceAvailable: 'Available', forceLogout: 'Log out',
    login: 'Supervisor login', supervisorId: 'Account', password: 'Password', enter: 'Log in',
    throttled: 'Too many failed attempts. Try again in {n} s', adminOnly: 'Administrators only',
    softphoneHint: 'Listening comes to your own softphone: log in on /agent/ with this same account',
    moveTitle: 'Move the call to queue', cancel: 'Cancel', ok: 'OK', reason: 'Reason', close: 'Close',
    keys: 'Keys', 'k.focus': 'go to queues, calls, agents', 'k.move': 'select a row or an agent',
    'k.enter': "on a queue: show only its calls", 'k.snoop': "listen, whisper, barge, leave (the agent's call)",
    'k.moveCall': 'move a waiting call', 'k.agent': 'agent: pause, available, log out', 'k.announce': 'announcement',
    'k.find': 'find an agent', 'k.dense': 'dense agent grid (colour only)', 'k.lang': 'русский / English', 'k.help': 'this help / close',
    'st.offline': 'offline', 'st.available': 'available', 'st.ringing': 'ringing', 'st.on_call': 'on call', 'st.consult': 'consultation',
    'st.wrap_up': 'wrap-up', 'st.paused': 'paused',
    'pr.break': 'break', 'pr.lunch': 'lunch', 'pr.training': 'training', 'pr.meeting': 'meeting',
    'pr.technical': 'technical problem', 'pr.no answer': 'did not answer a call', 'pr.disconnected': 'page closed',
    call: 'Call', agent: 'Agent', inQueue: 'in queue', onCall: 'call', filterAll: '(all)',
    pauseTitle: 'Pause agent', logoutTitle: 'Log agent out', done: 'Done', noCall: 'No call in progress',
    notCall: 'Select a waiting call', notAgent: 'Select an agent', wrongPw: 'Wrong account or password',
    connLost: 'disconnected', reports: 'Reports',
    allStates: 'all states', allGroups: 'all groups', allQueues: 'all queues', groupBy: 'Groups', sortBy: 'Order',
    'g.group': 'by group', 'g.state': 'by state', 'g.queue': "by call's queue", 'g.none': 'no groups',
    'o.id': 'by id', 'o.name': 'by name', 'o.since': 'longest in state', noQueue: 'no call',
    target: 'Target', targetFmt: '{p}% in {s} s', shown: '{n} of {all} shown',
    'e.400': 'Bad request', 'e.403': 'Administrators only', 'e.404': 'The call or the agent is gone',
    'e.409': "Not now: the call or the agent is in another state, or your softphone is not connected",
    'e.504': 'The controller did not answer in time', 'e.other': 'It did not work',
  },
};

export let lang = localStorage.getItem('hotline.lang') === 'en' ? 'en' : 'ru';
// setLanguage changes the page's language; lang.js's toggleLang also keeps it and redraws.
export function setLanguage(l) { lang = l; }
export const t = (k) => I18N[lang][k] ?? I18N.ru[k] ?? k;
// A queue's (or group's) name for people: its title in the page's language, else Russian, else its id.
export const qtitle = (q) => (q.titles && (q.titles[lang] || q.titles.ru)) || q.name;
// reasonText is a pause reason in the page's language: the known codes translated, a supervisor's
// own words as written.
export function reasonText(r) { return I18N[lang]['pr.' + r] || r; }
