// Drawing the page from what it knows.

import { $, ds } from './dom.js';
import { I18N, lang, setLanguage, t, tw } from './i18n.js';
import { S, cur } from './state.js';

export function applyLang() {
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
export function setLang(l) { setLanguage(l); localStorage.setItem('hotline.lang', l); applyLang(); }

function fmtWait(s) { s = s || 0; return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); }
// fmtNumber writes a Russian number the way people read it (+7 916 093-93-98); others as given.
function fmtNumber(n) {
  const d = String(n || '').replace(/[^0-9]/g, '');
  if (d.length === 11 && (d[0] === '7' || d[0] === '8') && /^\+?[0-9 ()-]+$/.test(String(n))) {
    return `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`;
  }
  return String(n || '');
}
// dispositionLabel is a wrap-up code's label in the agent's dispositions, in the page's language.
function dispositionLabel(code) {
  const d = ((S.agent && S.agent.dispositions) || []).find((x) => x.code === code);
  return code ? (d && d.labels && (d.labels[lang] || d.labels.ru)) || code : '';
}
function fmtContact(c) {
  const when = new Date(c.at).toLocaleString(lang === 'en' ? 'en-GB' : 'ru-RU', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const queue = (c.queue_title && (c.queue_title[lang] || c.queue_title.ru)) || c.queue || '';
  const how = t('o_' + c.outcome) + (c.agent_name ? ` (${c.agent_name}${c.talk_seconds ? ', ' + fmtWait(c.talk_seconds) : ''})` : '');
  return [when, queue, how, dispositionLabel(c.disposition)].filter(Boolean).join(' · ');
}
// callTimer is the ring countdown or the talk time of the shown call.
function callTimer(k) {
  if (!k) return '';
  if (k.status === 'ringing' && k.ringUntil) return Math.max(0, Math.ceil((k.ringUntil - Date.now()) / 1000)) + ' ' + t('seconds');
  if (k.since && /^(connected|held|consulting|consulted)$/.test(k.status)) return fmtWait(Math.floor((Date.now() - k.since) / 1000));
  return '';
}
setInterval(() => { $('call-timer').textContent = callTimer(cur()); }, 1000);
export function render() {
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
    entered.textContent = Object.entries(i.entered || {}).map(([a, b]) => t('f_' + a) + ': ' + b).join(', ');
    // No row for what the caller did not enter.
    entered.hidden = entered.previousElementSibling.hidden = !entered.textContent;
    $('call-path').textContent = (i.ivr_path || []).map((s) => s[lang] || s.ru || '').join('\n');
    // The caller's earlier calls, one a line: when, where, how it went (and with whom).
    const prev = $('call-previous');
    prev.textContent = (i.previous || []).map(fmtContact).join('\n');
    prev.hidden = prev.previousElementSibling.hidden = !prev.textContent;
    // The caller agreed to rate the call: the agent knows a score follows their hangup.
    const sv = $('call-survey');
    sv.hidden = sv.previousElementSibling.hidden = !i.survey;
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
export function renderCalls(calls) {
  const tb = $('calls-today').tBodies[0]; tb.textContent = '';
  for (const c of calls) {
    const tr = tb.insertRow();
    const when = c.started_at ? new Date(c.started_at).toLocaleTimeString(lang) : '';
    const queue = (c.queue_title && (c.queue_title[lang] || c.queue_title.ru)) || c.queue;
    for (const v of [when, fmtNumber(c.caller_number), queue, fmtWait(c.talk_seconds), dispositionLabel(c.disposition)]) tr.insertCell().textContent = v;
  }
}
