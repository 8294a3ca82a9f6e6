// Supervisor page: plain JS, no framework, no build step.
//
// Rendering is incremental: each queue row, call row and agent tile is created once, kept in a
// Map by its key, and only the fields that changed are written. The page only writes to the DOM
// while rendering (it never reads layout then), so 500 agents cost one layout per frame. Waits
// are counted here from the moments in the view, once a second, against the server's clock.
'use strict';

const I18N = {
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
const STATES = ['available', 'ringing', 'on_call', 'consult', 'wrap_up', 'paused', 'offline'];
const $ = (id) => document.getElementById(id);

let lang = localStorage.getItem('hotline.lang') === 'en' ? 'en' : 'ru';
let view = null;          // the last view from the server
let offset = 0;           // server clock − browser clock, ms
let session = { authenticated: false };
let supervisor = '';      // who we are: the session's account, never typed
let selected = null;      // {kind: 'call'|'agent'|'queue', id}
let queueFilter = '';     // show only this queue's calls
let findText = '';
// How the agents are shown: kept across visits.
const shown = {
  state: localStorage.getItem('hotline.f.state') || '', group: localStorage.getItem('hotline.f.group') || '',
  queue: localStorage.getItem('hotline.f.queue') || '', by: localStorage.getItem('hotline.groupBy') || 'group',
  order: localStorage.getItem('hotline.order') || 'id',
};

const t = (k) => I18N[lang][k] ?? I18N.ru[k] ?? k;
// A queue's name for people: its title in the page's language, else Russian, else its id.
const qtitle = (q) => (q.titles && (q.titles[lang] || q.titles.ru)) || q.name;
const titled = (list, name) => { const x = list?.find((e) => e.name === name); return x ? qtitle(x) : name; };
const queueTitle = (name) => titled(view?.queues, name);
const groupTitle = (name) => titled(view?.groups, name);
// shortName is "Анна С." for "Анна Смирнова": what fits on a tile of 500.
function shortName(n) {
  const p = (n || '').trim().split(/\s+/);
  return p.length > 1 ? `${p[0]} ${p[p.length - 1][0]}.` : p[0] || '';
}
// phone formats a Russian number as +7 916 093-93-98; anything else as given.
function phone(n) {
  const d = (n || '').replace(/\D/g, '');
  const m = /^[78]?(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(d.length === 11 || d.length === 10 ? d : '');
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : n || '';
}

// ---- keyed lists -------------------------------------------------------------------------

// Each entry: {el, s: last written values, since: moment for the clock or 0, clockEl}.
const queueRows = new Map(), callRows = new Map(), agentTiles = new Map(), groups = new Map();

function setText(e, key, el, v) {
  if (e.s[key] !== v) { e.s[key] = v; el.textContent = v; }
}
function setAttr(e, key, el, name, v) {
  if (e.s[key] !== v) { e.s[key] = v; el.setAttribute(name, v); }
}

// reconcile puts the entries for items into container in order, creating and removing as needed.
function reconcile(container, cache, items, keyOf, create, update) {
  const seen = new Set();
  let prev = null;
  for (const item of items) {
    const k = keyOf(item);
    seen.add(k);
    let e = cache.get(k);
    if (!e) { e = create(k); e.s = {}; cache.set(k, e); }
    update(e, item);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== e.el) container.insertBefore(e.el, want);
    prev = e.el;
  }
  for (const [k, e] of cache) if (!seen.has(k)) { e.el.remove(); cache.delete(k); }
}

function cells(tr, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(tr.appendChild(document.createElement('td')));
  return out;
}

// ---- time --------------------------------------------------------------------------------

const now = () => Date.now() + offset;
function dur(sinceMs) {
  if (!sinceMs) return '–';
  let s = Math.max(0, Math.floor((now() - sinceMs) / 1000));
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(s).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
const ms = (iso) => (iso ? Date.parse(iso) : 0);

function tickClocks() {
  for (const cache of [queueRows, callRows, agentTiles]) {
    for (const e of cache.values()) if (e.clockEl) setText(e, 'clock', e.clockEl, dur(e.since));
  }
  // A queue whose head waits past the target stands out, as soon as it does.
  for (const e of queueRows.values()) {
    setAttr(e, 'hi', e.el, 'class', e.since && now() - e.since > e.targetMs ? 'hi' : '');
  }
  if (view) $('t-longest').textContent = dur(ms(view.totals.oldestSince));
}

// ---- render ------------------------------------------------------------------------------

let renderQueued = false;
function scheduleRender() {
  if (!renderQueued) { renderQueued = true; requestAnimationFrame(render); }
}

const pct = (v) => (v == null ? '–' : `${Math.round(v)}%`);

function render() {
  renderQueued = false;
  if (!view) return;
  const v = view;
  $('t-waiting').textContent = v.totals.waiting;
  $('t-sl').textContent = pct(v.totals.serviceLevel);
  $('t-offered').textContent = v.totals.offered;
  $('t-answered').textContent = v.totals.answered;
  $('t-abandoned').textContent = v.totals.abandoned;
  renderStateCounts($('state-counts'), v.totals.agents, true);

  const ann = $('announcement');
  if (document.activeElement !== ann && ann.value !== v.announcement) ann.value = v.announcement;
  ann.dataset.on = v.announcement === 'none' ? '0' : '1';

  renderQueues(v.queues);
  renderCalls(v.queues);
  renderFilters();
  renderAgents(v.agents);
  renderSelection();
  tickClocks();
}

function renderStateCounts(ul, counts, withLabels) {
  const parts = [];
  for (const st of STATES) parts.push(`${st}:${counts[st] || 0}`);
  const key = parts.join() + lang;
  if (ul.dataset.k === key) return;
  ul.dataset.k = key;
  ul.replaceChildren(...STATES.map((st) => {
    const li = document.createElement(withLabels ? 'li' : 'span');
    li.className = 's-' + st;
    li.title = t('st.' + st);
    li.textContent = withLabels ? `${t('st.' + st)} ${counts[st] || 0}` : `${counts[st] || 0}`;
    return li;
  }));
}

// reasonText is a pause reason in the page's language: the known codes translated, a supervisor's
// own words as written.
function reasonText(r) { return I18N[lang]['pr.' + r] || r; }

function renderQueues(queues) {
  reconcile($('queues'), queueRows, queues, (q) => q.name, (k) => {
    const tr = document.createElement('tr');
    tr.tabIndex = -1;
    tr.dataset.queue = k;
    const c = cells(tr, 9);
    for (const i of [1, 3, 4, 5, 6, 7, 8]) c[i].className = 'num';
    return { el: tr, c, clockEl: c[2] };
  }, (e, q) => {
    setText(e, 'name', e.c[0], qtitle(q));
    setText(e, 'waiting', e.c[1], String(q.waiting) + (q.retries ? ` +${q.retries}↻` : '') + (q.stranded ? ` +${q.stranded}⚠` : ''));
    setAttr(e, 'retries', e.c[1], 'title', [q.retries ? `${t('retries')}: ${q.retries}` : '', q.stranded ? `${t('stranded')}: ${q.stranded}` : ''].filter(Boolean).join('\n'));
    e.since = ms(q.oldestSince);
    setText(e, 'sl', e.c[3], pct(q.serviceLevel));
    const bad = q.serviceLevel != null && q.serviceLevel < q.targetPercent;
    setAttr(e, 'slc', e.c[3], 'class', 'num ' + (q.serviceLevel == null ? '' : bad ? 'sl-bad' : 'sl-ok'));
    setText(e, 'target', e.c[4], t('targetFmt').replace('{p}', q.targetPercent).replace('{s}', q.targetSeconds));
    setText(e, 'offered', e.c[5], String(q.offered));
    setText(e, 'answered', e.c[6], String(q.answered));
    setText(e, 'abandoned', e.c[7], String(q.abandoned));
    const st = q.staffing;
    setText(e, 'staff', e.c[8], st ? `${st.loggedIn} / ${st.needed15}` : '');
    setAttr(e, 'staffc', e.c[8], 'class', 'num' + (st && st.loggedIn < st.needed15 ? ' sl-bad' : ''));
    setAttr(e, 'stafft', e.c[8], 'title', st ? t('staffTip').replace('{in}', st.loggedIn).replace('{free}', st.available)
      .replace('{n15}', st.needed15).replace('{r15}', Math.round(st.callsPerHour15)).replace('{n30}', st.needed30)
      .replace('{r30}', Math.round(st.callsPerHour30)).replace('{aht}', st.handleSeconds) : '');
    e.targetMs = q.targetSeconds * 1000;
  });
}

function renderCalls(queues) {
  const items = [];
  for (const q of queues) {
    if (queueFilter && q.name !== queueFilter) continue;
    q.calls.forEach((c, i) => items.push({ q, c, pos: i + 1 }));
  }
  reconcile($('calls'), callRows, items, (it) => it.c.id, (k) => {
    const tr = document.createElement('tr');
    tr.tabIndex = -1;
    tr.dataset.call = k;
    const c = cells(tr, 6);
    c[1].className = 'num'; c[4].className = 'num'; c[5].className = 'sum';
    return { el: tr, c, clockEl: c[3] };
  }, (e, it) => {
    setText(e, 'q', e.c[0], qtitle(it.q));
    e.queue = it.q.name;
    setText(e, 'pos', e.c[1], String(it.pos));
    setText(e, 'caller', e.c[2], phone(it.c.caller) || '—');
    e.since = ms(it.c.since);
    setText(e, 'prio', e.c[4], it.c.priority ? String(it.c.priority) : '');
    setAttr(e, 'pc', e.c[4], 'class', it.c.priority ? 'num prio' : 'num');
    const sum = [it.c.lang, it.c.summary].filter(Boolean).join(' · ');
    setText(e, 'sum', e.c[5], sum);
    setAttr(e, 'sumt', e.c[5], 'title', sum);
  });
  $('no-calls').hidden = items.length > 0;
  $('calls-filter').textContent = queueFilter ? `— ${queueTitle(queueFilter)}` : '';
  // The priority column only when some caller has one.
  $('calls-table').classList.toggle('no-prio', !items.some((it) => it.c.priority));
}

// agentKey is the section an agent is shown in, by the page's grouping.
function sectionOf(a) {
  switch (shown.by) {
    case 'state': return a.state;
    case 'queue': return a.queue || '';
    case 'none': return '*';
    default: return a.group;
  }
}
function sectionTitle(k) {
  switch (shown.by) {
    case 'state': return t('st.' + k);
    case 'queue': return k ? queueTitle(k) : t('noQueue');
    case 'none': return t('agents');
    default: return groupTitle(k) || '—';
  }
}
const ORDER = {
  id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  name: (a, b) => (a.name || a.id).localeCompare(b.name || b.id, lang) || ORDER.id(a, b),
  since: (a, b) => ms(a.since) - ms(b.since) || ORDER.id(a, b),
};
function visible(a) {
  return (!shown.state || a.state === shown.state) && (!shown.group || a.group === shown.group) &&
    (!shown.queue || a.queue === shown.queue);
}

function renderAgents(agents) {
  const sections = new Map();
  if (shown.by === 'group') for (const g of view?.groups || []) sections.set(g.name, []);
  if (shown.by === 'state') for (const st of STATES) sections.set(st, []);
  let n = 0;
  for (const a of agents) {
    if (!visible(a)) continue;
    n++;
    const k = sectionOf(a);
    let list = sections.get(k);
    if (!list) sections.set(k, (list = []));
    list.push(a);
  }
  const list = [...sections.entries()].filter(([, m]) => m.length > 0);
  for (const [, m] of list) m.sort(ORDER[shown.order] || ORDER.id);
  $('agents-shown').textContent = n === agents.length ? '' : t('shown').replace('{n}', n).replace('{all}', agents.length);
  reconcile($('agents'), groups, list, ([name]) => `${shown.by}:${name}`, (k) => {
    const sec = document.createElement('section');
    sec.className = 'group';
    sec.dataset.group = k.slice(k.indexOf(':') + 1); // the section's name; the key also holds the grouping
    const h = sec.appendChild(document.createElement('h3'));
    const name = h.appendChild(document.createElement('span'));
    const counts = h.appendChild(document.createElement('span'));
    counts.className = 'c';
    const tiles = sec.appendChild(document.createElement('div'));
    tiles.className = 'tiles';
    tiles.setAttribute('role', 'grid');
    return { el: sec, name, counts, tiles, cache: new Map() };
  }, (e, [key, members]) => {
    setText(e, 'name', e.name, sectionTitle(key));
    const counts = {};
    for (const a of members) counts[a.state] = (counts[a.state] || 0) + 1;
    const txt = `${members.length} · ` + STATES.filter((s) => counts[s]).map((s) => `${t('st.' + s)} ${counts[s]}`).join(' · ');
    setText(e, 'counts', e.counts, txt);
    reconcile(e.tiles, e.cache, members, (a) => a.id, (k) => {
      const d = document.createElement('div');
      d.tabIndex = -1;
      d.dataset.agent = k;
      d.setAttribute('role', 'gridcell');
      const top = d.appendChild(document.createElement('span'));
      top.className = 'top';
      const id = top.appendChild(document.createElement('b'));
      const c = top.appendChild(document.createElement('span'));
      c.className = 't';
      const n = d.appendChild(document.createElement('span'));
      n.className = 'n';
      const r = d.appendChild(document.createElement('span'));
      r.className = 'r';
      const entry = { el: d, id, n, r, clockEl: c };
      agentTiles.set(k, entry);
      return entry;
    }, (ae, a) => {
      ae.agent = a;
      setText(ae, 'id', ae.id, a.id);
      setText(ae, 'n', ae.n, shortName(a.name) || a.id);
      // The second line says why: the pause's reason, or the call's queue.
      setText(ae, 'r', ae.r, a.state === 'paused' ? reasonText(a.reason || '') : a.queue ? queueTitle(a.queue) : '');
      setAttr(ae, 'cls', ae.el, 'class', 'ag s-' + a.state + (matches(a) ? '' : ' dim'));
      ae.since = ms(a.since);
      const title = `${a.name} (${a.id}) — ${t('st.' + a.state)}${a.reason ? ': ' + reasonText(a.reason) : ''}` +
        `${a.caller ? ' · ' + phone(a.caller) : ''}${a.queue ? ' · ' + queueTitle(a.queue) : ''}`;
      setAttr(ae, 'title', ae.el, 'title', title);
      setAttr(ae, 'label', ae.el, 'aria-label', title);
    });
  });
  // Agents no longer shown leave agentTiles too.
  const live = new Set();
  for (const [, m] of list) for (const a of m) live.add(a.id);
  for (const k of agentTiles.keys()) if (!live.has(k)) agentTiles.delete(k);
}

// renderFilters fills the filter menus from the view: states, the center's groups and queues.
function renderFilters() {
  const fill = (sel, all, opts) => {
    const key = lang + all + opts.map((o) => o[0] + o[1]).join();
    if (sel.dataset.k === key) return;
    sel.dataset.k = key;
    const cur = sel.value || shown[sel.dataset.f];
    sel.replaceChildren(new Option(t(all), ''), ...opts.map(([v, label]) => new Option(label, v)));
    sel.value = opts.some(([v]) => v === cur) ? cur : '';
  };
  fill($('f-state'), 'allStates', STATES.map((s) => [s, t('st.' + s)]));
  fill($('f-group'), 'allGroups', (view?.groups || []).map((g) => [g.name, qtitle(g)]));
  fill($('f-queue'), 'allQueues', (view?.queues || []).map((q) => [q.name, qtitle(q)]));
}

function matches(a) {
  if (!findText) return true;
  return (a.name || '').toLowerCase().includes(findText) || a.id.toLowerCase().includes(findText);
}

// ---- selection ---------------------------------------------------------------------------

function selectedCall() {
  if (!view || selected?.kind !== 'call') return null;
  for (const q of view.queues) for (const c of q.calls) if (c.id === selected.id) return { q, c };
  return null;
}
function selectedAgent() {
  if (selected?.kind !== 'agent') return null;
  return agentTiles.get(selected.id)?.agent ?? null;
}

function renderSelection() {
  const el = $('sel-text');
  const call = selectedCall(), agent = selectedAgent();
  let text = t('nothingSelected');
  if (call) text = `${t('call')} ${phone(call.c.caller) || '—'} — ${t('inQueue')} ${qtitle(call.q)}, ${dur(ms(call.c.since))}`;
  if (agent) {
    text = `${t('agent')} ${agent.name} (${agent.id}), ${groupTitle(agent.group)} — ${t('st.' + agent.state)}` +
      (agent.reason ? ` (${reasonText(agent.reason)})` : '') +
      (agent.callId ? ` · ${t('onCall')} ${phone(agent.caller) || '—'}${agent.queue ? ', ' + queueTitle(agent.queue) : ''}` : '');
  }
  el.textContent = text;
  const hasCall = !!(call || agent?.callId);
  for (const b of document.querySelectorAll('.buttons button')) {
    const a = b.dataset.act;
    b.disabled = (a === 'listen' || a === 'whisper' || a === 'barge' || a === 'leave') ? !hasCall
      : a === 'move' ? !call : !agent;
  }
}

function select(kind, id, el) {
  const prev = document.querySelector('[aria-selected="true"]');
  if (prev && prev !== el) prev.removeAttribute('aria-selected');
  el?.setAttribute('aria-selected', 'true');
  selected = { kind, id };
  renderSelection();
}

document.addEventListener('focusin', (ev) => {
  const el = ev.target;
  if (el.dataset?.call) select('call', el.dataset.call, el);
  else if (el.dataset?.agent) select('agent', el.dataset.agent, el);
  else if (el.dataset?.queue) select('queue', el.dataset.queue, el);
});
document.addEventListener('click', (ev) => {
  const el = ev.target.closest?.('[data-call],[data-agent],[data-queue]');
  if (el) el.focus();
});

// items lists the focusable entries of a region in DOM order.
function items(region) {
  if (region === 'queues') return [...$('queues').children];
  if (region === 'calls') return [...$('calls').children];
  return [...$('agents').querySelectorAll('.ag')];
}
function regionOf(el) {
  if (el?.dataset?.queue) return 'queues';
  if (el?.dataset?.call) return 'calls';
  if (el?.dataset?.agent) return 'agents';
  return null;
}
function focusRegion(region) {
  const list = items(region);
  const cur = list.find((e) => e.getAttribute('aria-selected') === 'true');
  (cur || list[0])?.focus();
}
function columns() {
  const g = document.querySelector('.tiles');
  return g ? getComputedStyle(g).gridTemplateColumns.split(' ').length : 1;
}
function moveFocus(el, key) {
  const region = regionOf(el);
  const list = items(region);
  let i = list.indexOf(el);
  const step = region === 'agents' && (key === 'ArrowUp' || key === 'ArrowDown') ? columns() : 1;
  switch (key) {
    case 'ArrowDown': case 'j': i += step; break;
    case 'ArrowRight': i += 1; break;
    case 'ArrowUp': case 'k': i -= step; break;
    case 'ArrowLeft': i -= 1; break;
    case 'Home': i = 0; break;
    case 'End': i = list.length - 1; break;
  }
  list[Math.max(0, Math.min(list.length - 1, i))]?.focus();
}

// ---- actions -----------------------------------------------------------------------------

let toastTimer = 0;
function toast(msg, isErr) {
  const el = $('toast');
  el.textContent = msg;
  el.className = 'toast' + (isErr ? ' err' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.textContent = ''; }, 5000);
}

async function post(path, body) {
  const res = await fetch('api/' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = {};
  try { data = await res.json(); } catch { /* empty body */ }
  if (res.status === 401 && path !== 'login') showLogin();
  if (!res.ok) {
    // The server's reason is English and for the log; the supervisor reads why in the page's language.
    const msg = I18N[lang]['e.' + res.status] || t('e.other');
    throw Object.assign(new Error(msg), { status: res.status, reason: data.error, retryAfter: res.headers.get('Retry-After') });
  }
  return data;
}

async function act(path, body, label) {
  try {
    await post(path, body);
    toast(`${label}: ${t('done')}`);
  } catch (err) {
    toast(`${label}: ${err.message}`, true);
    $('toast').title = err.reason || '';
  }
}

function doAction(a) {
  const call = selectedCall(), agent = selectedAgent();
  switch (a) {
    case 'listen': case 'whisper': case 'barge': case 'leave': {
      const id = call?.c.id || agent?.callId;
      if (!id) return toast(t('noCall'), true);
      return act(a, { call: id }, t(a));
    }
    case 'move': {
      if (!call) return toast(t('notCall'), true);
      const sel = $('move-queue');
      sel.replaceChildren(...view.queues.filter((q) => q.name !== call.q.name).map((q) => {
        const o = document.createElement('option');
        o.value = q.name; o.textContent = qtitle(q);
        return o;
      }));
      return ask($('move-dlg'), sel, () => act('move', { call: call.c.id, queue: sel.value }, t('move')));
    }
    case 'pause': case 'logout': {
      if (!agent) return toast(t('notAgent'), true);
      $('pause-title').textContent = `${t(a === 'pause' ? 'pauseTitle' : 'logoutTitle')}: ${agent.name}`;
      const reason = $('pause-reason');
      reason.value = '';
      return ask($('pause-dlg'), reason, () => act('agent-state',
        { agent: agent.id, state: a === 'pause' ? 'paused' : 'offline', reason: reason.value || `${supervisor}` },
        t(a === 'pause' ? 'forcePause' : 'forceLogout')));
    }
    case 'available':
      if (!agent) return toast(t('notAgent'), true);
      return act('agent-state', { agent: agent.id, state: 'available', reason: '' }, t('forceAvailable'));
  }
}

// ask opens a dialog and runs then() when it closes with OK; focus goes back where it was.
function ask(dlg, first, then) {
  const back = document.activeElement;
  dlg.returnValue = '';
  dlg.showModal();
  first.focus();
  dlg.addEventListener('close', () => {
    back?.focus?.();
    if (dlg.returnValue === 'ok') then();
  }, { once: true });
}
// Enter in a dialog's text field means OK.
for (const id of ['pause-dlg', 'move-dlg']) {
  $(id).addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.target.tagName !== 'BUTTON') { ev.preventDefault(); $(id).close('ok'); }
  });
}

