// Bridgechat moderators' dashboard: sign-in, the tabs, and the live feed (/ws/moderate) that
// keeps the Live tab current. The parts live in moderate/*.js (plain ES modules, no build).
import {
  loadAudit, loadInvites, loadPrompts, loadSuspensions, renderPrompts, setPrompts, setupAdmin,
} from './moderate/admin.js';
import { renderCharts } from './moderate/charts.js';
import { loadEvents, renderEvents, setupEvents } from './moderate/events.js';
import { $, alertMsg, api, done, hooks, problemText, reasonText, state } from './moderate/core.js';
import {
  ENDONYMS, LANGS, applyI18n, lang, loadCatalog, negotiate, remember, t,
} from './moderate/i18n.js';
import {
  loadShift, news, renderFigures, renderOpenReports, renderQueue, renderRooms, renderShift,
  renderStuck, setupLive, tick,
} from './moderate/live.js';
import {
  closeReport, loadOpen, loadReports, openReport, renderFilters, setupReports,
} from './moderate/reports.js';

const TOUCH_EVERY = 60000;
const TABS = ['live', 'reports', 'suspensions', 'prompts', 'events', 'audit'];
const feed = { ws: null, retry: 0, timer: 0, touchedAt: 0, live: 'connecting' };

// -- tabs (WAI-ARIA tabs pattern: arrows move between tabs, Home and End to the ends) --------

function visibleTabs() {
  return TABS.filter((name) => !$(`tab-${name}`).hidden);
}

function showTab(name, focus = false) {
  state.tab = name;
  for (const n of TABS) {
    const tab = $(`tab-${n}`);
    const on = n === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`p-${n}`).hidden = !on;
  }
  document.body.dataset.tab = name;
  if (focus) $(`tab-${name}`).focus();
  if (name === 'reports') loadReports();
  if (name === 'suspensions') loadSuspensions();
  if (name === 'events') loadEvents();
  if (name === 'audit') { loadAudit(); loadInvites(); }
}

function onTabKey(ev) {
  const tabs = visibleTabs();
  const i = tabs.indexOf(state.tab);
  const rtl = document.documentElement.dir === 'rtl';
  const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[ev.key];
  let next = null;
  if (step) next = tabs[(i + step + tabs.length) % tabs.length];
  else if (ev.key === 'Home') [next] = tabs;
  else if (ev.key === 'End') next = tabs[tabs.length - 1];
  if (!next) return;
  ev.preventDefault();
  showTab(next, true);
}

// -- the live feed ------------------------------------------------------------------------

function setLive(name) {
  feed.live = name;
  $('live').dataset.state = name;
  $('live').textContent = t(`feed.${name}`);
}

