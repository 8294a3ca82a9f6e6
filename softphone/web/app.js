// hotline agent page: login, state, calls, and the shift-long WebRTC session. Plain JS, no build.
'use strict';

const I18N = {
  ru: {
    quality: 'Связь', logout: 'Выйти', login_title: 'Вход', agent_id: 'Логин', password: 'Пароль',
    login: 'Войти', my_state: 'Мой статус', available: 'Готов', pause: 'Перерыв', auto_answer: 'Автоответ',
    call: 'Звонок', no_call: 'Нет звонка', caller: 'Номер', caller_name: 'Имя', caller_type: 'Тип', queue: 'Очередь', waited: 'Ожидал',
    entered: 'Введено', ivr_path: 'Путь в IVR', previous: 'Звонил раньше', o_answered: 'ответили', o_abandoned: 'не дождался',
    o_exited: 'снят из очереди', o_ivr: 'обслужен автоматически', o_waiting: 'ждал', answer: 'Ответить', reject: 'Отклонить', hold: 'Удержание',
    resume: 'Вернуть', mute: 'Микрофон выкл.', unmute: 'Микрофон вкл.', hangup: 'Завершить', to_queue: 'В очередь',
    to_agent: 'Оператору', to_number: 'На номер', target: 'Куда', transfer: 'Перевести', consult: 'Консультация',
    complete: 'Соединить', cancel_consult: 'Вернуться', wrapup: 'Завершение обработки', disposition: 'Результат',
    note: 'Заметка', wrapup_done: 'Готово', wrapup_more: 'Ещё 30 с', why_wrapup_over: 'Обработка уже закончилась', calls_today: 'Звонки сегодня', refresh: 'обновить', time: 'Время',
    talk: 'Разговор', shortcuts: 'Горячие клавиши', hold_toggle: 'Удержание / вернуть',
    mute_toggle: 'Микрофон выкл. / вкл.', dtmf: 'Тональный набор (в разговоре)', transfer_focus: 'Перевод: поле «куда»',
    lang_toggle: 'Русский / English', help_toggle: 'Показать / скрыть эту справку',
    a_reason: 'Причина перерыва', a_kind: 'Куда переводить', a_target: 'Номер, оператор или очередь', a_keypad: 'Тональный набор',
    a_ru: 'Русский', a_en: 'Английский', a_quality: 'Качество связи',
    st_available: 'Готов', st_paused: 'Перерыв', st_ringing: 'Вызов', st_on_call: 'Разговор', st_wrapup: 'Обработка',
    st_logged_out: 'Не в сети', cs_ringing: 'входящий', cs_connected: 'разговор', cs_held: 'на удержании',
    cs_consulting: 'консультация', cs_ended: 'завершён', cs_wrapup: 'обработка',
    q_good: 'хорошая', q_fair: 'средняя', q_poor: 'плохая', q_none: '—',
    reconnecting: 'Связь с сервером потеряна, переподключение…', mic_denied: 'Нет доступа к микрофону',
    bad_credentials: 'Неверный логин или пароль', login_failed: 'Вход не удался', error: 'Ошибка',
    not_your_call: 'Это не ваш звонок', no_such_call: 'Звонок уже завершён', invalid_state: 'Сейчас это невозможно',
    replaced: 'Звук открыт в другой вкладке.', take_over: 'Перенести сюда',
    seconds: 'с', private: 'частное лицо', business: 'организация', pause_next: 'перерыв после звонка', wrapup_left: 'до следующего звонка', why_busy: 'Сначала завершите звонок: статус меняется вне разговора (перерыв после звонка — кнопкой «Перерыв после звонка»)', why_not_talking: 'Это возможно только в разговоре', why_not_ringing: 'Звонок больше не звонит: абонент положил трубку или звонок ушёл другому', why_not_answered: 'Коллега ещё не ответил: соединить можно после ответа', pause_after: 'Перерыв после звонка',
    pr_break: 'Перерыв', pr_lunch: 'Обед', pr_training: 'Обучение', pr_meeting: 'Совещание',
    pr_technical: 'Технические проблемы',
    cs_consult_ringing: 'консультация: вызов', cs_consulted: 'консультация',
    consult_from: 'Консультация от {who}', consult_with: 'Консультация с {who}',
    consult_ringing: 'вызов…', consult_talking: 'разговор',
    throttled: 'Слишком много неудачных попыток. Повторите через {n} с', busy: 'Сервер занят, повторите через секунду',
    monitor_note: 'Софтфон супервизора: сюда приходит звук звонков, которые вы слушаете, подсказываете или к которым подключаетесь с панели супервизора. Звонки сюда не распределяются.',
    consult_rejected: '{who} отклонил(а) консультацию: вы снова с абонентом',
    consult_no_answer: '{who} не ответил(а): вы снова с абонентом',
    consult_hung_up: '{who} завершил(а) консультацию: вы снова с абонентом',
    consult_over: 'Консультация завершена', consult_done: 'Звонок передан вам',
    answered_elsewhere: 'Звонок принял коллега',
    callback_no_answer: 'Клиент не ответил на обратный звонок; повторим позже',
    unavailable: 'Сейчас там никто не свободен: звонок остаётся у вас',
  },
  en: {
    quality: 'Link', logout: 'Log out', login_title: 'Log in', agent_id: 'Login', password: 'Password',
    login: 'Log in', my_state: 'My state', available: 'Available', pause: 'Pause', auto_answer: 'Auto-answer',
    call: 'Call', no_call: 'No call', caller: 'Number', caller_name: 'Name', caller_type: 'Type', queue: 'Queue', waited: 'Waited',
    entered: 'Entered', ivr_path: 'IVR path', previous: 'Called before', o_answered: 'answered', o_abandoned: 'hung up waiting',
    o_exited: 'taken out of the queue', o_ivr: 'served by the IVR', o_waiting: 'waited', answer: 'Answer', reject: 'Reject', hold: 'Hold', resume: 'Resume',
    mute: 'Mute', unmute: 'Unmute', hangup: 'Hang up', to_queue: 'To queue', to_agent: 'To agent',
    to_number: 'To number', target: 'Where', transfer: 'Transfer', consult: 'Consult', complete: 'Complete',
    cancel_consult: 'Back to caller', wrapup: 'Wrap-up', disposition: 'Disposition', note: 'Note',
    wrapup_done: 'Done', wrapup_more: '30 s more', why_wrapup_over: 'The wrap-up is already over', calls_today: 'Calls today', refresh: 'refresh', time: 'Time', talk: 'Talk',
    shortcuts: 'Keyboard shortcuts', hold_toggle: 'Hold / resume', mute_toggle: 'Mute / unmute',
    dtmf: 'DTMF (during a call)', transfer_focus: 'Transfer: focus “where”', lang_toggle: 'Русский / English',
    help_toggle: 'Show / hide this help',
    a_reason: 'Reason for the break', a_kind: 'Transfer to', a_target: 'Number, agent or queue', a_keypad: 'Keypad (DTMF)',
    a_ru: 'Russian', a_en: 'English', a_quality: 'Link quality', st_available: 'Available', st_paused: 'Paused', st_ringing: 'Ringing',
    st_on_call: 'On call', st_wrapup: 'Wrap-up', st_logged_out: 'Offline', cs_ringing: 'incoming',
    cs_connected: 'talking', cs_held: 'on hold', cs_consulting: 'consulting', cs_ended: 'ended', cs_wrapup: 'wrap-up',
    q_good: 'good', q_fair: 'fair', q_poor: 'poor', q_none: '—',
    reconnecting: 'Lost the server, reconnecting…', mic_denied: 'No microphone access',
    bad_credentials: 'Wrong login or password', login_failed: 'Login failed', error: 'Error',
    not_your_call: 'Not your call', no_such_call: 'The call is over', invalid_state: 'Not possible now',
    replaced: 'The audio is open in another tab.', take_over: 'Use this tab',
    seconds: 's', private: 'private person', business: 'business', pause_next: 'break after this call', wrapup_left: 'next call in', why_busy: 'Finish the call first: the state changes outside a call (a break after it: "Break after this call")', why_not_talking: 'Only possible during a conversation', why_not_ringing: 'The call no longer rings: the caller hung up or it went to someone else', why_not_answered: 'The colleague has not answered yet: connect after they do', pause_after: 'Break after this call',
    pr_break: 'Break', pr_lunch: 'Lunch', pr_training: 'Training', pr_meeting: 'Meeting',
    pr_technical: 'Technical problem',
    cs_consult_ringing: 'consultation request', cs_consulted: 'consultation',
    consult_from: 'Consultation from {who}', consult_with: 'Consulting {who}',
    consult_ringing: 'ringing…', consult_talking: 'talking',
    throttled: 'Too many failed attempts. Try again in {n} s', busy: 'The server is busy, try again in a second',
    monitor_note: 'Supervisor softphone: the audio of the calls you listen to, whisper into or barge into from the supervisor page comes here. No calls are routed to it.',
    consult_rejected: '{who} declined the consultation: you are back with the caller',
    consult_no_answer: '{who} did not answer: you are back with the caller',
    consult_hung_up: '{who} ended the consultation: you are back with the caller',
    consult_over: 'The consultation is over', consult_done: 'The call is yours now',
    answered_elsewhere: 'A colleague took the call',
    callback_no_answer: 'The customer did not answer the callback; it will be tried again',
    unavailable: 'Nobody is free there right now: the call stays with you',
  },
};

