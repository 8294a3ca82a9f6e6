// Reports page: the figures of past calls from api/reports, as a table and as CSV. Plain JS, ES
// modules, no build step.

import { boardView, fetchRecords } from './records.js';

const I18N = {
  ru: {
    title: 'Отчёты', board: '← Табло', langTitle: 'Switch to English', from: 'С', to: 'По', interval: 'Шаг',
    'i.15m': '15 минут', 'i.30m': '30 минут', 'i.1h': 'час', 'i.day': 'день', 'i.month': 'месяц',
    by: 'По чему', 'b.center': 'весь центр', 'b.queue': 'очереди', 'b.group': 'группы', 'b.agent': 'операторы', group: 'Группа',
    slSec: 'SL, с', shortSec: 'Короткий сброс, с', show: 'Показать', csv: 'Скачать CSV', empty: 'За эти дни звонков нет',
    period: 'Период', queue: 'Очередь', agent: 'Оператор', center: 'Центр', total: 'Итого', none: '(не отвечен)',
    offered: 'Поступило', answered: 'Отвечено', sl: 'SL', abandoned: 'Потеряно', short: 'Коротк. сброс',
    exited: 'Сняты', callbacks: 'Обр. звонок', kept: 'Перезвонили', 'h.kept': 'Обратные звонки, которые состоялись: абонент ответил, оператор поговорил', hold: 'Удержание', 'h.hold': 'Среднее время на удержании на отвеченный звонок', transfers: 'Переводы', asa: 'ASA', aht: 'AHT', fcr24: 'FCR 24 ч', fcr72: 'FCR 72 ч',
    ivr: 'Решено в IVR', 'h.ivr': 'Доля звонков, решённых автоматическим меню без оператора', logged: 'На смене', paused: 'Пауза', occ: 'Занятость', 'h.occ': 'Доля времени в звонках и обработке от времени на смене без пауз',
    'h.sl': 'Отвечено за порог SL от поступивших без коротких сбросов', 'h.asa': 'Среднее ожидание ответа',
    'h.aht': 'Среднее время обработки: разговор и поствызовная работа',
    'h.fcr24': 'Решено с первого обращения: номер не позвонил снова за 24 часа', 'h.fcr72': 'То же за 72 часа',
    'h.exited': 'Сняты из очереди центром: переполнение, сообщение, неудачный обратный звонок',
    login: 'Нужен вход супервизора: войдите на табло и вернитесь.', noRecords: 'Отчётов нет: не настроена база записей (records.postgres).',
    failed: 'Отчёт не получен: ', caption: 'Отчёт с {from} по {to}',
    surveyed: 'Оценок', 'h.surveyed': 'Звонков, оценённых абонентом после разговора (0–10)',
    nps: 'NPS', 'h.nps': 'Индекс лояльности: доля оценок 9–10 минус доля оценок 0–6, в пунктах',
    refused: 'Отклонено', 'h.refused': 'Звонки оператора связи, которые переполненный узел отклонил до IVR (HOTLINE_MAX_CALLS): абонент слышал «занято». Только по центру: у них нет очереди',
  },
  en: {
    title: 'Reports', board: '← Board', langTitle: 'Переключить на русский', from: 'From', to: 'To', interval: 'Step',
    'i.15m': '15 minutes', 'i.30m': '30 minutes', 'i.1h': 'hour', 'i.day': 'day', 'i.month': 'month',
    by: 'Split by', 'b.center': 'the whole center', 'b.queue': 'queue', 'b.group': 'group', 'b.agent': 'agent', group: 'Group',
    slSec: 'SL, s', shortSec: 'Short abandon, s', show: 'Show', csv: 'Download CSV', empty: 'No calls on these days',
    period: 'Period', queue: 'Queue', agent: 'Agent', center: 'Center', total: 'Total', none: '(not answered)',
    offered: 'Offered', answered: 'Answered', sl: 'SL', abandoned: 'Abandoned', short: 'Short aband.',
    exited: 'Exited', callbacks: 'Callbacks', kept: 'Called back', 'h.kept': 'Callbacks carried out: the caller answered and an agent talked', hold: 'Hold', 'h.hold': 'Average time on hold per answered call', transfers: 'Transfers', asa: 'ASA', aht: 'AHT', fcr24: 'FCR 24 h', fcr72: 'FCR 72 h',
    ivr: 'IVR resolved', 'h.ivr': 'Share of calls the menu resolved without an agent', logged: 'On shift', paused: 'Paused', occ: 'Occupancy', 'h.occ': 'Time on calls and wrap-up over time on shift not paused',
    'h.sl': 'Answered within the SL threshold, of those offered less short abandons', 'h.asa': 'Average speed of answer',
    'h.aht': 'Average handle time: talk and wrap-up',
    'h.fcr24': 'First-contact resolution: the number did not call again within 24 hours', 'h.fcr72': 'The same within 72 hours',
    'h.exited': 'Taken out of the queue by the center: overflow, a message, a callback given up',
    login: 'A supervisor login is needed: log in on the board and come back.', noRecords: 'No reports: the records database is not set up (records.postgres).',
    failed: 'The report failed: ', caption: 'Report from {from} to {to}',
    surveyed: 'Ratings', 'h.surveyed': 'Calls the caller rated after the conversation (0–10)',
    nps: 'NPS', 'h.nps': 'Net promoter score: the share of 9–10 ratings less the share of 0–6, in points',
    refused: 'Refused', 'h.refused': 'Carrier calls a full node turned away before the IVR (HOTLINE_MAX_CALLS): the caller heard busy. The whole center only: they have no queue',
  },
};

