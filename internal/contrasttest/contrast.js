// The contrast checker: run in a page, it returns what on screen fails WCAG 2.x contrast (1.4.3
// for text, 1.4.11 for focus indicators) and which disabled controls look like enabled ones.
// It is an expression whose value is a function of the options; contrasttest.Check calls it.
(function (opts) {
  opts = opts || {};
  const findings = [];
  let checked = 0, focusChecked = 0, notVisible = 0;

  // Colours are [r, g, b, a] with r, g, b in 0..255 and a in 0..1.
  function parse(s) {
    const m = /^rgba?\(([^)]+)\)$/.exec(String(s).trim());
    if (m) {
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    // Other notations (color(srgb …), lab() …) are not what Chromium computes for this CSS; the
    // canvas resolves them to sRGB.
    const c = document.createElement('canvas').getContext('2d');
    c.fillStyle = '#000'; c.fillStyle = s;
    c.fillRect(0, 0, 1, 1);
    const d = c.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  }
  // over paints c (with its alpha times k) over the opaque b.
  function over(c, b, k) {
    const a = c[3] * (k === undefined ? 1 : k);
    return [c[0] * a + b[0] * (1 - a), c[1] * a + b[1] * (1 - a), c[2] * a + b[2] * (1 - a), 1];
  }
  function lum(c) {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  function ratio(a, b) {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');

  // chain is the element and its ancestors, the root first (through shadow hosts).
  function chain(el) {
    const out = [];
    for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) out.unshift(e);
    return out;
  }
  // paint returns the colour on screen of the pixel under el's text: bg is the background alone,
  // fg the text (colour c over it), with every ancestor's background and opacity applied. A group
  // with opacity o shows as the backdrop mixed with what the group paints over it, by o.
  // Elements that are not ancestors (positioned siblings) are not seen: the pages have none
  // under text.
  function paint(el, c) {
    const els = chain(el);
    let image = null;
    function at(i, back) {
      if (i === els.length) return [back, c ? over(c, back) : back];
      const cs = getComputedStyle(els[i]);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') image = els[i];
      const b = over(parse(cs.backgroundColor), back);
      const [bg, fg] = at(i + 1, b);
      const o = parseFloat(cs.opacity);
      return o < 1 ? [over([...bg.slice(0, 3), 1], back, o), over([...fg.slice(0, 3), 1], back, o)] : [bg, fg];
    }
    // The canvas: white, unless the root or body paints it (their own backgrounds follow).
    const [bg, fg] = at(0, [255, 255, 255, 1]);
    return { bg, fg, image };
  }
  function describe(el) {
    const parts = [];
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      let s = e.localName;
      if (e.id) { parts.unshift(s + '#' + e.id); break; }
      for (const k of e.classList) s += '.' + k;
      for (const a of ['data-agent', 'data-queue', 'data-call', 'data-act', 'data-digit', 'data-group']) {
        if (e.hasAttribute(a)) s += `[${a}="${e.getAttribute(a)}"]`;
      }
      parts.unshift(s);
      if (parts.length >= 4) break;
    }
    return parts.join(' > ');
  }
  const modal = document.querySelector(':modal');
  // shown: on screen for a sighted reader, not behind an open modal dialog, not hidden from
  // assistive technology as decoration.
  function shown(el) {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true, contentVisibilityAuto: true })) return false;
    if (el.closest('[aria-hidden="true"], option, optgroup, script, style, template, noscript, title')) return false;
    if (modal && !modal.contains(el)) return false;
    if (opts.exempt && el.closest(opts.exempt)) return false;
    const r = el.getBoundingClientRect();
    // 1×1 px and less: the visually hidden text of screen readers (.sr-only).
    return r.width > 1 && r.height > 1;
  }
  function large(cs) {
    const px = parseFloat(cs.fontSize), w = parseInt(cs.fontWeight, 10) || 400;
    return px >= 24 || (px >= 18.66 && w >= 700);
  }
  const disabled = (el) => !!el.closest(':disabled');

  function checkText(el, text, color, kind) {
    if (!shown(el) || disabled(el)) return;
    const cs = getComputedStyle(el);
    const c = parse(color);
    if (c[3] === 0) return; // transparent text is not text on screen
    checked++;
    const p = paint(el, c);
    const need = large(cs) ? 3 : 4.5;
    if (p.image) {
      findings.push({ kind: 'background-image', selector: describe(el), text, fg: hex(p.fg), bg: describe(p.image),
        ratio: 0, need, fontSize: cs.fontSize, fontWeight: cs.fontWeight });
      return;
    }
    const r = ratio(p.fg, p.bg);
    if (r + 1e-9 < need) {
      findings.push({ kind, selector: describe(el), text, fg: hex(p.fg), bg: hex(p.bg), ratio: Math.round(r * 100) / 100, need,
        fontSize: cs.fontSize, fontWeight: cs.fontWeight });
    }
  }

  // Text: every element's own text nodes, in its colour.
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.data.trim()) continue;
    seen.add(el);
    const text = [...el.childNodes].filter((x) => x.nodeType === 3).map((x) => x.data).join('').trim().replace(/\s+/g, ' ').slice(0, 60);
    checkText(el, text, getComputedStyle(el).color, 'text');
  }
  // Form fields: their value or, when empty, their placeholder; a select its chosen option.
  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (el.localName === 'input' && /^(hidden|checkbox|radio|range|color|file|image|submit|button|reset)$/.test(el.type)) continue;
    if (el.localName === 'select') {
      const o = el.selectedOptions[0];
      if (o && o.text.trim() && el.size <= 1 && !el.multiple) checkText(el, o.text.trim().slice(0, 60), getComputedStyle(el).color, 'field');
    } else if (el.value) {
      checkText(el, el.type === 'password' ? '(password)' : el.value.slice(0, 60), getComputedStyle(el).color, 'field');
    } else if (el.placeholder) {
      checkText(el, el.placeholder.slice(0, 60), getComputedStyle(el, '::placeholder').color, 'placeholder');
    } else if (/^(date|time|datetime-local|month|week)$/.test(el.type)) {
      checkText(el, '(empty ' + el.type + ')', getComputedStyle(el).color, 'field');
    }
  }

  // Disabled controls are exempt from contrast, but must not look enabled: the same control
  // enabled for a moment (synchronously: no page script runs in between) must look different.
  for (const el of document.querySelectorAll('button:disabled, input:disabled, select:disabled, textarea:disabled')) {
    if (el.closest('fieldset:disabled') || !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    if ((modal && !modal.contains(el)) || (opts.exempt && el.closest(opts.exempt))) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    const off = paint(el, parse(getComputedStyle(el).color));
    el.disabled = false;
    const on = paint(el, parse(getComputedStyle(el).color));
    el.disabled = true;
    checked++;
    const d = Math.max(ratio(off.fg, on.fg), ratio(off.bg, on.bg));
    if (d < 1.5) {
      findings.push({ kind: 'disabled-looks-enabled', selector: describe(el), text: (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 60),
        fg: hex(off.fg) + ' (enabled ' + hex(on.fg) + ')', bg: hex(off.bg) + ' (enabled ' + hex(on.bg) + ')', ratio: Math.round(d * 100) / 100, need: 1.5 });
    }
  }

  // Focus indicators (1.4.11): each focusable control focused as from the keyboard; its outline
  // must reach 3:1 against what it is drawn on (outside: the parent's background; inset: its own).
  if (opts.focus) {
    const was = document.activeElement;
    const focusable = 'a[href], button:not(:disabled), input:not(:disabled):not([type=hidden]), select:not(:disabled), textarea:not(:disabled), summary, [tabindex]';
    const keys = new Set();
    for (const el of document.querySelectorAll(focusable)) {
      if (!shown(el) || el.tabIndex < -1) continue;
      // One of each kind: 500 tiles draw their focus alike.
      const kindKey = el.localName + '.' + [...el.classList].join('.') + '|' + (el.parentElement && el.parentElement.className);
      if (!el.id && keys.has(kindKey)) continue;
      keys.add(kindKey);
      const before = getComputedStyle(el);
      const snap = { boxShadow: before.boxShadow, bg: before.backgroundColor, border: before.borderColor };
      el.focus({ focusVisible: true, preventScroll: true });
      if (document.activeElement !== el) continue;
      if (!el.matches(':focus-visible')) { notVisible++; continue; }
      const cs = getComputedStyle(el);
      focusChecked++;
      const style = cs.outlineStyle, width = parseFloat(cs.outlineWidth);
      if (style === 'auto') continue; // the browser's own ring, two colours, shows on any background
      if (style === 'none' || !(width > 0)) {
        const changed = cs.boxShadow !== snap.boxShadow || cs.backgroundColor !== snap.bg || cs.borderColor !== snap.border;
        if (!changed) findings.push({ kind: 'no-focus-indicator', selector: describe(el), text: (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60), fg: '', bg: '', ratio: 0, need: 3 });
        continue;
      }
      const inset = parseFloat(cs.outlineOffset) < 0;
      const backOf = inset ? el : (el.parentElement || el);
      const p = paint(backOf, null);
      const ring = over(parse(cs.outlineColor), p.bg);
      const r = ratio(ring, p.bg);
      if (r + 1e-9 < 3) {
        findings.push({ kind: 'focus-indicator', selector: describe(el), text: (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60),
          fg: hex(ring), bg: hex(p.bg), ratio: Math.round(r * 100) / 100, need: 3 });
      }
    }
    // Focus back where it was; on nothing (the body) when it was on nothing.
    if (was && was !== document.body && was !== document.documentElement && was.focus) was.focus({ preventScroll: true });
    else if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  }
  return { checked, focusChecked, notVisible, findings };
})
