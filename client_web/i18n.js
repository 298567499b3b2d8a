// UI strings: one JSON catalog per locale, `t(key, params)` with Intl.PluralRules,
// and the choice of locale (the link the member clicked, then what they chose
// before, then the browser's languages).
import { local } from './store.js';

export const LOCALES = ['en', 'de', 'fr', 'sv', 'pl', 'ar', 'uk', 'es'];
const RTL = new Set(['ar']);
const UI_KEY = 'bc.ui';

let catalog = {};
let plural = new Intl.PluralRules('en');
let numbers = new Intl.NumberFormat('en');
export let locale = 'en';

const known = (tag) => {
  const p = String(tag || '').toLowerCase().split('-')[0];
  return LOCALES.includes(p) ? p : null;
};

export function negotiate() {
  const params = new URLSearchParams(location.search);
  const asked = known(params.get('lang'));
  if (asked) {
    local.set(UI_KEY, asked);
    params.delete('lang');
    const q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
    return asked;
  }
  const saved = known(local.get(UI_KEY));
  if (saved) return saved;
  for (const l of navigator.languages || [navigator.language]) {
    if (known(l)) return known(l);
  }
  return 'en';
}

// Sets lang and dir on the page at once, then fetches the strings.
export async function loadCatalog(loc = 'en') {
  locale = loc;
  const html = document.documentElement;
  html.lang = loc;
  html.dir = RTL.has(loc) ? 'rtl' : 'ltr';
  let date = null;
  try {
    const res = await fetch(new URL(`i18n/${loc}.json`, import.meta.url));
    if (!res.ok) throw new Error(String(res.status));
    date = res.headers.get('Date');
    catalog = await res.json();
  } catch {
    // The page has no words of its own: without its catalog, English rather than keys.
    if (loc !== 'en') return loadCatalog('en');
    catalog = {};
  }
  plural = new Intl.PluralRules(loc);
  numbers = new Intl.NumberFormat(loc);
  return date;
}

export function has(key) {
  return Object.hasOwn(catalog, key);
}

// Wrap a member-supplied name in Unicode isolates so it cannot reorder the sentence.
export const iso = (s) => `\u2068${s}\u2069`;

export const num = (n, opts) => (opts ? new Intl.NumberFormat(locale, opts) : numbers).format(n);

export function t(key, params = {}) {
  let v = catalog[key];
  if (v && typeof v === 'object') {
    const n = Number(params.count ?? 0);
    v = (n === 0 && v.zero) || v[plural.select(n)] || v.other;
  }
  if (typeof v !== 'string') v = key;
  return v.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in params)) return m;
    const p = params[name];
    return typeof p === 'number' ? numbers.format(p) : String(p);
  });
}

// Fill elements marked data-i18n (text), data-i18n-aria (aria-label), data-i18n-ph (placeholder).
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
}

// A server error in the member's words, by its stable code (never the server's English).
export function errText(code) {
  return has(`err.${code}`) ? t(`err.${code}`) : t('err.other', { code: String(code || '?') });
}

export function listFormat(items) {
  try {
    return new Intl.ListFormat(locale, { type: 'conjunction' }).format(items);
  } catch {
    return items.join(', ');
  }
}
