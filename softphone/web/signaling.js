// The page's WebSocket to the server: requests out, replies and pushes in.

import { $, ds, toast } from './dom.js';
import { t, tw } from './i18n.js';
import { S, cur, setStatus } from './state.js';
import { showLogin } from './login.js';
import { negotiate } from './rtc.js';
import { startAudioClock } from './audio.js';
import { openWrapup, closeWrapup } from './actions.js';
import { render, renderCalls } from './render.js';

export function connect() {
  if (!S.loggedIn) return;
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/agent/ws');
  S.ws = ws;
  ws.onopen = () => { S.backoff = 500; ds.ws = 'open'; $('banner').hidden = true; };
  ws.onmessage = (ev) => { let m; try { m = JSON.parse(ev.data); } catch (e) { return; } handle(m); };
  ws.onclose = async () => {
    if (S.ws !== ws) return;
    ds.ws = 'closed';
    if (!S.loggedIn) return;
    $('banner').textContent = t('reconnecting'); $('banner').hidden = false;
    try { const r = await fetch('me', { credentials: 'same-origin' }); if (r.status === 401) { showLogin(); return; } } catch (e) { /* server down: retry */ }
    setTimeout(connect, S.backoff);
    S.backoff = Math.min(S.backoff * 2, 5000);
  };
}
export function send(type, body) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) { toast(t('reconnecting')); return ''; }
  const id = 'r' + (++S.seq);
  S.ws.send(JSON.stringify(Object.assign({ type, id }, body || {})));
  S.sent.set(id, type);
  if (S.sent.size > 64) S.sent.delete(S.sent.keys().next().value);
  return id;
}

// whyNot says why a request was refused: by what was asked and the call's state, not only the code.
function whyNot(m) {
  const asked = S.sent.get(m.id) || '';
  if (m.code === 'invalid_state') {
    const k = cur();
    if (asked === 'state.set' && k && /^(connected|held|consulting|consulted|ringing)$/.test(k.status)) return t('why_busy');
    if (/^call\.(hold|resume|transfer|consult|dtmf|mute|unmute)$/.test(asked)) return t('why_not_talking');
    if (asked === 'call.answer' || asked === 'call.reject') return t('why_not_ringing');
    if (asked === 'call.complete') return t('why_not_answered');
    if (asked === 'wrapup.extend') return t('why_wrapup_over');
  }
  return t(m.code) !== m.code ? t(m.code) : (t('error') + ': ' + m.message);
}

function handle(m) {
  const c = m.call && typeof m.call === 'object' ? m.call : null;
  switch (m.type) {
    case 'hello':
      S.iceServers = m.ice_servers || [];
      if (!S.replaced && (!S.pc || S.pc.connectionState !== 'connected')) negotiate();
      if (!S.monitor) send('calls.today.get');
      break;
    case 'answer':
      if (S.pc && m.id === S.offerID) S.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((e) => toast(String(e)));
      break;
    case 'state': {
      S.agentState = m.state; S.pauseNext = m.pause_next || '';
      // An ended call kept for a wrap-up that did not come (the agent is free again) goes.
      const k = cur();
      if (k && k.status === 'ended' && !S.wrapup && (m.state === 'available' || m.state === 'paused')) {
        S.calls.delete(S.current); S.current = '';
      }
      break;
    }
    case 'call.ringing':
      // consult: a colleague asks about their caller; answering talks to the colleague, not the caller.
      S.calls.set(c.id, { info: c, status: 'ringing', from: m.consult || null,
        ringUntil: m.ring_seconds ? Date.now() + m.ring_seconds * 1000 : 0 }); S.current = c.id;
      if ($('auto-answer').checked && send('call.answer', { call: c.id })) startAudioClock(c.id);
      break;
    case 'call.connected': {
      const k = S.calls.get(m.call) || { info: m.info || { id: m.call } };
      if (m.info) k.info = m.info;
      if (m.consult) { k.from = m.consult; k.status = 'consulted'; } else {
        if (k.from && k.status === 'consulted') toast(t('consult_done')); // the transfer completed: the call is ours
        k.from = null; k.status = 'connected';
      }
      if (!k.since) k.since = Date.now();
      S.calls.set(m.call, k); S.current = m.call; S.muted = false; break;
    }
    case 'call.held': setStatus(m.call, 'held'); break;
    case 'call.resumed': setStatus(m.call, 'connected'); break;
    case 'call.muted': S.muted = true; break;
    case 'call.unmuted': S.muted = false; break;
    case 'call.consulting': {
      const k = S.calls.get(m.call);
      if (k) { k.status = 'consulting'; k.target = m.target || null; k.colleague = m.agent || null; k.answered = !!m.answered; }
      break;
    }
    case 'call.consult_ended': {
      const k = S.calls.get(m.call);
      if (k) { k.colleague = null; k.answered = false; }
      toast(tw('consult_' + m.reason, m.agent));
      break;
    }
    case 'call.ended':
      if (typeof m.reason === 'string' && m.reason.startsWith('consult:')) toast(t('consult_over'));
      else if (m.reason === 'answered_elsewhere' || m.reason === 'callback_no_answer') toast(t(m.reason));
      // The agent did not end it: say why the line went quiet.
      else if (m.reason === 'caller') toast(t('ended_caller'));
    {
      // A call that was talked on ends in wrap-up: its screen pop stays until the wrap-up is done,
      // so the agent sees whose call they write up. One that only rang goes.
      const k = S.calls.get(m.call);
      const talked = k && k.since && k.status !== 'ringing' && !k.from && !String(m.reason || '').startsWith('consult:');
      setStatus(m.call, 'ended');
      if (S.current === m.call && !S.wrapup && !talked) { S.calls.delete(m.call); S.current = ''; }
      break;
    }
    case 'wrapup.started': openWrapup(m); break;
    case 'wrapup.extended':
      if (S.wrapup && S.wrapup.call === m.call) S.wrapup.until = Date.now() + m.seconds * 1000;
      break;
    case 'wrapup.ended':
      S.calls.delete(m.call); if (S.current === m.call) S.current = '';
      if (S.wrapup && S.wrapup.call === m.call) closeWrapup();
      send('calls.today.get');
      break;
    case 'session.replaced':
      // Another tab of this agent took the audio: stand down instead of taking it back.
      S.replaced = true; if (S.pc) { S.pc.close(); S.pc = null; } ds.pc = 'replaced'; $('replaced').hidden = false;
      break;
    case 'calls.today': renderCalls(m.calls || []); break;
    case 'stats': S.stats = m; break;
    case 'error':
      ds.lasterror = m.code || 'error';
      toast(whyNot(m));
      break;
  }
  render();
}
