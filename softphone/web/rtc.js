// WebRTC: one PeerConnection for the shift, renegotiated after a reload or a failure.

import { $, ds, toast } from './dom.js';
import { t } from './i18n.js';
import { S } from './state.js';
import { send } from './signaling.js';
import { render } from './render.js';

export async function negotiate() {
  if (S.pc) { S.pc.close(); }
  const pc = new RTCPeerConnection({ iceServers: S.iceServers });
  S.pc = pc; ds.pc = 'new';
  if (!S.mic) {
    try {
      // Processing off: it distorts a line that Asterisk already treats, and costs ~19 dB on tones.
      S.mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false });
    } catch (e) { toast(t('mic_denied')); }
  }
  if (S.pc !== pc) return;
  const track = S.mic && S.mic.getAudioTracks()[0];
  if (track) { track.enabled = true; pc.addTransceiver(track, { direction: 'sendrecv', streams: [S.mic] }); } else pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (ev) => {
    const a = $('remote-audio');
    a.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    a.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => {
    if (S.pc !== pc) return;
    ds.pc = pc.connectionState;
    if (pc.connectionState === 'failed') setTimeout(() => { if (S.pc === pc && !S.replaced) negotiate(); }, 500);
    if (pc.connectionState === 'disconnected') setTimeout(() => { if (S.pc === pc && !S.replaced && pc.connectionState === 'disconnected') negotiate(); }, 4000);
    render();
  };
  await pc.setLocalDescription(await pc.createOffer());
  // No trickle: send the offer with every candidate (bounded wait: a stuck STUN server must not stall us).
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 3000);
  });
  if (S.pc !== pc) return;
  S.offerID = send('offer', { sdp: pc.localDescription.sdp });
}
