// UI strings: a small JSON catalog per locale, `t(key, params)` with plurals.
let catalog = {};
let plural = new Intl.PluralRules('en');
let numbers = new Intl.NumberFormat('en');

export async function loadCatalog(locale = 'en') {
  try {
    const res = await fetch(`i18n/${locale}.json`);
    if (!res.ok) throw new Error(String(res.status));
    catalog = await res.json();
  } catch {
    catalog = {};
  }
  plural = new Intl.PluralRules(locale);
  numbers = new Intl.NumberFormat(locale);
  const html = document.documentElement;
  html.lang = locale;
  html.dir = catalog.$dir === 'rtl' ? 'rtl' : 'ltr';
}

export function has(key) {
  return Object.hasOwn(catalog, key);
}

// Wrap a member-supplied name in Unicode isolates so it cannot reorder the sentence.
export const iso = (s) => `\u2068${s}\u2069`;

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

export function listFormat(items) {
  try {
    return new Intl.ListFormat(document.documentElement.lang, { type: 'conjunction' }).format(items);
  } catch {
    return items.join(', ');
  }
}