const $ = (id) => document.getElementById(id);
const ds = document.body.dataset;

let lang = localStorage.getItem('hotline.lang') || 'ru';
const t = (k) => (I18N[lang] && I18N[lang][k]) || I18N.ru[k] || k;
// tw fills {who} with a colleague: {agent, name} from the server.
const who = (f) => (f ? (f.name ? f.name + ' (' + f.agent + ')' : f.agent) : '');
const tw = (k, f) => t(k).replace('{who}', who(f));

function applyLang() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  // What a screen reader says of controls without visible text, in the page's language.
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  $('lang-ru').setAttribute('aria-pressed', String(lang === 'ru'));
  $('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
  // Pause reasons are codes from the server; known ones read in the page's language.
  for (const o of $('pause-reason').options) o.textContent = I18N[lang]['pr_' + o.value] || o.value;
  render();
}
function setLang(l) { lang = l; localStorage.setItem('hotline.lang', l); applyLang(); }

// ---- state ----
const S = {
  agent: null, iceServers: [], ws: null, backoff: 500, seq: 0, loggedIn: false,
  pc: null, mic: null, offerID: '', agentState: '', calls: new Map(), current: '', muted: false, sent: new Map(),
  wrapup: null, stats: null, replaced: false,
};
window.hotline = S; // for people debugging and for tests

