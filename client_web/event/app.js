// The event page (/e/<slug>): what the event is, when (the member's time and the
// event's zone), a countdown, and signing up ahead. The token that alone changes or
// withdraws the sign-up is kept in this browser's localStorage, per event.
import { LOCALES, negotiate, loadCatalog, t, has } from '../i18n.js';
import { local } from '../store.js';

const $ = (id) => document.getElementById(id);
const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
const api = `/api/e/${encodeURIComponent(slug)}`;
const tokenKey = `bc.event.${slug}`;
const NAMES = { en: 'English', de: 'Deutsch', es: 'Español', fr: 'Français', pl: 'Polski', sv: 'Svenska', uk: 'Українська', ar: 'العربية' };
const STANCES = ['agree', 'disagree', 'unsure'];
let ev = null;
let lang = 'en';
let mine = null;

function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else if (k in e && k !== 'lang') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.appendChild(k);
  return e;
}
const option = (value, text) => el('option', { value, text });
const pick = (texts, fallback = '') => (texts && (texts[lang] || texts.en || Object.values(texts)[0])) || fallback;
const say = (key, params) => { $('ev-status').textContent = t(key, params); };
const alarm = (text) => { $('ev-alert').textContent = text; };

function fmt(iso, zone) {
  const opts = { dateStyle: 'full', timeStyle: 'short' };
  if (zone) opts.timeZone = zone;
  return new Intl.DateTimeFormat(lang, opts).format(new Date(iso));
}