for (const b of document.querySelectorAll('.buttons button')) b.addEventListener('click', () => doAction(b.dataset.act));

$('announcement').addEventListener('change', async (ev) => {
  const kind = ev.target.value;
  try {
    await post('announcement', { kind });
    toast(`${t('announcement')}: ${t('ann.' + kind)}`);
  } catch (err) {
    toast(`${t('announcement')}: ${err.message}`, true);
    if (view) ev.target.value = view.announcement;
  }
});

for (const [id, key, store] of [['f-state', 'state', 'hotline.f.state'], ['f-group', 'group', 'hotline.f.group'],
  ['f-queue', 'queue', 'hotline.f.queue'], ['group-by', 'by', 'hotline.groupBy'], ['order', 'order', 'hotline.order']]) {
  const sel = $(id);
  sel.dataset.f = key;
  if (sel.options.length) sel.value = shown[key];
  sel.addEventListener('change', () => {
    shown[key] = sel.value;
    localStorage.setItem(store, sel.value);
    if (view) renderAgents(view.agents);
  });
}

$('find').addEventListener('input', (ev) => {
  findText = ev.target.value.trim().toLowerCase();
  if (view) renderAgents(view.agents);
});
$('find').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    document.querySelector('.ag:not(.dim)')?.focus();
  }
});