function toast(text) {
  const el = $('toast'); el.textContent = text; el.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

// ---- login ----
async function checkSession() {
  const r = await fetch('me', { credentials: 'same-origin' });
  if (r.ok) { const j = await r.json(); startDesk(j.agent); } else showLogin();
}
function showLogin() {
  S.loggedIn = false; $('desk').hidden = true; $('btn-logout').hidden = true; $('login').hidden = false;
  $('login-agent').focus();
}
$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  audioCtx(); // the login click is a gesture: the context that measures call audio may run
  $('login-error').textContent = '';
  try {
    const r = await fetch('login', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: $('login-agent').value.trim(), password: $('login-password').value }),
    });
    if (r.status === 401) { $('login-error').textContent = t('bad_credentials'); return; }
    if (r.status === 429) { $('login-error').textContent = t('throttled').replace('{n}', r.headers.get('Retry-After') || '60'); return; }
    if (r.status === 503) { $('login-error').textContent = t('busy'); return; }
    if (!r.ok) { $('login-error').textContent = t('login_failed'); return; }
    $('login-password').value = '';
    startDesk((await r.json()).agent);
  } catch (e) { $('login-error').textContent = t('login_failed'); }
});
$('btn-logout').addEventListener('click', async () => {
  S.loggedIn = false;
  await fetch('logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  if (S.ws) S.ws.close();
  if (S.pc) { S.pc.close(); S.pc = null; }
  ds.pc = 'none';
  showLogin();
});

function startDesk(agent) {
  S.agent = agent; S.loggedIn = true;
  // A supervisor's or administrator's softphone only monitors: no state, no calls of its own.
  S.monitor = !!agent.role && agent.role !== 'agent';
  ds.role = agent.role || 'agent';
  for (const id of ['state-card', 'call-card', 'calls-card', 'help']) $(id).hidden = S.monitor;
  $('monitor-note').hidden = !S.monitor;
  if (!localStorage.getItem('hotline.lang') && agent.lang) { lang = agent.lang; }
  $('agent-name').textContent = agent.name || agent.id;
  $('login').hidden = true; $('desk').hidden = false; $('btn-logout').hidden = false;
  const aa = localStorage.getItem('hotline.autoanswer.' + agent.id);
  $('auto-answer').checked = aa === null ? !!agent.auto_answer : aa === '1';
  const pr = $('pause-reason'); pr.textContent = '';
  for (const r of (agent.pause_reasons || [])) pr.append(new Option(r, r));
  pr.hidden = pr.options.length === 0;
  applyLang();
  connect();
}

// ---- signaling ----
function connect() {
  if (!S.loggedIn) return;
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/agent/ws');
  S.ws = ws;
  ws.onopen = () => { S.backoff = 500; ds.ws = 'open'; $('banner').hidden = true; };
  ws.onmessage = (ev) => { let m; try { m = JSON.parse(ev.data); } catch (e) { return; } handle(m); };
  ws.onclose = async () => {
    if (S.ws !== ws) return;
    ds.ws = 'closed';
    if (!S.loggedIn) return;
    $('banner').textContent = t('reconnecting'); $('banner').hidden = false;
    try { const r = await fetch('me', { credentials: 'same-origin' }); if (r.status === 401) { showLogin(); return; } } catch (e) { /* server down: retry */ }
    setTimeout(connect, S.backoff);
    S.backoff = Math.min(S.backoff * 2, 5000);
  };
}
function send(type, body) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) { toast(t('reconnecting')); return ''; }
  const id = 'r' + (++S.seq);
  S.ws.send(JSON.stringify(Object.assign({ type, id }, body || {})));
  S.sent.set(id, type);
  if (S.sent.size > 64) S.sent.delete(S.sent.keys().next().value);
  return id;
}

