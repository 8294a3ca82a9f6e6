// What the buttons do.

import { $ } from './dom.js';
import { lang, t } from './i18n.js';
import { S, cur } from './state.js';
import { send } from './signaling.js';
import { negotiate } from './rtc.js';
import { audioCtx, startAudioClock } from './audio.js';
import { setLang } from './render.js';

const act = (type, extra) => { if (S.current) send(type, Object.assign({ call: S.current }, extra || {})); };
export function answer() {
  const k = cur();
  if (!k || k.status !== 'ringing') return;
  audioCtx(); // a click or a key: the gesture that lets the audio context run
  act('call.answer'); startAudioClock(S.current);
}
export function reject() { const k = cur(); if (k && k.status === 'ringing') act('call.reject'); }
export function holdToggle() { const k = cur(); if (!k) return; if (k.status === 'connected') act('call.hold'); else if (k.status === 'held') act('call.resume'); }
export function muteToggle() { const k = cur(); if (!k || !['connected', 'consulted'].includes(k.status)) return; act(S.muted ? 'call.unmute' : 'call.mute'); }
export function hangup() { const k = cur(); if (k && ['connected', 'held', 'consulting', 'consulted'].includes(k.status)) act('call.hangup'); }
export function dtmf(d) { const k = cur(); if (k && k.status === 'connected') act('call.dtmf', { digits: d }); }
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

export function openWrapup(m) {
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
export function closeWrapup() { S.wrapup = null; $('wrapup').hidden = true; }
$('wrapup').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!S.wrapup) return;
  send('call.wrapup', { call: S.wrapup.call, disposition: $('wrapup-disposition').value, note: $('wrapup-note').value });
});
export function moreWrapup() { if (S.wrapup) send('wrapup.extend', { call: S.wrapup.call, seconds: 30 }); }
$('wrapup-more').addEventListener('click', moreWrapup);
setInterval(() => {
  const el = $('wrapup-timer');
  el.textContent = S.wrapup && S.wrapup.until
    ? t('wrapup_left') + ' ' + Math.max(0, Math.round((S.wrapup.until - Date.now()) / 1000)) + ' ' + t('seconds') : '';
}, 1000);
