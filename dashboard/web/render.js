// Drawing the board from the view: totals, queues, waiting calls, agents. Incremental: each row and
// tile is made once and only what changed is written.

import { lang, qtitle, reasonText, t } from './i18n.js';
import { renderSelection } from './selection.js';
import { B, shown } from './state.js';
import { $, STATES, agentTiles, callRows, cells, groupTitle, groups, ms, phone, queueRows, queueTitle, reconcile, setAttr, setText, shortName, tickClocks } from './util.js';

let renderQueued = false;
export function scheduleRender() {
  if (!renderQueued) { renderQueued = true; requestAnimationFrame(render); }
}

export const pct = (v) => (v == null ? '–' : `${Math.round(v)}%`);

export function render() {
  renderQueued = false;
  if (!B.view) return;
  const v = B.view;
  $('t-waiting').textContent = v.totals.waiting;
  $('t-sl').textContent = pct(v.totals.serviceLevel);
  $('t-offered').textContent = v.totals.offered;
  $('t-answered').textContent = v.totals.answered;
  $('t-abandoned').textContent = v.totals.abandoned;
  // Only a node with a ceiling refuses anyone; where none is set, the figure would be a 0 forever.
  $('t-refused').textContent = v.totals.refused;
  $('t-refused-box').hidden = !v.totals.refused;
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

export function renderStateCounts(ul, counts, withLabels) {
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


export function renderQueues(queues) {
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

export function renderCalls(queues) {
  const items = [];
  for (const q of queues) {
    if (B.queueFilter && q.name !== B.queueFilter) continue;
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
    // What the caller gave the IVR, worded in the page's language.
    const sum = [it.c.lang && t('l.' + it.c.lang), it.c.callerType && t('ct.' + it.c.callerType),
      ...Object.entries(it.c.entered || {}).map(([k, v]) => `${t('f.' + k)} ${v}`)].filter(Boolean).join(' · ');
    setText(e, 'sum', e.c[5], sum);
    setAttr(e, 'sumt', e.c[5], 'title', sum);
  });
  $('no-calls').hidden = items.length > 0;
  $('calls-filter').textContent = B.queueFilter ? `— ${queueTitle(B.queueFilter)}` : '';
  // The priority column only when some caller has one.
  $('calls-table').classList.toggle('no-prio', !items.some((it) => it.c.priority));
}

// agentKey is the section an agent is shown in, by the page's grouping.
export function sectionOf(a) {
  switch (shown.by) {
    case 'state': return a.state;
    case 'queue': return a.queue || '';
    case 'none': return '*';
    default: return a.group;
  }
}
export function sectionTitle(k) {
  switch (shown.by) {
    case 'state': return t('st.' + k);
    case 'queue': return k ? queueTitle(k) : t('noQueue');
    case 'none': return t('agents');
    default: return groupTitle(k) || '—';
  }
}
export const ORDER = {
  id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  name: (a, b) => (a.name || a.id).localeCompare(b.name || b.id, lang) || ORDER.id(a, b),
  since: (a, b) => ms(a.since) - ms(b.since) || ORDER.id(a, b),
};
export function visible(a) {
  return (!shown.state || a.state === shown.state) && (!shown.group || a.group === shown.group) &&
    (!shown.queue || a.queue === shown.queue);
}

export function renderAgents(agents) {
  const sections = new Map();
  if (shown.by === 'group') for (const g of B.view?.groups || []) sections.set(g.name, []);
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
export function renderFilters() {
  const fill = (sel, all, opts) => {
    const key = lang + all + opts.map((o) => o[0] + o[1]).join();
    if (sel.dataset.k === key) return;
    sel.dataset.k = key;
    const cur = sel.value || shown[sel.dataset.f];
    sel.replaceChildren(new Option(t(all), ''), ...opts.map(([v, label]) => new Option(label, v)));
    sel.value = opts.some(([v]) => v === cur) ? cur : '';
  };
  fill($('f-state'), 'allStates', STATES.map((s) => [s, t('st.' + s)]));
  fill($('f-group'), 'allGroups', (B.view?.groups || []).map((g) => [g.name, qtitle(g)]));
  fill($('f-queue'), 'allQueues', (B.view?.queues || []).map((q) => [q.name, qtitle(q)]));
}

export function matches(a) {
  if (!B.findText) return true;
  return (a.name || '').toLowerCase().includes(B.findText) || a.id.toLowerCase().includes(B.findText);
}