// whyNot says why a request was refused: by what was asked and the call's state, not only the code.
function whyNot(m) {
  const asked = S.sent.get(m.id) || '';
  if (m.code === 'invalid_state') {
    const k = cur();
    if (asked === 'state.set' && k && /^(connected|held|consulting|consulted|ringing)$/.test(k.status)) return t('why_busy');
    if (/^call\.(hold|resume|transfer|consult|dtmf|mute|unmute)$/.test(asked)) return t('why_not_talking');
    if (asked === 'call.answer' || asked === 'call.reject') return t('why_not_ringing');
    if (asked === 'call.complete') return t('why_not_answered');
    if (asked === 'wrapup.extend') return t('why_wrapup_over');
  }
  return t(m.code) !== m.code ? t(m.code) : (t('error') + ': ' + m.message);
}

function handle(m) {
  const c = m.call && typeof m.call === 'object' ? m.call : null;
  switch (m.type) {
    case 'hello':
      S.iceServers = m.ice_servers || [];
      if (!S.replaced && (!S.pc || S.pc.connectionState !== 'connected')) negotiate();
      if (!S.monitor) send('calls.today.get');
      break;
    case 'answer':
      if (S.pc && m.id === S.offerID) S.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((e) => toast(String(e)));
      break;
    case 'state': {
      S.agentState = m.state; S.pauseNext = m.pause_next || '';
      // An ended call kept for a wrap-up that did not come (the agent is free again) goes.
      const k = cur();
      if (k && k.status === 'ended' && !S.wrapup && (m.state === 'available' || m.state === 'paused')) {
        S.calls.delete(S.current); S.current = '';
      }
      break;
    }
    case 'call.ringing':
      // consult: a colleague asks about their caller; answering talks to the colleague, not the caller.
      S.calls.set(c.id, { info: c, status: 'ringing', from: m.consult || null,
        ringUntil: m.ring_seconds ? Date.now() + m.ring_seconds * 1000 : 0 }); S.current = c.id;
      if ($('auto-answer').checked && send('call.answer', { call: c.id })) startAudioClock(c.id);
      break;
    case 'call.connected': {
      const k = S.calls.get(m.call) || { info: m.info || { id: m.call } };
      if (m.info) k.info = m.info;
      if (m.consult) { k.from = m.consult; k.status = 'consulted'; } else {
        if (k.from && k.status === 'consulted') toast(t('consult_done')); // the transfer completed: the call is ours
        k.from = null; k.status = 'connected';
      }
      if (!k.since) k.since = Date.now();
      S.calls.set(m.call, k); S.current = m.call; S.muted = false; break;
    }
    case 'call.held': setStatus(m.call, 'held'); break;
    case 'call.resumed': setStatus(m.call, 'connected'); break;
    case 'call.muted': S.muted = true; break;
    case 'call.unmuted': S.muted = false; break;
    case 'call.consulting': {
      const k = S.calls.get(m.call);
      if (k) { k.status = 'consulting'; k.target = m.target || null; k.colleague = m.agent || null; k.answered = !!m.answered; }
      break;
    }
    case 'call.consult_ended': {
      const k = S.calls.get(m.call);
      if (k) { k.colleague = null; k.answered = false; }
      toast(tw('consult_' + m.reason, m.agent));
      break;
    }
    case 'call.ended':
      if (typeof m.reason === 'string' && m.reason.startsWith('consult:')) toast(t('consult_over'));
      else if (m.reason === 'answered_elsewhere' || m.reason === 'callback_no_answer') toast(t(m.reason));
    {
      // A call that was talked on ends in wrap-up: its screen pop stays until the wrap-up is done,
      // so the agent sees whose call they write up. One that only rang goes.
      const k = S.calls.get(m.call);
      const talked = k && k.since && k.status !== 'ringing' && !k.from && !String(m.reason || '').startsWith('consult:');
      setStatus(m.call, 'ended');
      if (S.current === m.call && !S.wrapup && !talked) { S.calls.delete(m.call); S.current = ''; }
      break;
    }
    case 'wrapup.started': openWrapup(m); break;
    case 'wrapup.extended':
      if (S.wrapup && S.wrapup.call === m.call) S.wrapup.until = Date.now() + m.seconds * 1000;
      break;
    case 'wrapup.ended':
      S.calls.delete(m.call); if (S.current === m.call) S.current = '';
      if (S.wrapup && S.wrapup.call === m.call) closeWrapup();
      send('calls.today.get');
      break;
    case 'session.replaced':
      // Another tab of this agent took the audio: stand down instead of taking it back.
      S.replaced = true; if (S.pc) { S.pc.close(); S.pc = null; } ds.pc = 'replaced'; $('replaced').hidden = false;
      break;
    case 'calls.today': renderCalls(m.calls || []); break;
    case 'stats': S.stats = m; break;
    case 'error':
      ds.lasterror = m.code || 'error';
      toast(whyNot(m));
      break;
  }
  render();
}
function setStatus(id, status) { const k = S.calls.get(id); if (k) k.status = status; }

