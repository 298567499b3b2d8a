// The Events tab: conversation days (docs/events.md). Everyone sees the list and, for a chosen
// event, how it runs: the countdown, sign-ups, those present and their balance, and after the
// start the rooms opened, the share crossing two divides and who still waits (how long and
// why, never who). Admins create, edit and cancel through /api/events.
// The chosen event is polled every 2 s (GET /api/events/{id}/live) while the tab is shown and
// the page visible; the countdown is counted down locally every second between two answers.
import { renderBalance } from './charts.js';
import {
  $, act, alertMsg, api, askNote, button, done, el, hooks, problemText, show, state, td,
} from './core.js';
import {
  ENDONYMS, duration, lang, num, t, when, word,
} from './i18n.js';

const POLL_MS = 2000;
const MODES = ['bridge', 'language_buddy', 'generations'];
const GROUPS = [2, 3, 4];
const BALANCE_IDS = { plot: 'c-ev-balance', scale: 'c-ev-balance-scale', table: 't-ev-balance' };
const ev = { list: [], languages: ['en'], chosen: null, live: null, skew: 0, editing: null, timer: 0, busy: false, polledAt: 0 };

const isAdmin = () => state.role === 'admin';
const titleOf = (e) => e.title[lang] || e.title.en || Object.values(e.title)[0] || e.slug;
// "2026-12-10T18:00+01:00" -> what a datetime-local input holds: the wall-clock time.
const wall = (iso) => (iso ? iso.slice(0, 16) : '');
const startsAt = (e) => Date.parse(e.starts_utc || e.starts);
const over = (e) => e.cancelled || Date.parse(e.ends) <= Date.now();

// -- the list ------------------------------------------------------------------------------

export async function loadEvents() {
  const r = await api('GET', '/api/events');
  if (r.status !== 200) return;
  ev.list = r.body.events;
  ev.languages = r.body.languages?.length ? r.body.languages : ['en'];
  renderEvents();
}

function row(e) {
  const tr = el('tr');
  tr.dataset.event = e.slug;
  td(tr, when(e.starts_utc || e.starts));
  const name = td(tr, '');
  name.append(el('span', null, titleOf(e)));
  name.firstChild.dir = 'auto';
  if (e.cancelled) name.append(el('span', 'hint', ` (${t('ev.state.cancelled')})`));
  td(tr, num(e.signups ?? 0), 'num');
  const actions = el('div', 'actions');
  actions.append(button(t('ev.follow'), 'secondary small', () => choose(e.slug)));
  if (isAdmin() && !over(e)) {
    actions.append(button(t('ev.edit'), 'secondary small', () => openForm(e)));
    actions.append(button(t('ev.cancel'), 'secondary small', () => cancelEvent(e)));
  }
  td(tr, '').append(actions);
  return tr;
}

export function renderEvents() {
  $('ev-new').hidden = !isAdmin();
  const up = ev.list.filter((e) => !over(e)).sort((a, b) => startsAt(a) - startsAt(b));
  const past = ev.list.filter(over).sort((a, b) => startsAt(b) - startsAt(a));
  show('ev-up', up.map(row));
  show('ev-past', past.map(row));
  $('ev-up-empty').hidden = up.length > 0;
  $('ev-past-empty').hidden = past.length > 0;
  renderLive();
}

async function cancelEvent(e) {
  const note = await askNote(t('ev.cancel.ask', { title: titleOf(e) }), t('ev.cancel'));
  if (note === null) return;
  await act('POST', `/api/events/${encodeURIComponent(e.id)}/cancel`, note, t('ev.cancelled'));
  loadEvents();
}

// -- the form (admins) -----------------------------------------------------------------------

function textInputs(box, prefix, values, area) {
  const legend = box.querySelector('legend');
  box.replaceChildren(legend, ...ev.languages.map((l) => {
    const field = el('div', 'field');
    const label = el('label', null, t('ev.in_lang', { lang: ENDONYMS[l] || l }));
    label.htmlFor = `${prefix}-${l}`;
    const input = el(area ? 'textarea' : 'input');
    input.id = `${prefix}-${l}`;
    input.lang = l;
    input.dir = 'auto';
    input.maxLength = area ? 2000 : 200;
    if (area) input.rows = 2;
    input.value = values?.[l] || '';
    field.append(label, input);
    return field;
  }));
}

function options(select, values, text, chosen) {
  select.replaceChildren(...values.map((v) => {
    const o = el('option', null, text(v));
    o.value = String(v);
    o.selected = String(v) === String(chosen);
    return o;
  }));
}

