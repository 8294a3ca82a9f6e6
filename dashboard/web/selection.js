// What the supervisor has selected, and moving it with the keys.

import { qtitle, reasonText, t } from './i18n.js';
import { B } from './state.js';
import { $, agentTiles, dur, groupTitle, ms, phone, queueTitle } from './util.js';

export function selectedCall() {
  if (!B.view || B.selected?.kind !== 'call') return null;
  for (const q of B.view.queues) for (const c of q.calls) if (c.id === B.selected.id) return { q, c };
  return null;
}
export function selectedAgent() {
  if (B.selected?.kind !== 'agent') return null;
  return agentTiles.get(B.selected.id)?.agent ?? null;
}

export function renderSelection() {
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

export function select(kind, id, el) {
  const prev = document.querySelector('[aria-selected="true"]');
  if (prev && prev !== el) prev.removeAttribute('aria-selected');
  el?.setAttribute('aria-selected', 'true');
  B.selected = { kind, id };
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
export function items(region) {
  if (region === 'queues') return [...$('queues').children];
  if (region === 'calls') return [...$('calls').children];
  return [...$('agents').querySelectorAll('.ag')];
}
export function regionOf(el) {
  if (el?.dataset?.queue) return 'queues';
  if (el?.dataset?.call) return 'calls';
  if (el?.dataset?.agent) return 'agents';
  return null;
}
export function focusRegion(region) {
  const list = items(region);
  const cur = list.find((e) => e.getAttribute('aria-selected') === 'true');
  (cur || list[0])?.focus();
}
export function columns() {
  const g = document.querySelector('.tiles');
  return g ? getComputedStyle(g).gridTemplateColumns.split(' ').length : 1;
}
export function moveFocus(el, key) {
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