// ---- keyboard ----------------------------------------------------------------------------

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
  const el = document.activeElement;
  const typing = el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA');
  if (typing) {
    if (ev.key === 'Escape') { el.blur(); focusRegion('agents'); }
    return;
  }
  const region = regionOf(el);
  if (region && ['ArrowDown', 'ArrowUp', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'j', 'k'].includes(ev.key)) {
    ev.preventDefault();
    return moveFocus(el, ev.key);
  }
  switch (ev.key) {
    case 'q': focusRegion('queues'); break;
    case 'c': focusRegion('calls'); break;
    case 'a': focusRegion('agents'); break;
    case 'l': doAction('listen'); break;
    case 'w': doAction('whisper'); break;
    case 'b': doAction('barge'); break;
    case 'x': doAction('leave'); break;
    case 'm': doAction('move'); break;
    case 'p': doAction('pause'); break;
    case 'v': doAction('available'); break;
    case 'o': doAction('logout'); break;
    case 'n': $('announcement').focus(); break;
    case '/': $('find').focus(); break;
    case 't': toggleLang(); break;
    case 'd': toggleDense(); break;
    case '?': $('help-dlg').showModal(); break;
    case 'Enter':
      if (region === 'queues') {
        queueFilter = queueFilter === el.dataset.queue ? '' : el.dataset.queue;
        if (view) renderCalls(view.queues);
      }
      break;
    case 'Escape':
      if (queueFilter) { queueFilter = ''; if (view) renderCalls(view.queues); }
      break;
    default: return;
  }
  ev.preventDefault();
});

