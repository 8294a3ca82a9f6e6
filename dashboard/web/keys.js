// The keyboard.

import { doAction } from './actions.js';
import { toggleDense, toggleLang } from './lang.js';
import { renderCalls } from './render.js';
import { focusRegion, moveFocus, regionOf } from './selection.js';
import { B } from './state.js';
import { $ } from './util.js';

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
        B.queueFilter = B.queueFilter === el.dataset.queue ? '' : el.dataset.queue;
        if (B.view) renderCalls(B.view.queues);
      }
      break;
    case 'Escape':
      if (B.queueFilter) { B.queueFilter = ''; if (B.view) renderCalls(B.view.queues); }
      break;
    default: return;
  }
  ev.preventDefault();
});
