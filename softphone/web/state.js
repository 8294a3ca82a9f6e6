// What the page knows: the agent, the connection, the calls.

export const S = {
  agent: null, iceServers: [], ws: null, backoff: 500, seq: 0, loggedIn: false,
  pc: null, mic: null, offerID: '', agentState: '', calls: new Map(), current: '', muted: false, sent: new Map(),
  wrapup: null, stats: null, replaced: false,
};
window.hotline = S; // for people debugging and for tests

// cur is the call on screen.
export function cur() { return S.calls.get(S.current); }
export function setStatus(id, status) { const k = S.calls.get(id); if (k) k.status = status; }
