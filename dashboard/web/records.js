// What the reports and the recordings pages share: both read the records database through the
// supervisor API, and name queues, groups and agents from the board's view.

// fetchRecords answers the API's JSON body at url, or says in errEl why not (t words it: login,
// noRecords, failed) and answers null.
export async function fetchRecords(url, errEl, t) {
  errEl.textContent = '';
  const res = await fetch(url, { credentials: 'same-origin' });
  if (res.status === 401 || res.status === 403) { errEl.textContent = t('login'); return null; }
  if (res.status === 404) { errEl.textContent = t('noRecords'); return null; }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { errEl.textContent = t('failed') + (body.error || res.status); return null; }
  return body;
}

// boardView is the board's view (queues and groups with their titles, agents with their names),
// or null when it does not answer: the pages then show codes.
export async function boardView() {
  const res = await fetch('api/view', { credentials: 'same-origin' }).catch(() => null);
  if (!res || !res.ok) return null;
  const { view } = await res.json();
  return view;
}