async function call(method, body) {
  const headers = { 'Content-Type': 'application/json' };
  const token = local.get(tokenKey);
  if (token && method !== 'POST') headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${api}/signup`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, data };
}

function problem(data) {
  const key = `event.err.${data.error}`;
  return has(key) ? t(key) : t('event.err.other', { message: data.message || '' });
}

function bucketLabel(b) {
  return has(`bucket.${b}`) ? t(`bucket.${b}`) : b.replace(/_/g, ' ');
}

function renderForm() {
  const list = $('ev-prompts');
  list.replaceChildren();
  ev.prompts.forEach((p, i) => {
    const box = el('input', { type: 'checkbox', id: `ep-${i}`, value: p.id });
    const sel = el('select', { id: `es-${i}` }, option('', t('start.stanceNone')));
    for (const s of STANCES) sel.appendChild(option(s, t(`start.stance.${s}`)));
    const stance = el('div', { class: 'field' }, el('label', { htmlFor: `es-${i}`, text: t('start.stance') }), sel);
    stance.hidden = true;
    box.addEventListener('change', () => { stance.hidden = !box.checked; });
    const text = el('span', { text: pick(p.texts, p.text), dir: 'auto' });
    list.appendChild(el('li', {}, el('label', { class: 'check' }, box, text), stance));
  });
  for (const id of ['ev-lang1', 'ev-lang2']) {
    const sel = $(id);
    sel.replaceChildren();
    if (id === 'ev-lang2') sel.appendChild(option('', t('start.langNone')));
    for (const code of Object.keys(NAMES)) sel.appendChild(option(code, NAMES[code]));
  }
  $('ev-lang1').value = lang;
  $('ev-dims').replaceChildren(...ev.questions.map((q, i) => {
    const sel = el('select', { id: `ed-${i}`, name: q.id }, option('', t('start.preferNot')));
    for (const b of q.buckets) sel.appendChild(option(b, bucketLabel(b)));
    return el('div', { class: 'field' }, el('label', { htmlFor: `ed-${i}`, text: pick(q.labels, q.label) }), sel);
  }));
  $('ev-invite-f').hidden = !ev.invite_required || Boolean(mine);
}

function fill(answers) {
  ev.prompts.forEach((p, i) => {
    const box = $(`ep-${i}`);
    box.checked = answers.prompts.includes(p.id);
    $(`es-${i}`).value = answers.stances[p.id] || '';
    $(`es-${i}`).closest('.field').hidden = !box.checked;
  });
  $('ev-lang1').value = answers.languages[0] || lang;
  $('ev-lang2').value = answers.languages[1] || '';
  ev.questions.forEach((q, i) => { $(`ed-${i}`).value = answers.profile[q.id] || ''; });
}

function read() {
  const prompts = [];
  const stances = {};
  ev.prompts.forEach((p, i) => {
    if (!$(`ep-${i}`).checked) return;
    prompts.push(p.id);
    if ($(`es-${i}`).value) stances[p.id] = $(`es-${i}`).value;
  });
  const languages = [$('ev-lang1').value];
  if ($('ev-lang2').value && $('ev-lang2').value !== languages[0]) languages.push($('ev-lang2').value);
  const profile = {};
  ev.questions.forEach((q, i) => { if ($(`ed-${i}`).value) profile[q.id] = $(`ed-${i}`).value; });
  const body = { prompts, stances, languages, learning: [], profile, lang };
  if (ev.invite_required && !mine) body.invite = $('ev-invite').value.trim();
  return body;
}

function open() {
  return !ev.cancelled && Date.now() < Date.parse(ev.signup_deadline);
}

// From the lobby's opening to the end, a signed-up member goes in from here; before,
// the page says when it opens.
function showLobby() {
  const now = Date.now();
  const live = Boolean(mine) && !ev.cancelled && now < Date.parse(ev.ends);
  const inside = live && now >= Date.parse(ev.lobby_opens);
  $('ev-enter-p').hidden = !inside;
  $('ev-lobby').hidden = !live || inside;
  const text = live && !inside ? t('event.lobbyOpens', { time: fmt(ev.lobby_opens) }) : '';
  if ($('ev-lobby').textContent !== text) $('ev-lobby').textContent = text;
}

function showState() {
  showLobby();
  const token = local.get(tokenKey);
  $('ev-mine').hidden = !mine;
  $('ev-token').value = mine ? token : '';
  $('ev-form').hidden = !open();
  $('ev-submit').textContent = t(mine ? 'event.save' : 'event.signUp');
  $('ev-withdraw').hidden = !mine;
  $('ev-invite-f').hidden = !ev.invite_required || Boolean(mine);
  if (ev.cancelled) say('event.cancelled');
  else if (!open()) say(mine ? 'event.closedMine' : 'event.closed');
}

async function submit(e) {
  e.preventDefault();
  alarm('');
  const body = read();
  if (!body.prompts.length) {
    alarm(t('event.err.noPrompt'));
    $('ep-0').focus();
    return;
  }
  const r = await call(mine ? 'PUT' : 'POST', body);
  if (!r.ok) {
    alarm(problem(r.data));
    return;
  }
  if (!mine) local.set(tokenKey, r.data.token);
  const first = !mine;
  mine = r.data.signup;
  showState();
  say(first ? 'event.done' : 'event.saved');
  if (first) $('ev-token').focus();
}

async function withdraw() {
  alarm('');
  const r = await call('DELETE');
  if (!r.ok && r.status !== 401) {
    alarm(problem(r.data));
    return;
  }
  local.set(tokenKey, null);
  mine = null;
  showState();
  say('event.withdrawn');
  $('ev-title').focus();
}

function tick() {
  showLobby();
  const left = Math.max(0, Math.floor((Date.parse(ev.starts) - Date.now()) / 1000));
  if (!left) {
    const over = Date.now() >= Date.parse(ev.ends);
    $('ev-count').textContent = t(over ? 'event.over' : 'event.started');
    // Until the end, the lobby's link stays in step with the clock.
    if (!over) setTimeout(tick, 1000 - (Date.now() % 1000));
    return;
  }
  const d = Math.floor(left / 86400);
  const hms = [Math.floor(left / 3600) % 24, Math.floor(left / 60) % 60, left % 60]
    .map((n) => String(n).padStart(2, '0')).join(':');
  $('ev-count').textContent = t('event.in', { time: d ? `${t('event.days', { count: d })} ${hms}` : hms });
  setTimeout(tick, 1000 - (Date.now() % 1000));
}

function render() {
  document.title = `${pick(ev.title)} · ${t('app.name')}`;
  $('ev-title').textContent = pick(ev.title);
  $('ev-title').tabIndex = -1;
  $('ev-desc').textContent = pick(ev.description);
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  $('ev-when').textContent = here === ev.tz ? t('event.startsHere', { time: fmt(ev.starts, ev.tz), tz: ev.tz })
    : t('event.starts', { local: fmt(ev.starts), time: fmt(ev.starts, ev.tz), tz: ev.tz });
  $('ev-deadline').textContent = t('event.deadline', { time: fmt(ev.signup_deadline) });
  $('ev-kept').textContent = t('event.kept', { time: fmt(ev.ends) });
  $('ev-ics').href = `${api}/calendar.ics?lang=${lang}`;
  $('ev-enter').href = `/?event=${encodeURIComponent(slug)}`;
  renderForm();
  if (mine) fill(mine);
  showState();
}

async function main() {
  lang = negotiate();
  await loadCatalog(lang);
  for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
  const ui = $('ui-lang');
  for (const code of LOCALES) ui.appendChild(option(code, NAMES[code]));
  ui.value = lang;
  ui.addEventListener('change', () => { location.search = `?lang=${ui.value}`; });
  const res = await fetch(api).catch(() => null);
  if (!res || !res.ok) {
    document.title = t('app.name');
    $('ev-title').textContent = t('event.unknown');
    return;
  }
  ev = await res.json();
  if (local.get(tokenKey)) {
    const r = await call('GET');
    if (r.ok) mine = r.data.signup;
    else if (r.status === 401) local.set(tokenKey, null);
  }
  render();
  $('ev-form').addEventListener('submit', submit);
  $('ev-withdraw').addEventListener('click', withdraw);
  tick();
}

main();
