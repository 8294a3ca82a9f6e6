// Switching the language and the dense grid.

import { lang, setLanguage, t } from './i18n.js';
import { scheduleRender } from './render.js';
import { $, groups } from './util.js';

export function applyLang() {
  document.documentElement.lang = lang;
  document.title = `hotline — ${t('title')}`;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  $('lang').textContent = lang === 'ru' ? 'EN' : 'RU';
  // Group counts and titles hold translated words: write them again.
  for (const e of groups.values()) { e.s = {}; for (const a of e.cache.values()) a.s = {}; }
  $('conn').title = '';
  scheduleRender();
}
export function toggleDense() {
  const on = document.body.classList.toggle('dense');
  localStorage.setItem('hotline.dense', on ? '1' : '');
}
export function toggleLang() {
  setLanguage(lang === 'ru' ? 'en' : 'ru');
  localStorage.setItem('hotline.lang', lang);
  applyLang();
}
$('lang').addEventListener('click', toggleLang);
$('help-btn').addEventListener('click', () => $('help-dlg').showModal());