// ---- language ----------------------------------------------------------------------------

function applyLang() {
  document.documentElement.lang = lang;
  document.title = `hotline — ${t('title')}`;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  $('lang').textContent = lang === 'ru' ? 'EN' : 'RU';
  // Group counts and titles hold translated words: write them again.
  for (const e of groups.values()) { e.s = {}; for (const a of e.cache.values()) a.s = {}; }
  $('conn').title = '';
  scheduleRender();
}
function toggleDense() {
  const on = document.body.classList.toggle('dense');
  localStorage.setItem('hotline.dense', on ? '1' : '');
}
function toggleLang() {
  lang = lang === 'ru' ? 'en' : 'ru';
  localStorage.setItem('hotline.lang', lang);
  applyLang();
}
$('lang').addEventListener('click', toggleLang);
$('help-btn').addEventListener('click', () => $('help-dlg').showModal());

// ---- session and feed --------------------------------------------------------------------

function showLogin() {
  const dlg = $('login-dlg');
  if (!dlg.open) dlg.showModal();
  $('login-id').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const info = await post('login', { account: $('login-id').value.trim(), password: $('login-pw').value });
    $('login-pw').value = '';
    $('login-err').textContent = '';
    $('login-dlg').close();
    started(info);
  } catch (err) {
    $('login-err').textContent = err.status === 401 ? t('wrongPw')
      : err.status === 429 ? t('throttled').replace('{n}', err.retryAfter || '60') : err.message;
    $('login-pw').value = '';
    $('login-pw').focus();
  }
});
$('login-dlg').addEventListener('cancel', (ev) => ev.preventDefault()); // Esc does not skip login

