// The keyboard: actions take Alt, so a stray letter typed outside a field does nothing.

import { $ } from './dom.js';
import { lang } from './i18n.js';
import { S, cur } from './state.js';
import { setLang } from './render.js';
import { answer, reject, holdToggle, muteToggle, hangup, dtmf, moreWrapup } from './actions.js';

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
