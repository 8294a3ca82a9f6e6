// Recordings page: supervisors find call recordings by the caller's number, agent, queue and time
// (api/recordings) and play them here (api/recordings/{id}/audio, each listen audited). Plain JS,
// ES modules (records.js shared with the reports page), no build step.

import { boardView, fetchRecords } from './records.js';

const I18N = {
  ru: {
    title: 'Записи разговоров', board: '← Табло', langTitle: 'Switch to English', number: 'Номер звонившего',
    agent: 'Оператор', queue: 'Очередь', anyQueue: 'любая', from: 'С', to: 'По', find: 'Найти',
    pick: 'Выберите запись в таблице (Enter или «Слушать»)', started: 'Начало', caller: 'Звонивший',
    duration: 'Длительность', listen: 'Слушать', empty: 'Записей не найдено',
    hint: 'Каждое прослушивание записывается в журнал аудита.', playing: 'Запись {id}: {caller}, {agent}, {started}',
    login: 'Нужен вход супервизора: войдите на табло и вернитесь.',
    noRecords: 'Записей нет: не настроена база записей (records.postgres).', failed: 'Поиск не удался: ',
    unknown: 'идёт или не завершена',
  },
  en: {
    title: 'Call recordings', board: '← Board', langTitle: 'Переключить на русский', number: 'Caller number',
    agent: 'Agent', queue: 'Queue', anyQueue: 'any', from: 'From', to: 'To', find: 'Find',
    pick: 'Pick a recording in the table (Enter or “Listen”)', started: 'Started', caller: 'Caller',
    duration: 'Duration', listen: 'Listen', empty: 'No recordings found',
    hint: 'Every listen is written to the audit log.', playing: 'Recording {id}: {caller}, {agent}, {started}',
    login: 'A supervisor login is needed: log in on the board and come back.',
    noRecords: 'No recordings: the records database is not set up (records.postgres).', failed: 'The search failed: ',
    unknown: 'running or unfinished',
  },
};

let lang = localStorage.getItem('hotline.lang') === 'en' ? 'en' : 'ru';
const t = (k) => I18N[lang][k] ?? I18N.ru[k] ?? k;
const $ = (id) => document.getElementById(id);
const queues = new Map(); // queue name → titles by language, from the board's view
const agents = new Map(); // agent id → name
let last = null; // the last answer, to re-render on a language switch
let current = null; // the recording in the player

const loc = () => (lang === 'en' ? 'en-GB' : 'ru-RU');
const when = (iso) => new Date(iso).toLocaleString(loc(), { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const length = (s) => (s == null ? t('unknown') : `${Math.floor(s / 60)}:${String(Math.round(s) % 60).padStart(2, '0')}`);
const queueName = (q) => { const n = queues.get(q); return n ? `${n[lang] || n.ru} (${q})` : q; };
const agentName = (a) => (agents.get(a) ? `${agents.get(a)} (${a})` : a);

function applyLang() {
  document.documentElement.lang = lang;
  $('lang').textContent = lang === 'ru' ? 'EN' : 'RU';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = `hotline — ${t('title').toLowerCase()}`;
  for (const opt of $('queue').options) if (opt.value) opt.textContent = queueName(opt.value);
  if (last) render(last);
  if (current) nowPlaying(current);
}

function nowPlaying(r) {
  $('now-playing').textContent = t('playing').replace('{id}', r.id).replace('{caller}', r.caller)
    .replace('{agent}', agentName(r.agent)).replace('{started}', when(r.started));
}

function play(r) {
  current = r;
  const player = $('player');
  player.src = r.audio;
  nowPlaying(r);
  player.focus();
  player.play().catch(() => {}); // a browser may want a gesture first; the controls are there
}

function render(answer) {
  last = answer;
  const body = $('rec-rows');
  body.replaceChildren();
  for (const r of answer.recordings) {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = when(r.started);
    tr.append(th);
    for (const v of [r.caller, agentName(r.agent), queueName(r.queue), length(r.duration_sec)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    const td = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'listen';
    b.textContent = t('listen');
    b.addEventListener('click', () => play(r));
    td.append(b);
    tr.append(td);
    body.append(tr);
  }
  $('rec-empty').hidden = answer.recordings.length > 0;
}

function params() {
  const p = new URLSearchParams();
  for (const id of ['number', 'agent', 'queue', 'from', 'to']) {
    const v = $(id).value.trim();
    if (v) p.set(id, v);
  }
  return p;
}

async function find() {
  const p = params();
  history.replaceState(null, '', `?${p}`);
  const body = await fetchRecords(`api/recordings?${p}`, $('rec-err'), t);
  if (body) render(body);
}

// names reads queue titles and agent names from the board's view, when it answers.
async function loadNames() {
  const view = await boardView();
  if (!view) return;
  for (const q of view.queues || []) {
    queues.set(q.name, q.titles || { ru: q.name });
    const opt = document.createElement('option');
    opt.value = q.name;
    opt.textContent = queueName(q.name);
    $('queue').append(opt);
  }
  for (const a of view.agents || []) {
    agents.set(a.id, a.name);
    const opt = document.createElement('option');
    opt.value = a.id;
    opt.label = a.name;
    $('agents').append(opt);
  }
}

// The query in the address, so a search can be linked and reloaded.
const start = new URLSearchParams(location.search);
for (const id of ['number', 'agent', 'from', 'to']) if (start.get(id)) $(id).value = start.get(id);

$('rec-form').addEventListener('submit', (e) => { e.preventDefault(); find(); });
$('lang').addEventListener('click', () => {
  lang = lang === 'ru' ? 'en' : 'ru';
  localStorage.setItem('hotline.lang', lang);
  applyLang();
});
// "/" goes to the number field (as on the board), Escape stops the player.
document.addEventListener('keydown', (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing) { e.preventDefault(); $('number').focus(); }
  if (e.key === 'Escape') $('player').pause();
});
applyLang();
loadNames().then(() => {
  if (start.get('queue')) $('queue').value = start.get('queue');
  applyLang();
  find();
});