let lang = localStorage.getItem('hotline.lang') === 'en' ? 'en' : 'ru';
const t = (k) => I18N[lang][k] ?? I18N.ru[k] ?? k;
const $ = (id) => document.getElementById(id);
const names = { queue: new Map(), group: new Map(), agent: new Map() }; // queues' titles and agents' names from the board's view
let last = null; // the last answer, to re-render on a language switch
let cols = []; // the columns the last answer has

// Columns: label key, hint key, value of a row, and whether only the whole center's rows have it.
const pct = (v) => new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'ru-RU', { style: 'percent', maximumFractionDigits: 1 }).format(v);
const num = (v) => new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'ru-RU').format(v);
const secs = (v) => (v ? `${Math.round(v)} ${lang === 'en' ? 's' : 'с'}` : '–');
// hours writes a time on shift as h:mm.
const hours = (v) => (v ? `${Math.floor(v / 3600)}:${String(Math.floor(v / 60) % 60).padStart(2, '0')}` : '–');
// points writes an NPS with its sign, in whole points.
const points = (v) => new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'ru-RU', { signDisplay: 'exceptZero', maximumFractionDigits: 0 }).format(v);
const COLS = [
  ['offered', '', (r) => num(r.offered)],
  ['refused', 'h.refused', (r) => num(r.refused), true],
  ['answered', '', (r) => num(r.answered)],
  ['sl', 'h.sl', (r) => (r.offered - r.short_abandoned > 0 ? pct(r.service_level) : '–')],
  ['abandoned', '', (r) => num(r.abandoned)],
  ['short', '', (r) => num(r.short_abandoned)],
  ['exited', 'h.exited', (r) => num(r.exited)],
  ['callbacks', '', (r) => num(r.callbacks)],
  ['kept', 'h.kept', (r) => num(r.callbacks_kept)],
  ['transfers', '', (r) => num(r.transfers)],
  ['asa', 'h.asa', (r) => (r.answered ? secs(r.asa_seconds) : '–')],
  ['aht', 'h.aht', (r) => (r.answered ? secs(r.aht_seconds) : '–')],
  ['hold', 'h.hold', (r) => (r.answered ? secs(r.hold_seconds) : '–')],
  ['fcr24', 'h.fcr24', (r) => (r.answered ? pct(r.fcr_24h) : '–')],
  ['fcr72', 'h.fcr72', (r) => (r.answered ? pct(r.fcr_72h) : '–')],
  ['ivr', 'h.ivr', (r) => (r.ivr_sessions ? pct(r.ivr_resolution) : '–')],
  ['logged', '', (r) => hours(r.logged_in_seconds)],
  ['paused', '', (r) => hours(r.paused_seconds)],
  ['occ', 'h.occ', (r) => (r.logged_in_seconds - r.paused_seconds > 0 ? pct(r.occupancy) : '–')],
  ['surveyed', 'h.surveyed', (r) => num(r.surveyed)],
  ['nps', 'h.nps', (r) => (r.surveyed ? points(r.nps) : '–')],
];

function applyLang() {
  document.documentElement.lang = lang;
  $('lang').textContent = lang === 'ru' ? 'EN' : 'RU';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = `hotline — ${t('title').toLowerCase()}`;
  if (last) render(last);
}