// ---- WebRTC: one PeerConnection for the shift, renegotiated after a reload or a failure ----
async function negotiate() {
  if (S.pc) { S.pc.close(); }
  const pc = new RTCPeerConnection({ iceServers: S.iceServers });
  S.pc = pc; ds.pc = 'new';
  if (!S.mic) {
    try {
      // Processing off: it distorts a line that Asterisk already treats, and costs ~19 dB on tones.
      S.mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false });
    } catch (e) { toast(t('mic_denied')); }
  }
  if (S.pc !== pc) return;
  const track = S.mic && S.mic.getAudioTracks()[0];
  if (track) { track.enabled = true; pc.addTransceiver(track, { direction: 'sendrecv', streams: [S.mic] }); } else pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (ev) => {
    const a = $('remote-audio');
    a.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    a.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => {
    if (S.pc !== pc) return;
    ds.pc = pc.connectionState;
    if (pc.connectionState === 'failed') setTimeout(() => { if (S.pc === pc && !S.replaced) negotiate(); }, 500);
    if (pc.connectionState === 'disconnected') setTimeout(() => { if (S.pc === pc && !S.replaced && pc.connectionState === 'disconnected') negotiate(); }, 4000);
    render();
  };
  await pc.setLocalDescription(await pc.createOffer());
  // No trickle: send the offer with every candidate (bounded wait: a stuck STUN server must not stall us).
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 3000);
  });
  if (S.pc !== pc) return;
  S.offerID = send('offer', { sdp: pc.localDescription.sdp });
}

