// Shared plumbing of the dashboard: its state, requests to the API, small DOM helpers.
// Whatever the server sends goes on the page with textContent, never parsed as HTML:
// report evidence and notes are text people wrote.
import { errText, t, word } from './i18n.js';

export const $ = (id) => document.getElementById(id);

export const state = {
  signedIn: false, csrf: null, role: null, username: null,
  queue: [], queueAt: 0, waiting: 0, wait: { median_s: null, longest_s: null },
  stuck: [], stuckTotal: 0, rooms: 0, live: [], liveAt: 0, reports: 0,
  charts: null, balance: null, shift: null, selected: new Set(),
  prompts: new Map(), open: new Map(), current: null, tab: 'live',
};

// Set by moderate.js: what one part of the page asks of another.
export const hooks = {
  signedOut: () => {}, showTab: () => {}, openReport: () => {}, loadAudit: () => {},
  loadSuspensions: () => {}, loadReports: () => {}, renderAll: () => {},
};

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { status: 0, body: { error: 'offline' } };
  }
  let data = {};
  if ((resp.headers.get('Content-Type') || '').startsWith('application/json')) {
    data = (await resp.json().catch(() => null)) || {};
  }
  if (resp.status === 401 && state.signedIn && path !== '/api/moderator/login') {
    hooks.signedOut(t('err.not_signed_in'));
  }
  return { status: resp.status, body: data };
}

// An answer's error in the moderator's words (the server's own message is English).
export const problemText = (r) => errText(r.body.error || (r.status ? 'other' : 'offline'));

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function td(tr, text, cls) {
  const cell = el('td', cls, text);
  tr.append(cell);
  return cell;
}

export function button(text, cls, onClick) {
  const b = el('button', cls, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

// A table's rows; an empty table is hidden (the "nobody…" line beside it says so).
export function show(table, rows) {
  $(table).tBodies[0].replaceChildren(...rows);
  $(table).closest('.scroll').hidden = rows.length === 0;
}

export function alertMsg(text) { $('alert').textContent = text || ''; }
export function done(text) {
  alertMsg('');
  $('done').textContent = text;
}

export const promptText = (id) => (id ? (state.prompts.get(id) || { text: id }).text : t('prompt.none'));
export const reasonText = (code) => word('reason', code);
export const modeText = (code) => word('mode', code);

// A question before an action, with the note that goes into the audit log.
export function askNote(title, confirm, { required = false, danger = true } = {}) {
  const dialog = $('ask');
  $('ask-title').textContent = title;
  $('ask-ok').textContent = confirm;
  $('ask-ok').className = danger ? 'danger' : 'primary';
  $('ask-note').value = '';
  $('ask-note').required = required;
  $('ask-err').textContent = '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolveNote) => {
    dialog.addEventListener('close', () => {
      resolveNote(dialog.returnValue === 'ok' ? $('ask-note').value.trim() : null);
    }, { once: true });
  });
}

// Run an action; on success say so and refresh the audit log, else say why in words.
export async function act(method, path, note, success, extra = {}) {
  const body = { ...extra };
  if (note) body.note = note;
  const r = await api(method, path, body);
  if (r.status >= 200 && r.status < 300) {
    done(success);
    hooks.loadAudit();
  } else {
    alertMsg(problemText(r));
  }
  return r;
}