function openForm(e = null) {
  ev.editing = e;
  $('ev-edit-title').textContent = e ? t('ev.edit.title', { title: titleOf(e) }) : t('ev.new');
  $('ev-slug').value = e ? e.slug : '';
  $('ev-slug').disabled = !!e;
  textInputs($('ev-titles'), 'ev-title', e?.title, false);
  textInputs($('ev-descs'), 'ev-desc', e?.description, true);
  $('ev-starts').value = wall(e?.starts);
  $('ev-tz').value = e ? e.tz : Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  $('ev-deadline').value = e && e.signup_deadline !== e.starts ? wall(e.signup_deadline) : '';
  $('ev-length').value = e ? e.length_min : 30;
  const chosen = new Set(e ? e.prompts.map((p) => (typeof p === 'string' ? p : p.id)) : []);
  const box = $('ev-prompts');
  box.replaceChildren(box.querySelector('legend'), ...[...state.prompts.values()].map((p) => {
    const label = el('label', 'check');
    const input = el('input');
    input.type = 'checkbox';
    input.value = p.id;
    input.checked = chosen.has(p.id);
    const text = el('span', null, p.text);
    text.dir = 'auto';
    label.append(input, ' ', text);
    return label;
  }));
  options($('ev-mode'), MODES, (m) => word('mode', m), e ? e.mode : 'bridge');
  options($('ev-group'), GROUPS, (g) => num(g), e ? e.group : 2);
  $('ev-invite').value = '';
  $('ev-invite').placeholder = e?.invite_required ? t('ev.invite.kept') : '';
  $('ev-err').textContent = '';
  $('ev-edit').hidden = false;
  $('ev-edit-title').focus();
}

function texts(prefix) {
  const out = {};
  for (const l of ev.languages) {
    const v = $(`${prefix}-${l}`).value.trim();
    if (v) out[l] = v;
  }
  return out;
}

async function save(evt) {
  evt.preventDefault();
  const e = ev.editing;
  const body = {
    title: texts('ev-title'), description: texts('ev-desc'), starts: $('ev-starts').value,
    tz: $('ev-tz').value.trim(), signup_deadline: $('ev-deadline').value || null,
    length_min: Number($('ev-length').value), mode: $('ev-mode').value, group: Number($('ev-group').value),
    prompts: [...$('ev-prompts').querySelectorAll('input:checked')].map((i) => i.value),
  };
  if (!e && $('ev-slug').value.trim()) body.slug = $('ev-slug').value.trim();
  // An edit keeps the invite code unless a new one is typed; a new event has none if empty.
  if ($('ev-invite').value.trim() || !e) body.invite_code = $('ev-invite').value.trim() || null;
  if (e && wall(e.starts) === body.starts && e.tz === body.tz) delete body.starts;
  const r = await api(e ? 'PATCH' : 'POST', e ? `/api/events/${encodeURIComponent(e.id)}` : '/api/events', body);
  if (r.status !== 200 && r.status !== 201) {
    $('ev-err').textContent = problemText(r);
    return;
  }
  $('ev-edit').hidden = true;
  done(e ? t('ev.saved') : t('ev.created', { title: titleOf(r.body) }));
  hooks.loadAudit();
  await loadEvents();
  choose(r.body.slug);
}

// -- one event as it runs ----------------------------------------------------------------

function choose(slug) {
  ev.chosen = slug;
  ev.live = null;
  $('ev-live').hidden = false;
  poll();
  $('ev-live-title').focus();
}

async function poll() {
  if (!ev.chosen || ev.busy) return;
  ev.busy = true;
  try {
    const r = await api('GET', `/api/events/${encodeURIComponent(ev.chosen)}/live`);
    if (r.status === 200) {
      ev.live = r.body;
      ev.skew = Date.parse(r.body.now) - Date.now();
    } else if (r.status === 404) {
      ev.chosen = null;
      alertMsg(problemText(r));
    }
  } finally {
    ev.busy = false;
  }
  renderLive();
}

function renderCountdown() {
  const l = ev.live;
  if (!l) return;
  const left = (Date.parse(l.starts) - (Date.now() + ev.skew)) / 1000;
  $('ev-countdown').textContent = left > 0 ? duration(left) : t('ev.started');
}

export function renderLive() {
  const l = ev.live;
  $('ev-live').hidden = !ev.chosen;
  if (!l) return;
  $('ev-live-title').textContent = titleOf(l.event);
  $('ev-state').textContent = `${word('ev.state', l.state)} · ${when(l.starts)}`;
  renderCountdown();
  $('ev-signups').textContent = num(l.signups);
  $('ev-present').textContent = num(l.present);
  $('ev-rooms').textContent = num(l.rooms);
  $('ev-share').textContent = l.share === null ? '–'
    : t('ev.share', { pct: num(l.share, { style: 'percent' }), k: l.crossing2, n: l.rooms });
  renderBalance(l.balance, BALANCE_IDS);
  const rows = l.waiting.map((w) => {
    const tr = el('tr');
    td(tr, duration(w.waited_s));
    td(tr, word('ev.why', w.reason, w.reason_words));
    return tr;
  });
  show('ev-waiting', rows);
  $('ev-waiting-empty').hidden = rows.length > 0;
  const more = l.waiting_total - rows.length;
  $('ev-waiting-more').hidden = more <= 0;
  $('ev-waiting-more').textContent = more > 0 ? t('ev.waiting.more', { n: more }) : '';
}

// Each second: the countdown; every POLL_MS while the tab is shown and the page visible, the
// chosen event again.
function everySecond() {
  if (state.tab !== 'events' || !state.signedIn) return;
  renderCountdown();
  if (document.visibilityState === 'visible' && Date.now() - ev.polledAt >= POLL_MS) {
    ev.polledAt = Date.now();
    poll();
  }
}

export function setupEvents() {
  $('ev-new').addEventListener('click', () => openForm(null));
  $('ev-close').addEventListener('click', () => { $('ev-edit').hidden = true; });
  $('ev-form').addEventListener('submit', save);
  clearInterval(ev.timer);
  ev.timer = setInterval(everySecond, 1000);
}