// ---- answer to audio: from the agent's answer to the caller's first sound in this page ----
// Measured on the stream the audio element plays (WebAudio reads silence from a remote track that
// no element plays), and reported once per call; the server adds its side (the browser's first
// packet at the leg) and keeps the figure. No audio within 10 s: no report.
const A2A = { ctx: null, an: null, src: null, stream: null, buf: null, call: '', t0: 0, timer: 0, done: new Set() };
S.a2a = {}; // call id → ms, for people debugging and for tests
function audioCtx() {
  // Created or resumed on a gesture where there is one: a context started without one may stay
  // suspended (then an auto-answered call after a reload goes unmeasured).
  if (!A2A.ctx) { try { A2A.ctx = new AudioContext(); } catch (e) { return null; } }
  if (A2A.ctx.state === 'suspended') A2A.ctx.resume().catch(() => {});
  return A2A.ctx;
}
function startAudioClock(call) {
  if (!call || A2A.done.has(call) || A2A.call === call) return;
  stopAudioClock();
  A2A.call = call; A2A.t0 = performance.now();
  A2A.timer = setInterval(probeAudio, 5);
}
function stopAudioClock() { clearInterval(A2A.timer); A2A.timer = 0; A2A.call = ''; }
function probeAudio() {
  const call = A2A.call, ms = performance.now() - A2A.t0;
  const k = S.calls.get(call);
  if (ms > 10000 || !k || k.status === 'ended' || k.status === 'wrapup') { stopAudioClock(); return; }
  const a = $('remote-audio'), ctx = audioCtx();
  if (!ctx || ctx.state !== 'running' || !a.srcObject) return;
  if (A2A.stream !== a.srcObject) { // a new PeerConnection: a new stream
    if (A2A.src) A2A.src.disconnect();
    A2A.an = ctx.createAnalyser(); A2A.an.fftSize = 256; // 5 ms at 48 kHz
    A2A.src = ctx.createMediaStreamSource(a.srcObject); A2A.src.connect(A2A.an);
    A2A.stream = a.srcObject; A2A.buf = new Float32Array(A2A.an.fftSize);
  }
  A2A.an.getFloatTimeDomainData(A2A.buf);
  let sum = 0;
  for (const v of A2A.buf) sum += v * v;
  if (Math.sqrt(sum / A2A.buf.length) < 0.003) return; // below -50 dBFS: not yet
  const r = Math.round(ms * 10) / 10;
  A2A.done.add(call); stopAudioClock(); S.a2a[call] = r;
  send('call.audio', { call, answer_to_audio_ms: r });
}

// ---- actions ----
const cur = () => S.calls.get(S.current);
const act = (type, extra) => { if (S.current) send(type, Object.assign({ call: S.current }, extra || {})); };
function answer() {
  const k = cur();
  if (!k || k.status !== 'ringing') return;
  audioCtx(); // a click or a key: the gesture that lets the audio context run
  act('call.answer'); startAudioClock(S.current);
}
function reject() { const k = cur(); if (k && k.status === 'ringing') act('call.reject'); }
function holdToggle() { const k = cur(); if (!k) return; if (k.status === 'connected') act('call.hold'); else if (k.status === 'held') act('call.resume'); }
function muteToggle() { const k = cur(); if (!k || !['connected', 'consulted'].includes(k.status)) return; act(S.muted ? 'call.unmute' : 'call.mute'); }
function hangup() { const k = cur(); if (k && ['connected', 'held', 'consulting', 'consulted'].includes(k.status)) act('call.hangup'); }
function dtmf(d) { const k = cur(); if (k && k.status === 'connected') act('call.dtmf', { digits: d }); }
function target() { return { kind: $('transfer-kind').value, value: $('transfer-target').value.trim() }; }

$('state-available').addEventListener('click', () => send('state.set', { state: 'available' }));
$('state-pause').addEventListener('click', () => send('state.set', { state: 'paused', reason: $('pause-reason').value || '' }));
$('auto-answer').addEventListener('change', (e) => { if (S.agent) localStorage.setItem('hotline.autoanswer.' + S.agent.id, e.target.checked ? '1' : '0'); });
$('btn-answer').addEventListener('click', answer);
$('btn-reject').addEventListener('click', reject);
$('btn-hold').addEventListener('click', holdToggle);
$('btn-mute').addEventListener('click', muteToggle);
$('btn-hangup').addEventListener('click', hangup);
for (const b of document.querySelectorAll('#keypad [data-digit]')) b.addEventListener('click', () => dtmf(b.dataset.digit));
$('transfer-form').addEventListener('submit', (e) => { e.preventDefault(); if (target().value) act('call.transfer', { target: target() }); });
$('btn-consult').addEventListener('click', () => { if (target().value) act('call.consult', { target: target() }); });
$('btn-complete').addEventListener('click', () => act('call.complete'));
$('btn-cancel-consult').addEventListener('click', () => act('call.cancel'));
$('btn-take-over').addEventListener('click', () => { S.replaced = false; $('replaced').hidden = true; negotiate(); });
$('btn-refresh-calls').addEventListener('click', () => send('calls.today.get'));
$('lang-ru').addEventListener('click', () => setLang('ru'));
$('lang-en').addEventListener('click', () => setLang('en'));

