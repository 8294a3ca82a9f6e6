// hotline agent page: login, state, calls, and the shift-long WebRTC session. Plain JS in ES
// modules by concern, no build step: i18n, dom, state, login, signaling, rtc, audio, actions, keys,
// render.

import './actions.js';
import './keys.js';
import { applyLang } from './render.js';
import { checkSession } from './login.js';

applyLang();
checkSession();
