// Logging in and out, and opening the desk.

import { $, ds } from './dom.js';
import { setLanguage, t } from './i18n.js';
import { S } from './state.js';
import { audioCtx } from './audio.js';
import { applyLang } from './render.js';
import { connect } from './signaling.js';

export async function checkSession() {
  const r = await fetch('me', { credentials: 'same-origin' });
  if (r.ok) { const j = await r.json(); startDesk(j.agent); } else showLogin();
}
export function showLogin() {
  S.loggedIn = false; $('desk').hidden = true; $('btn-logout').hidden = true; $('login').hidden = false;
  $('login-agent').focus();
}
$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  audioCtx(); // the login click is a gesture: the context that measures call audio may run
  $('login-error').textContent = '';
  try {
    const r = await fetch('login', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: $('login-agent').value.trim(), password: $('login-password').value }),
    });
    if (r.status === 401) { $('login-error').textContent = t('bad_credentials'); return; }
    if (r.status === 429) { $('login-error').textContent = t('throttled').replace('{n}', r.headers.get('Retry-After') || '60'); return; }
    if (r.status === 503) { $('login-error').textContent = t('busy'); return; }
    if (!r.ok) { $('login-error').textContent = t('login_failed'); return; }
    $('login-password').value = '';
    startDesk((await r.json()).agent);
  } catch (e) { $('login-error').textContent = t('login_failed'); }
});
$('btn-logout').addEventListener('click', async () => {
  S.loggedIn = false;
  await fetch('logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  if (S.ws) S.ws.close();
  if (S.pc) { S.pc.close(); S.pc = null; }
  ds.pc = 'none';
  showLogin();
});

function startDesk(agent) {
  S.agent = agent; S.loggedIn = true;
  // A supervisor's or administrator's softphone only monitors: no state, no calls of its own.
  S.monitor = !!agent.role && agent.role !== 'agent';
  ds.role = agent.role || 'agent';
  for (const id of ['state-card', 'call-card', 'calls-card', 'help']) $(id).hidden = S.monitor;
  $('monitor-note').hidden = !S.monitor;
  if (!localStorage.getItem('hotline.lang') && agent.lang) setLanguage(agent.lang);
  $('agent-name').textContent = agent.name || agent.id;
  $('login').hidden = true; $('desk').hidden = false; $('btn-logout').hidden = false;
  const aa = localStorage.getItem('hotline.autoanswer.' + agent.id);
  $('auto-answer').checked = aa === null ? !!agent.auto_answer : aa === '1';
  const pr = $('pause-reason'); pr.textContent = '';
  for (const r of (agent.pause_reasons || [])) pr.append(new Option(r, r));
  pr.hidden = pr.options.length === 0;
  applyLang();
  connect();
}