function openWrapup(m) {
  S.wrapup = { call: m.call, until: m.seconds ? Date.now() + m.seconds * 1000 : 0 };
  const k = S.calls.get(m.call) || { info: { id: m.call } };
  k.status = 'wrapup'; S.calls.set(m.call, k); S.current = m.call;
  const sel = $('wrapup-disposition'); sel.textContent = '';
  for (const d of (m.dispositions || (S.agent && S.agent.dispositions) || [])) {
    sel.append(new Option((d.labels && (d.labels[lang] || d.labels.ru)) || d.code, d.code));
  }
  $('wrapup-note').value = '';
  $('wrapup').hidden = false;
  sel.focus();
}
function closeWrapup() { S.wrapup = null; $('wrapup').hidden = true; }
$('wrapup').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!S.wrapup) return;
  send('call.wrapup', { call: S.wrapup.call, disposition: $('wrapup-disposition').value, note: $('wrapup-note').value });
});
function moreWrapup() { if (S.wrapup) send('wrapup.extend', { call: S.wrapup.call, seconds: 30 }); }
$('wrapup-more').addEventListener('click', moreWrapup);
setInterval(() => {
  const el = $('wrapup-timer');
  el.textContent = S.wrapup && S.wrapup.until
    ? t('wrapup_left') + ' ' + Math.max(0, Math.round((S.wrapup.until - Date.now()) / 1000)) + ' ' + t('seconds') : '';
}, 1000);

