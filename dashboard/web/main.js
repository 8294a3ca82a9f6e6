// Supervisor page: plain JS in ES modules by concern (i18n, state, util, render, selection,
// actions, keys, lang, feed), no framework, no build step.
//
// Rendering is incremental: each queue row, call row and agent tile is created once, kept in a
// Map by its key, and only the fields that changed are written. The page only writes to the DOM
// while rendering (it never reads layout then), so 500 agents cost one layout per frame. Waits
// are counted here from the moments in the view, once a second, against the server's clock.

import './actions.js';
import './keys.js';
import './selection.js';
import { start } from './feed.js';

start();
