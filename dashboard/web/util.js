// Small helpers: elements, keyed lists, clocks, names and numbers.

import { qtitle } from './i18n.js';
import { B } from './state.js';

export const STATES = ['available', 'ringing', 'on_call', 'consult', 'wrap_up', 'paused', 'offline'];
export const $ = (id) => document.getElementById(id);


export const titled = (list, name) => { const x = list?.find((e) => e.name === name); return x ? qtitle(x) : name; };
export const queueTitle = (name) => titled(B.view?.queues, name);
export const groupTitle = (name) => titled(B.view?.groups, name);
// shortName is "Анна С." for "Анна Смирнова": what fits on a tile of 500.
export function shortName(n) {
  const p = (n || '').trim().split(/\s+/);
  return p.length > 1 ? `${p[0]} ${p[p.length - 1][0]}.` : p[0] || '';
}
// phone formats a Russian number as +7 916 093-93-98; anything else as given.
export function phone(n) {
  const d = (n || '').replace(/\D/g, '');
  const m = /^[78]?(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(d.length === 11 || d.length === 10 ? d : '');
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : n || '';
}


// Each entry: {el, s: last written values, since: moment for the clock or 0, clockEl}.
export const queueRows = new Map();
export const callRows = new Map();
export const agentTiles = new Map();
export const groups = new Map();

export function setText(e, key, el, v) {
  if (e.s[key] !== v) { e.s[key] = v; el.textContent = v; }
}
export function setAttr(e, key, el, name, v) {
  if (e.s[key] !== v) { e.s[key] = v; el.setAttribute(name, v); }
}

// reconcile puts the entries for items into container in order, creating and removing as needed.
export function reconcile(container, cache, items, keyOf, create, update) {
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

export function cells(tr, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(tr.appendChild(document.createElement('td')));
  return out;
}


export const now = () => Date.now() + B.offset;
export function dur(sinceMs) {
  if (!sinceMs) return '–';
  let s = Math.max(0, Math.floor((now() - sinceMs) / 1000));
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(s).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
export const ms = (iso) => (iso ? Date.parse(iso) : 0);

export function tickClocks() {
  for (const cache of [queueRows, callRows, agentTiles]) {
    for (const e of cache.values()) if (e.clockEl) setText(e, 'clock', e.clockEl, dur(e.since));
  }
  // A queue whose head waits past the target stands out, as soon as it does.
  for (const e of queueRows.values()) {
    setAttr(e, 'hi', e.el, 'class', e.since && now() - e.since > e.targetMs ? 'hi' : '');
  }
  if (B.view) $('t-longest').textContent = dur(ms(B.view.totals.oldestSince));
}