$('logout').addEventListener('click', async () => {
  await post('logout', {}).catch(() => {});
  location.reload();
});

function started(info) {
  session = info;
  supervisor = info.account || '';
  $('who').textContent = info.name ? `${info.name} (${supervisor})` : supervisor;
  $('who').title = t('softphoneHint');
  // The announcement switch is an administrator's: a supervisor sees it, and cannot change it.
  $('announcement').disabled = !info.canAnnounce;
  $('announcement').title = info.canAnnounce ? '' : t('adminOnly');
  $('logout').hidden = !info.authenticated;
  connect();
}

let ws = null, retry = 0;
function connect() {
  if (ws) return;
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  $('conn').dataset.state = 'connecting';
  ws = new WebSocket(url);
  ws.onopen = () => { retry = 0; $('conn').dataset.state = 'open'; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'view') {
      offset = Date.parse(msg.now) - Date.now();
      view = msg.view;
      $('stale').hidden = true;
      scheduleRender();
    } else if (msg.type === 'stale') {
      $('stale').hidden = false;
    }
  };
  ws.onclose = async () => {
    ws = null;
    $('conn').dataset.state = 'closed';
    $('conn').title = t('connLost');
    // A lost session shows as a refused upgrade: ask the server which it was.
    const info = await fetch('api/session').then((r) => r.json()).catch(() => null);
    if (info && !info.authenticated) { session = info; return showLogin(); }
    retry = Math.min(retry + 1, 5);
    setTimeout(connect, retry * 1000);
  };
}

async function start() {
  if (localStorage.getItem('hotline.dense')) document.body.classList.add('dense');
  applyLang();
  setInterval(() => { tickClocks(); if (selected) renderSelection(); }, 1000);
  let info = { authenticated: false };
  try { info = await fetch('api/session').then((r) => r.json()); } catch { /* retry via login */ }
  session = info;
  if (!info.authenticated) return showLogin();
  started(info);
}
start();