function period(iso, interval) {
  const d = new Date(iso);
  const loc = lang === 'en' ? 'en-GB' : 'ru-RU';
  if (interval === 'month') return d.toLocaleDateString(loc, { month: 'long', year: 'numeric' });
  if (interval === 'day') return d.toLocaleDateString(loc, { weekday: 'short', day: 'numeric', month: 'short' });
  return d.toLocaleString(loc, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

function keyName(by, key) {
  if (!by) return t('center');
  if (!key) return t('none');
  const n = names[by]?.get(key);
  const name = typeof n === 'object' ? n[lang] || n.ru : n; // a queue's titles by language
  return name ? `${name} (${key})` : key;
}

// total sums the counts and weighs the averages by what they average over.
function total(rows) {
  const s = { offered: 0, refused: 0, answered: 0, answered_in_sl: 0, abandoned: 0, short_abandoned: 0, exited: 0, callbacks: 0, callbacks_kept: 0, held: 0, transfers: 0,
    logged_in_seconds: 0, paused_seconds: 0, busy_seconds: 0, ivr_sessions: 0, ivr_resolved: 0,
    surveyed: 0, promoters: 0, detractors: 0 };
  let asa = 0, aht = 0, hold = 0, fcr24 = 0, fcr72 = 0;
  for (const r of rows) {
    for (const k of Object.keys(s)) s[k] += r[k];
    asa += r.asa_seconds * r.answered; aht += r.aht_seconds * r.answered; hold += r.hold_seconds * r.answered;
    fcr24 += r.fcr_24h * r.answered; fcr72 += r.fcr_72h * r.answered;
  }
  const n = s.offered - s.short_abandoned;
  return { ...s, service_level: n > 0 ? s.answered_in_sl / n : 0,
    asa_seconds: s.answered ? asa / s.answered : 0, aht_seconds: s.answered ? aht / s.answered : 0,
    hold_seconds: s.answered ? hold / s.answered : 0,
    fcr_24h: s.answered ? fcr24 / s.answered : 0, fcr_72h: s.answered ? fcr72 / s.answered : 0,
    ivr_resolution: s.ivr_sessions ? s.ivr_resolved / s.ivr_sessions : 0,
    nps: s.surveyed ? (100 * (s.promoters - s.detractors)) / s.surveyed : 0,
    occupancy: s.logged_in_seconds - s.paused_seconds > 0 ? s.busy_seconds / (s.logged_in_seconds - s.paused_seconds) : 0 };
}

function row(tr, first, second, r) {
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = first;
  tr.append(th);
  const k = document.createElement('td');
  k.textContent = second;
  tr.append(k);
  for (const [, , value] of cols) {
    const td = document.createElement('td');
    td.textContent = value(r);
    tr.append(td);
  }
}

function render(answer) {
  last = answer;
  const head = $('report-head');
  head.replaceChildren();
  for (const label of ['period', answer.by || 'center']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t(label);
    head.append(th);
  }
  cols = COLS.filter(([, , , centerOnly]) => !centerOnly || !answer.by);
  for (const [label, hint] of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t(label);
    if (hint) th.title = t(hint);
    head.append(th);
  }
  const body = $('report-rows');
  body.replaceChildren();
  for (const r of answer.rows) {
    const tr = document.createElement('tr');
    row(tr, period(r.period, answer.interval), keyName(answer.by, r.key), r);
    body.append(tr);
  }
  const foot = $('report-total');
  foot.replaceChildren();
  if (answer.rows.length > 1) {
    const tr = document.createElement('tr');
    row(tr, t('total'), '', total(answer.rows));
    foot.append(tr);
  }
  $('report-empty').hidden = answer.rows.length > 0;
  $('report-caption').textContent = t('caption').replace('{from}', $('from').value).replace('{to}', $('to').value);
}

function params(format) {
  const p = new URLSearchParams();
  for (const id of ['from', 'to', 'interval', 'by', 'sl', 'short']) p.set(id, $(id).value);
  if (format) p.set('format', format);
  return p;
}

async function show() {
  $('csv').href = `api/reports?${params('csv')}`;
  const body = await fetchRecords(`api/reports?${params()}`, $('report-err'), t);
  if (body) render(body);
}

// names reads queue titles and agent names from the board's view, when it answers.
async function loadNames() {
  const view = await boardView();
  if (!view) return;
  for (const q of view.queues || []) if (q.titles) names.queue.set(q.name, q.titles);
  for (const g of view.groups || []) if (g.titles) names.group.set(g.name, g.titles);
  for (const a of view.agents || []) names.agent.set(a.id, a.name);
}

function isoDay(d) {
  const z = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}`;
}

$('from').value = $('from').value || isoDay(new Date(Date.now() - 6 * 86400e3));
$('to').value = $('to').value || isoDay(new Date());
$('report-form').addEventListener('submit', (e) => { e.preventDefault(); show(); });
$('lang').addEventListener('click', () => {
  lang = lang === 'ru' ? 'en' : 'ru';
  localStorage.setItem('hotline.lang', lang);
  applyLang();
});
applyLang();
loadNames().finally(show);
