// The dashboard's words: one catalog per language in i18n/moderate/<lang>.json, `t(key, params)`
// with Intl plural rules. The server's error messages are English, so errors are shown by their
// stable code (`err.<code>`), with a translated generic sentence for a code not in the catalog.

export const LANGS = ['en', 'de', 'es', 'fr', 'pl', 'sv', 'uk', 'ar'];
// Each language named in itself, so a moderator finds their own whatever the page is in.
export const ENDONYMS = {
  en: 'English', de: 'Deutsch', es: 'Español', fr: 'Français', pl: 'Polski', sv: 'Svenska',
  uk: 'Українська', ar: 'العربية',
};
const RTL = new Set(['ar']);
const KEY = 'bc.mod.lang';

let catalog = {};
let rules = new Intl.PluralRules('en');
let numbers = new Intl.NumberFormat('en');
export let lang = 'en';

const known = (tag) => {
  const p = String(tag || '').toLowerCase().split('-')[0];
  return LANGS.includes(p) ? p : null;
};

function saved() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}

export function remember(l) {
  try { localStorage.setItem(KEY, l); } catch { /* private mode: this visit only */ }
}

// The chosen language: ?lang=, then what was picked here before, then the browser's.
export function negotiate() {
  const asked = known(new URLSearchParams(location.search).get('lang')) || known(saved());
  if (asked) return asked;
  for (const l of navigator.languages || [navigator.language]) if (known(l)) return known(l);
  return 'en';
}

export async function loadCatalog(l) {
  let data = null;
  try {
    const res = await fetch(`i18n/moderate/${l}.json`, { cache: 'no-cache' });
    if (res.ok) data = await res.json();
  } catch { /* offline: fall back below */ }
  if (!data && l !== 'en') return loadCatalog('en');
  catalog = data || {};
  lang = l;
  rules = new Intl.PluralRules(l);
  numbers = new Intl.NumberFormat(l);
  const html = document.documentElement;
  html.lang = l;
  html.dir = RTL.has(l) ? 'rtl' : 'ltr';
  return l;
}

export const has = (key) => Object.hasOwn(catalog, key);
export const num = (n, opts) => (opts ? new Intl.NumberFormat(lang, opts) : numbers).format(n);

export function t(key, params = {}) {
  let v = catalog[key];
  if (v && typeof v === 'object') {
    const n = Number(params.n ?? 0);
    v = v[rules.select(n)] ?? v.other;
  }
  if (typeof v !== 'string') v = key;
  return v.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in params)) return m;
    const p = params[name];
    if (typeof p === 'number') return numbers.format(p);
    // Names, prompts and ids are often in another script than the page: on a right-to-left
    // page each is isolated so that it cannot reorder the sentence around it.
    return RTL.has(lang) ? `\u2068${p}\u2069` : String(p);
  });
}

// A code from the server (reason, refusal, audit action...) in words; `fallback` when the
// catalog has no entry for it (a code a newer server added).
export function word(prefix, code, fallback) {
  const key = `${prefix}.${code}`;
  return has(key) ? t(key) : (fallback ?? t(`${prefix}._other`, { code: String(code) }));
}

export const errText = (code) => word('err', code, t('err._other'));

// Elements marked data-t (text), data-t-aria (aria-label), data-t-title (title).
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-t-aria]')) el.setAttribute('aria-label', t(el.dataset.tAria));
  document.title = t('page.title');
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString(lang) : '–');
export const clock = (iso) => new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });

export function duration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  const x = Math.max(0, Math.floor(s));
  if (x < 60) return t('dur.s', { s: x });
  const m = Math.floor(x / 60);
  const pad = (v) => num(v, { minimumIntegerDigits: 2 });
  if (m < 60) return t('dur.ms', { m, s: pad(x % 60) });
  return t('dur.hm', { h: Math.floor(m / 60), m: pad(m % 60) });
}
