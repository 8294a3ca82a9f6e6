// Answer to audio: from the agent's answer to the caller's first sound in this page.

import { $ } from './dom.js';
import { S } from './state.js';
import { send } from './signaling.js';

// Measured on the stream the audio element plays (WebAudio reads silence from a remote track that
// no element plays), and reported once per call; the server adds its side (the browser's first
// packet at the leg) and keeps the figure. No audio within 10 s: no report.
const A2A = { ctx: null, an: null, src: null, stream: null, buf: null, call: '', t0: 0, timer: 0, done: new Set() };
S.a2a = {}; // call id → ms, for people debugging and for tests
export function audioCtx() {
  // Created or resumed on a gesture where there is one: a context started without one may stay
  // suspended (then an auto-answered call after a reload goes unmeasured).
  if (!A2A.ctx) { try { A2A.ctx = new AudioContext(); } catch (e) { return null; } }
  if (A2A.ctx.state === 'suspended') A2A.ctx.resume().catch(() => {});
  return A2A.ctx;
}
export function startAudioClock(call) {
  if (!call || A2A.done.has(call) || A2A.call === call) return;
  stopAudioClock();
  A2A.call = call; A2A.t0 = performance.now();
  A2A.timer = setInterval(probeAudio, 5);
}
function stopAudioClock() { clearInterval(A2A.timer); A2A.timer = 0; A2A.call = ''; }
function probeAudio() {
  const call = A2A.call, ms = performance.now() - A2A.t0;
  const k = S.calls.get(call);
  if (ms > 10000 || !k || k.status === 'ended' || k.status === 'wrapup') { stopAudioClock(); return; }
  const a = $('remote-audio'), ctx = audioCtx();
  if (!ctx || ctx.state !== 'running' || !a.srcObject) return;
  if (A2A.stream !== a.srcObject) { // a new PeerConnection: a new stream
    if (A2A.src) A2A.src.disconnect();
    A2A.an = ctx.createAnalyser(); A2A.an.fftSize = 256; // 5 ms at 48 kHz
    A2A.src = ctx.createMediaStreamSource(a.srcObject); A2A.src.connect(A2A.an);
    A2A.stream = a.srcObject; A2A.buf = new Float32Array(A2A.an.fftSize);
  }
  A2A.an.getFloatTimeDomainData(A2A.buf);
  let sum = 0;
  for (const v of A2A.buf) sum += v * v;
  if (Math.sqrt(sum / A2A.buf.length) < 0.003) return; // below -50 dBFS: not yet
  const r = Math.round(ms * 10) / 10;
  A2A.done.add(call); stopAudioClock(); S.a2a[call] = r;
  send('call.audio', { call, answer_to_audio_ms: r });
}