function connect() {
  clearTimeout(feed.timer);
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/moderate`);
  feed.ws = ws;
  setLive('connecting');
  ws.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch { return; }
    onFrame(f);
  };
  ws.onclose = (e) => {
    if (feed.ws !== ws) return;
    feed.ws = null;
    if (!state.signedIn) return;
    if (e.code === 4401) {
      signedOut(t('err.not_signed_in'));
      return;
    }
    setLive('down');
    const delay = Math.min(15000, 1000 * 2 ** feed.retry++) * (0.75 + Math.random() / 2);
    // A refused handshake looks like any other close: ask whether the session still holds.
    feed.timer = setTimeout(async () => {
      if ((await api('GET', '/api/moderator/session')).status === 200) connect();
    }, delay);
  };
}

function applyQueue(f) {
  state.queue = f.queue;
  state.queueAt = performance.now();
  state.waiting = f.waiting ?? f.queue.length;
  state.wait = f.wait || state.wait;
  state.stuck = f.stuck || [];
  state.stuckTotal = f.stuck_total || 0;
  if (f.balance) state.balance = f.balance;
  // The server samples the pool per minute, the latest sample standing for the minute;
  // between its `charts` frames the current minute follows the queue the same way.
  const last = state.charts?.minutes?.at(-1);
  if (last && Date.now() - Date.parse(last.at) < 60000) {
    last.waiting = state.waiting;
    last.median_wait_s = state.waiting ? state.wait.median_s : null;
  }
  renderQueue();
  renderStuck();
  renderCharts();
}

function applyRooms(f) {
  state.rooms = f.rooms;
  state.live = f.live || [];
  state.liveAt = performance.now();
  renderRooms();
}

function onFrame(f) {
  switch (f.type) {
    case 'snapshot':
      feed.retry = 0;
      setLive('live');
      if (f.charts) state.charts = f.charts;
      if (f.shift) { state.shift = f.shift; renderShift(); }
      applyQueue(f);
      applyRooms(f);
      renderCharts();
      state.reports = f.reports;
      loadOpen();
      break;
    case 'queue_changed': applyQueue(f); break;
    case 'rooms_changed': applyRooms(f); break;
    case 'charts': {
      const { type, ...charts } = f;
      state.charts = charts;
      renderCharts();
      return;
    }
    case 'shift': {
      const { type, ...shift } = f;
      state.shift = shift;
      renderShift();
      return;
    }
    case 'report_opened':
      state.open.set(f.report, { id: f.report, reason: f.reason, verified: f.verified, created: new Date().toISOString() });
      state.reports = f.reports ?? state.reports + 1;
      news(t('sum.new_report', { reason: reasonText(f.reason), n: f.verified }));
      renderOpenReports();
      if (state.tab === 'reports') loadReports();
      break;
    case 'report_resolved':
      state.open.delete(f.report);
      state.reports = f.reports ?? Math.max(0, state.reports - 1);
      if (state.current === f.report && !$('resolve-form').hidden) closeReport(t('report.taken'));
      renderOpenReports();
      if (state.tab === 'reports') loadReports();
      break;
    case 'prompts_changed':
      setPrompts(f.prompts);
      renderAll();
      break;
    default:
      return;
  }
  renderFigures();
}

// Everything drawn from data, again: after the prompts or the language changed.
function renderAll() {
  renderQueue();
  renderStuck();
  renderRooms();
  renderOpenReports();
  renderCharts();
  renderShift();
  renderPrompts();
  renderEvents();
  renderFilters();
  renderFigures();
  tick();
}

// -- language ---------------------------------------------------------------------------

async function setLanguage(l) {
  await loadCatalog(l);
  applyI18n();
  $('lang').value = lang;
  setLive(feed.live);
  renderAll();
  if (state.signedIn) {
    $('who-name').textContent = `${state.username} (${t(`role.${state.role}`)})`;
    if (state.tab === 'reports') loadReports();
    if (state.tab === 'suspensions') loadSuspensions();
    if (state.tab === 'events') loadEvents();
    if (state.tab === 'audit') { loadAudit(); loadInvites(); }
    if (state.current) openReport(state.current);
  }
}

// -- signing in and out ---------------------------------------------------------------------

function signedIn(me) {
  Object.assign(state, { signedIn: true, csrf: me.csrf, role: me.role, username: me.username });
  alertMsg('');
  $('who-name').textContent = `${me.username} (${t(`role.${me.role}`)})`;
  $('who-name').dataset.role = me.role;
  $('who').hidden = false;
  $('s-login').hidden = true;
  $('s-dash').hidden = false;
  $('tab-audit').hidden = me.role !== 'admin';
  showTab('live');
  $('dash-title').focus();
  loadPrompts();
  loadShift();
  connect();
}

function signedOut(message) {
  Object.assign(state, { signedIn: false, csrf: null, role: null, current: null });
  clearTimeout(feed.timer);
  const ws = feed.ws;
  feed.ws = null;
  if (ws) ws.close();
  closeReport('');
  $('who').hidden = true;
  $('s-dash').hidden = true;
  $('s-login').hidden = false;
  $('done').textContent = '';
  alertMsg(message);
  $('login-title').focus();
}

async function login(ev) {
  ev.preventDefault();
  $('login-err').textContent = '';
  const r = await api('POST', '/api/moderator/login', { username: $('username').value, password: $('password').value });
  $('password').value = '';
  if (r.status === 200) signedIn(r.body);
  else $('login-err').textContent = problemText(r);
}

async function logout() {
  await api('POST', '/api/moderator/logout', {});
  signedOut('');
  done(t('signed_out'));
}

// A session ends after a while without use; a person at the dashboard keeps it going.
function touch() {
  if (!state.signedIn || Date.now() - feed.touchedAt < TOUCH_EVERY) return;
  feed.touchedAt = Date.now();
  api('GET', '/api/moderator/session');
}

async function start() {
  Object.assign(hooks, {
    signedOut, showTab, openReport, loadAudit, loadSuspensions, loadReports, renderAll,
  });
  $('lang').replaceChildren(...LANGS.map((l) => {
    const o = document.createElement('option');
    o.value = l;
    o.lang = l;
    o.textContent = ENDONYMS[l];
    return o;
  }));
  $('lang').addEventListener('change', () => {
    remember($('lang').value);
    setLanguage($('lang').value);
  });
  await setLanguage(negotiate());
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  for (const name of TABS) $(`tab-${name}`).addEventListener('click', () => showTab(name));
  $('tabs').addEventListener('keydown', onTabKey);
  setupLive();
  setupReports();
  setupAdmin();
  setupEvents();
  for (const name of ['keydown', 'pointerdown']) document.addEventListener(name, touch, { passive: true });
  setInterval(tick, 1000);
  const me = await api('GET', '/api/moderator/session');
  if (me.status === 200) signedIn(me.body);
  else signedOut('');
}

start();
