// What the board knows: the last view, the session, what is selected and how agents are shown.

export const B = {
  view: null,        // the last view from the server
  offset: 0,         // server clock − browser clock, ms
  session: { authenticated: false },
  supervisor: '',    // who we are: the session's account, never typed
  selected: null,    // {kind: 'call'|'agent'|'queue', id}
  queueFilter: '',   // show only this queue's calls
  findText: '',
};
// How the agents are shown: kept across visits.
export const shown = {
  state: localStorage.getItem('hotline.f.state') || '', group: localStorage.getItem('hotline.f.group') || '',
  queue: localStorage.getItem('hotline.f.queue') || '', by: localStorage.getItem('hotline.groupBy') || 'group',
  order: localStorage.getItem('hotline.order') || 'id',
};
