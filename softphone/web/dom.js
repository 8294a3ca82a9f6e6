// The page's elements and its one message line.

export const $ = (id) => document.getElementById(id);
export const ds = document.body.dataset;

export function toast(text) {
  const el = $('toast'); el.textContent = text; el.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}