// ---- keyboard ----
document.addEventListener('keydown', (e) => {
  if (!S.loggedIn) return;
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
  if (e.key === 'Escape') { if (typing) e.target.blur(); return; }
  // Actions take Alt, by the key's place (KeyA is A on a Russian layout too), so a stray letter typed
  // outside a field answers or ends nothing; only the keypad's digits go without it, on a call.
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const act = {
      Digit1: () => $('state-available').click(), Digit2: () => $('state-pause').click(),
      KeyL: () => setLang(lang === 'ru' ? 'en' : 'ru'), KeyA: answer, KeyR: reject, KeyH: holdToggle,
      KeyM: muteToggle, KeyE: hangup, KeyT: () => $('transfer-target').focus(), KeyW: moreWrapup,
    }[e.code];
    if (act) { e.preventDefault(); act(); }
    return;
  }
  if (typing || e.ctrlKey || e.metaKey) return;
  if (e.key === '?') { $('help').open = !$('help').open; }
  else if (/^[0-9*#]$/.test(e.key) && cur() && cur().status === 'connected') dtmf(e.key);
});

// ---- rendering ----
function fmtWait(s) { s = s || 0; return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); }
// fmtNumber writes a Russian number the way people read it (+7 916 093-93-98); others as given.
function fmtNumber(n) {
  const d = String(n || '').replace(/[^0-9]/g, '');
  if (d.length === 11 && (d[0] === '7' || d[0] === '8') && /^\+?[0-9 ()-]+$/.test(String(n))) {
    return `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`;
  }
  return String(n || '');
}
function fmtContact(c) {
  const when = new Date(c.at).toLocaleString(lang === 'en' ? 'en-GB' : 'ru-RU', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const queue = (c.queue_title && (c.queue_title[lang] || c.queue_title.ru)) || c.queue || '';
  const how = t('o_' + c.outcome) + (c.agent_name ? ` (${c.agent_name}${c.talk_seconds ? ', ' + fmtWait(c.talk_seconds) : ''})` : '');
  return [when, queue, how].filter(Boolean).join(' · ');
}
// callTimer is the ring countdown or the talk time of the shown call.
function callTimer(k) {
  if (!k) return '';
  if (k.status === 'ringing' && k.ringUntil) return Math.max(0, Math.ceil((k.ringUntil - Date.now()) / 1000)) + ' ' + t('seconds');
  if (k.since && /^(connected|held|consulting|consulted)$/.test(k.status)) return fmtWait(Math.floor((Date.now() - k.since) / 1000));
  return '';
}
setInterval(() => { $('call-timer').textContent = callTimer(cur()); }, 1000);
function render() {
  ds.state = S.agentState || '';
  $('agent-state').textContent = (S.agentState ? t('st_' + S.agentState) : '') + (S.pauseNext ? ' · ' + t('pause_next') : '');
  ds.pausenext = S.pauseNext || '';
  // On a call, Pause means "after this call", and Ready takes that back.
  $('state-pause').textContent = t(/^(ringing|on_call|wrapup)$/.test(S.agentState) ? 'pause_after' : 'pause');
  const k = cur();
  const st = k ? k.status : '';
  ds.call = k ? S.current : ''; ds.callstatus = st;
  $('no-call').hidden = !!k; $('call-info').hidden = !k;
  const consultIn = !!(k && k.from && (st === 'ringing' || st === 'consulted'));
  $('call-status').textContent = st ? t(consultIn && st === 'ringing' ? 'cs_consult_ringing' : 'cs_' + st) : '';
  $('call-timer').textContent = callTimer(k);
  // Who consults us, or whom we consult: a line of its own, above the caller's screen pop.
  const cl = $('call-consult');
  ds.consult = consultIn ? k.from.agent : '';
  if (consultIn) {
    cl.textContent = tw('consult_from', k.from); cl.hidden = false;
  } else if (k && st === 'consulting' && k.colleague) {
    cl.textContent = tw('consult_with', k.colleague) + ': ' + t(k.answered ? 'consult_talking' : 'consult_ringing'); cl.hidden = false;
  } else { cl.textContent = ''; cl.hidden = true; }
  $('call-card').classList.toggle('consult', consultIn);
  if (k) {
    const i = k.info || {};
    $('call-number').textContent = fmtNumber(i.caller_number);
    // The caller's name when the network or the CRM knows it; no row otherwise.
    const name = $('call-name');
    name.textContent = i.caller_name || '';
    name.hidden = name.previousElementSibling.hidden = !name.textContent;
    $('call-type').textContent = i.caller_type ? t(i.caller_type) : '';
    $('call-queue').textContent = (i.queue_title && (i.queue_title[lang] || i.queue_title.ru)) || i.queue || '';
    $('call-wait').textContent = i.wait_seconds != null ? fmtWait(i.wait_seconds) : '';
    const entered = $('call-entered');
    entered.textContent = Object.entries(i.entered || {}).map(([a, b]) => a + ': ' + b).join(', ');
    // No row for what the caller did not enter.
    entered.hidden = entered.previousElementSibling.hidden = !entered.textContent;
    $('call-path').textContent = (i.ivr_path || []).map((s) => s[lang] || s.ru || '').join('\n');
    // The caller's earlier calls, one a line: when, where, how it went (and with whom).
    const prev = $('call-previous');
    prev.textContent = (i.previous || []).map(fmtContact).join('\n');
    prev.hidden = prev.previousElementSibling.hidden = !prev.textContent;
  }
  const talking = st === 'connected';
  $('btn-answer').disabled = st !== 'ringing';
  $('btn-reject').disabled = st !== 'ringing';
  $('btn-hold').disabled = !(talking || st === 'held');
  $('hold-label').textContent = t(st === 'held' ? 'resume' : 'hold');
  $('btn-mute').disabled = !(talking || st === 'consulted');
  $('mute-label').textContent = t(S.muted ? 'unmute' : 'mute');
  $('btn-hangup').disabled = !(talking || st === 'held' || st === 'consulting' || st === 'consulted');
  for (const b of document.querySelectorAll('#keypad [data-digit]')) b.disabled = !talking;
  $('btn-transfer').disabled = !(talking || st === 'held');
  $('btn-consult').disabled = !(talking || st === 'held');
  // A colleague must answer before the caller can be handed to them; a number's answer is not seen here.
  $('btn-complete').disabled = st !== 'consulting' || !!(k.colleague && !k.answered);
  $('btn-cancel-consult').disabled = st !== 'consulting';
  renderQuality();
}
function renderQuality() {
  let q = 'none';
  const s = S.stats;
  if (S.pc && S.pc.connectionState === 'failed') q = 'poor';
  else if (s && s.call && cur()) {
    const lossOf = (d) => (d && d.packets ? d.lost / (d.packets + d.lost) : 0);
    const loss = Math.max(lossOf(s.to_agent), lossOf(s.from_agent));
    const jit = Math.max((s.to_agent || {}).jitter_ms || 0, (s.from_agent || {}).jitter_ms || 0);
    q = !s.connected || loss > 0.05 || jit > 60 ? 'poor' : loss > 0.01 || jit > 30 ? 'fair' : 'good';
    $('quality').title = 'loss ' + (loss * 100).toFixed(1) + '%, jitter ' + jit.toFixed(1) + ' ms';
  } else if (S.pc && S.pc.connectionState === 'connected') q = 'good';
  $('quality').dataset.q = q;
  $('quality-text').textContent = t('q_' + q);
}
function renderCalls(calls) {
  const tb = $('calls-today').tBodies[0]; tb.textContent = '';
  for (const c of calls) {
    const tr = tb.insertRow();
    const when = c.started_at ? new Date(c.started_at).toLocaleTimeString(lang) : '';
    for (const v of [when, fmtNumber(c.caller_number), c.queue, fmtWait(c.talk_seconds), c.disposition || '']) tr.insertCell().textContent = v;
  }
}

applyLang();
checkSession();
