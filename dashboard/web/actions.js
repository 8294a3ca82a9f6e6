// Stepping in: listen, whisper, barge, move, pause; and the controls beside them.

import { showLogin } from './feed.js';
import { I18N, lang, qtitle, t } from './i18n.js';
import { renderAgents } from './render.js';
import { selectedAgent, selectedCall } from './selection.js';
import { B, shown } from './state.js';
import { $ } from './util.js';

let toastTimer = 0;
export function toast(msg, isErr) {
  const el = $('toast');
  el.textContent = msg;
  el.className = 'toast' + (isErr ? ' err' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.textContent = ''; }, 5000);
}

export async function post(path, body) {
  const res = await fetch('api/' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = {};
  try { data = await res.json(); } catch { /* empty body */ }
  if (res.status === 401 && path !== 'login') showLogin();
  if (!res.ok) {
    // The server's reason is English and for the log; the supervisor reads why in the page's language.
    const msg = I18N[lang]['e.' + res.status] || t('e.other');
    throw Object.assign(new Error(msg), { status: res.status, reason: data.error, retryAfter: res.headers.get('Retry-After') });
  }
  return data;
}

export async function act(path, body, label) {
  try {
    await post(path, body);
    toast(`${label}: ${t('done')}`);
  } catch (err) {
    toast(`${label}: ${err.message}`, true);
    $('toast').title = err.reason || '';
  }
}

export function doAction(a) {
  const call = selectedCall(), agent = selectedAgent();
  switch (a) {
    case 'listen': case 'whisper': case 'barge': case 'leave': {
      const id = call?.c.id || agent?.callId;
      if (!id) return toast(t('noCall'), true);
      return act(a, { call: id }, t(a));
    }
    case 'move': {
      if (!call) return toast(t('notCall'), true);
      const sel = $('move-queue');
      sel.replaceChildren(...B.view.queues.filter((q) => q.name !== call.q.name).map((q) => {
        const o = document.createElement('option');
        o.value = q.name; o.textContent = qtitle(q);
        return o;
      }));
      return ask($('move-dlg'), sel, () => act('move', { call: call.c.id, queue: sel.value }, t('move')));
    }
    case 'pause': case 'logout': {
      if (!agent) return toast(t('notAgent'), true);
      $('pause-title').textContent = `${t(a === 'pause' ? 'pauseTitle' : 'logoutTitle')}: ${agent.name}`;
      const reason = $('pause-reason');
      reason.value = '';
      return ask($('pause-dlg'), reason, () => act('agent-state',
        { agent: agent.id, state: a === 'pause' ? 'paused' : 'offline', reason: reason.value || B.supervisor },
        t(a === 'pause' ? 'forcePause' : 'forceLogout')));
    }
    case 'available':
      if (!agent) return toast(t('notAgent'), true);
      return act('agent-state', { agent: agent.id, state: 'available', reason: '' }, t('forceAvailable'));
  }
}

// ask opens a dialog and runs then() when it closes with OK; focus goes back where it was.
export function ask(dlg, first, then) {
  const back = document.activeElement;
  dlg.returnValue = '';
  dlg.showModal();
  first.focus();
  dlg.addEventListener('close', () => {
    back?.focus?.();
    if (dlg.returnValue === 'ok') then();
  }, { once: true });
}
// Enter in a dialog's text field means OK.
for (const id of ['pause-dlg', 'move-dlg']) {
  $(id).addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.target.tagName !== 'BUTTON') { ev.preventDefault(); $(id).close('ok'); }
  });
}

for (const b of document.querySelectorAll('.buttons button')) b.addEventListener('click', () => doAction(b.dataset.act));

$('announcement').addEventListener('change', async (ev) => {
  const kind = ev.target.value;
  try {
    await post('announcement', { kind });
    toast(`${t('announcement')}: ${t('ann.' + kind)}`);
  } catch (err) {
    toast(`${t('announcement')}: ${err.message}`, true);
    if (B.view) ev.target.value = B.view.announcement;
  }
});

for (const [id, key, store] of [['f-state', 'state', 'hotline.f.state'], ['f-group', 'group', 'hotline.f.group'],
  ['f-queue', 'queue', 'hotline.f.queue'], ['group-by', 'by', 'hotline.groupBy'], ['order', 'order', 'hotline.order']]) {
  const sel = $(id);
  sel.dataset.f = key;
  if (sel.options.length) sel.value = shown[key];
  sel.addEventListener('change', () => {
    shown[key] = sel.value;
    localStorage.setItem(store, sel.value);
    if (B.view) renderAgents(B.view.agents);
  });
}

$('find').addEventListener('input', (ev) => {
  B.findText = ev.target.value.trim().toLowerCase();
  if (B.view) renderAgents(B.view.agents);
});
$('find').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    document.querySelector('.ag:not(.dim)')?.focus();
  }
});
