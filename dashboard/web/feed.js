// The session and the live feed.

import { post } from './actions.js';
import { t } from './i18n.js';
import { applyLang } from './lang.js';
import { scheduleRender } from './render.js';
import { renderSelection } from './selection.js';
import { B } from './state.js';
import { $, tickClocks } from './util.js';

export function showLogin() {
  const dlg = $('login-dlg');
  if (!dlg.open) dlg.showModal();
  $('login-id').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const info = await post('login', { account: $('login-id').value.trim(), password: $('login-pw').value });
    $('login-pw').value = '';
    $('login-err').textContent = '';
    $('login-dlg').close();
    started(info);
  } catch (err) {
    $('login-err').textContent = err.status === 401 ? t('wrongPw')
      : err.status === 429 ? t('throttled').replace('{n}', err.retryAfter || '60') : err.message;
    $('login-pw').value = '';
    $('login-pw').focus();
  }
});
$('login-dlg').addEventListener('cancel', (ev) => ev.preventDefault()); // Esc does not skip login

$('logout').addEventListener('click', async () => {
  await post('logout', {}).catch(() => {});
  location.reload();
});

export function started(info) {
  B.session = info;
  B.supervisor = info.account || '';
  $('who').textContent = info.name ? `${info.name} (${B.supervisor})` : B.supervisor;
  $('who').title = t('softphoneHint');
  // The announcement switch is an administrator's: a supervisor sees it, and cannot change it.
  $('announcement').disabled = !info.canAnnounce;
  $('announcement').title = info.canAnnounce ? '' : t('adminOnly');
  $('logout').hidden = !info.authenticated;
  connect();
}

let ws = null, retry = 0;
export function connect() {
  if (ws) return;
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  $('conn').dataset.state = 'connecting';
  ws = new WebSocket(url);
  ws.onopen = () => { retry = 0; $('conn').dataset.state = 'open'; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'view') {
      B.offset = Date.parse(msg.now) - Date.now();
      B.view = msg.view;
      $('stale').hidden = true;
      scheduleRender();
    } else if (msg.type === 'stale') {
      $('stale').hidden = false;
    }
  };
  ws.onclose = async () => {
    ws = null;
    $('conn').dataset.state = 'closed';
    $('conn').title = t('connLost');
    // A lost session shows as a refused upgrade: ask the server which it was.
    const info = await fetch('api/session').then((r) => r.json()).catch(() => null);
    if (info && !info.authenticated) { B.session = info; return showLogin(); }
    retry = Math.min(retry + 1, 5);
    setTimeout(connect, retry * 1000);
  };
}

export async function start() {
  if (localStorage.getItem('hotline.dense')) document.body.classList.add('dense');
  applyLang();
  setInterval(() => { tickClocks(); if (B.selected) renderSelection(); }, 1000);
  let info = { authenticated: false };
  try { info = await fetch('api/session').then((r) => r.json()); } catch { /* retry via login */ }
  B.session = info;
  if (!info.authenticated) return showLogin();
  started(info);
}
