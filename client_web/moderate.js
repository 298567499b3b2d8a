// Bridgechat moderators' dashboard: sign-in, the live feed (/ws/moderate), reports and powers.
// Whatever the server sends is put on the page with textContent, never parsed as HTML:
// report evidence is text members wrote.

const $ = (id) => document.getElementById(id);
const MODES = { bridge: 'Bridge', language_buddy: 'Language buddy', generations: 'Generations' };
const DONE = { dismiss: 'dismissed', warn: 'the author was warned', suspend: 'the author was suspended' };
const SUMMARY_EVERY = 5000;
const TOUCH_EVERY = 60000;

const state = {
  signedIn: false, csrf: null, role: null, username: null,
  queue: [], queueAt: 0, waiting: 0, wait: { median_s: null, longest_s: null },
  stuck: [], stuckTotal: 0, rooms: 0, live: [], liveAt: 0, reports: 0,
  prompts: new Map(), open: new Map(), current: null,
  ws: null, retry: 0, timer: 0,
  said: '', news: [], summaryTimer: 0, summaryAt: 0, touchedAt: 0,
};

// -- plumbing ----------------------------------------------------------------------

async function api(method, path, body) {
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
    return { status: 0, body: { message: 'The server cannot be reached. Check the connection and try again.' } };
  }
  let data = {};
  if ((resp.headers.get('Content-Type') || '').startsWith('application/json')) {
    data = (await resp.json().catch(() => null)) || {};
  }
  if (resp.status === 401 && state.signedIn && path !== '/api/moderator/login') {
    signedOut('Your session has ended. Sign in again.');
  }
  return { status: resp.status, body: data };
}

function td(tr, text, cls) {
  const cell = document.createElement('td');
  cell.textContent = text;
  if (cls) cell.className = cls;
  tr.append(cell);
  return cell;
}

function button(text, cls, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

// A table's rows; an empty table is hidden (the "nobody…" line beside it says so).
function show(table, rows) {
  $(table).tBodies[0].replaceChildren(...rows);
  $(table).closest('.scroll').hidden = rows.length === 0;
}

function duration(s) {
  if (s === null || s === undefined) return '–';
  const t = Math.max(0, Math.floor(s));
  if (t < 60) return `${t} s`;
  const m = Math.floor(t / 60);
  if (m < 60) return `${m} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const when = (iso) => new Date(iso).toLocaleString();
const promptText = (id) => (state.prompts.get(id) || { text: id }).text;

function alertMsg(text) { $('alert').textContent = text || ''; }
function done(text) {
  alertMsg('');
  $('done').textContent = text;
}

// What a screen reader hears: counts (and news such as a new report), at most every few
// seconds, and only when something changed; the figures on screen are not live regions.
function counts() {
  const parts = [plural(state.waiting, 'member waiting', 'members waiting')];
  if (state.stuckTotal) parts.push(`${state.stuckTotal} stuck`);
  parts.push(plural(state.rooms, 'live room', 'live rooms'));
  parts.push(plural(state.reports, 'open report', 'open reports'));
  return `${parts.join(', ')}.`;
}

function summarize() {
  if (state.summaryTimer || (!state.news.length && counts() === state.said)) return;
  const wait = Math.max(0, state.summaryAt + SUMMARY_EVERY - Date.now());
  state.summaryTimer = setTimeout(() => {
    state.summaryTimer = 0;
    state.summaryAt = Date.now();
    state.said = counts();
    $('summary').textContent = [...state.news, state.said].join(' ');
    state.news = [];
  }, wait);
}

// -- the live feed --------------------------------------------------------------------

function connect() {
  clearTimeout(state.timer);
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/moderate`);
  state.ws = ws;
  setLive('connecting', 'connecting…');
  ws.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch { return; }
    onFrame(f);
  };
  ws.onclose = (e) => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (!state.signedIn) return;
    if (e.code === 4401) {
      signedOut('Your session has ended. Sign in again.');
      return;
    }
    setLive('down', 'reconnecting…');
    const delay = Math.min(15000, 1000 * 2 ** state.retry++) * (0.75 + Math.random() / 2);
    // A refused handshake looks like any other close: ask whether the session still holds.
    state.timer = setTimeout(async () => {
      if ((await api('GET', '/api/moderator/session')).status === 200) connect();
    }, delay);
  };
}

function setLive(name, text) {
  $('live').dataset.state = name;
  $('live').textContent = text;
}

function onFrame(f) {
  switch (f.type) {
    case 'snapshot':
      state.retry = 0;
      setLive('live', 'live');
      applyQueue(f);
      applyRooms(f);
      state.reports = f.reports;
      loadReports();
      break;
    case 'queue_changed': applyQueue(f); break;
    case 'rooms_changed': applyRooms(f); break;
    case 'report_opened':
      state.open.set(f.report, { id: f.report, reason: f.reason, verified: f.verified, created: new Date().toISOString() });
      state.reports = f.reports ?? state.reports + 1;
      state.news.push(`New report: ${f.reason}, ${plural(f.verified, 'verified message', 'verified messages')}.`);
      renderReports();
      break;
    case 'report_resolved':
      state.open.delete(f.report);
      state.reports = f.reports ?? Math.max(0, state.reports - 1);
      if (state.current === f.report) closeReport('Another moderator resolved this report.');
      renderReports();
      break;
    case 'prompts_changed':
      setPrompts(f.prompts);
      break;
    default:
      return;
  }
  renderFigures();
}

function applyQueue(f) {
  state.queue = f.queue;
  state.queueAt = performance.now();
  state.waiting = f.waiting ?? f.queue.length;
  state.wait = f.wait || state.wait;
  state.stuck = f.stuck || [];
  state.stuckTotal = f.stuck_total || 0;
  renderQueue();
  renderStuck();
}

function applyRooms(f) {
  state.rooms = f.rooms;
  state.live = f.live || [];
  state.liveAt = performance.now();
  renderRooms();
}

// -- rendering ------------------------------------------------------------------------

function renderFigures() {
  $('f-waiting').textContent = String(state.waiting);
  $('f-stuck').textContent = String(state.stuckTotal);
  $('f-rooms').textContent = String(state.rooms);
  $('f-reports').textContent = String(state.reports);
  tick();
  summarize();
}

function renderQueue() {
  const rows = state.queue.map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.ticket = e.ticket;
    td(tr, '', 'wait').dataset.base = e.waited_s;
    td(tr, e.prompts.map(promptText).join(' · '));
    td(tr, e.languages.join(', '));
    td(tr, MODES[e.mode] || e.mode);
    return tr;
  });
  show('queue', rows);
  $('queue-empty').hidden = rows.length > 0;
  const more = state.waiting - rows.length;
  $('queue-more').hidden = more <= 0;
  $('queue-more').textContent = more > 0 ? `Showing the ${rows.length} longest waits of ${state.waiting}.` : '';
}

function renderStuck() {
  const rows = state.stuck.filter((r) => r.stuck > 0 || r.waiting > 1).map((r) => {
    const tr = document.createElement('tr');
    if (r.stuck) tr.className = 'stuck';
    td(tr, promptText(r.prompt));
    td(tr, r.language);
    td(tr, String(r.waiting), 'num');
    td(tr, String(r.stuck), 'num');
    return tr;
  });
  show('stuck', rows);
  $('stuck-empty').hidden = state.stuckTotal > 0;
}

function renderRooms() {
  const rows = state.live.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.room = r.room;
    td(tr, '', 'wait').dataset.base = r.age_s;
    td(tr, promptText(r.prompt));
    td(tr, String(r.size), 'num');
    const cell = td(tr, '');
    cell.append(button('End room', 'danger small', () => endRoom(r)));
    return tr;
  });
  show('rooms', rows);
  $('rooms-empty').hidden = state.rooms > 0;
}

// Waits tick every second between frames; the server's figures are the base.
function tick() {
  const q = (performance.now() - state.queueAt) / 1000;
  for (const cell of $('queue').querySelectorAll('td.wait')) cell.textContent = duration(Number(cell.dataset.base) + q);
  const r = (performance.now() - state.liveAt) / 1000;
  for (const cell of $('rooms').querySelectorAll('td.wait')) cell.textContent = duration(Number(cell.dataset.base) + r);
  const { median_s: median, longest_s: longest } = state.wait;
  $('f-median').textContent = state.waiting ? duration(median + q) : '–';
  $('f-longest').textContent = state.waiting ? duration(longest + q) : '–';
}

// -- reports ----------------------------------------------------------------------------

async function loadReports() {
  const r = await api('GET', '/api/reports?status=open');
  if (r.status !== 200) return;
  state.open = new Map(r.body.reports.map((x) => [x.id, x]));
  state.reports = state.open.size;
  renderReports();
  renderFigures();
}

function renderReports() {
  const items = [...state.open.values()].sort((a, b) => a.created.localeCompare(b.created)).map((x) => {
    const li = document.createElement('li');
    li.dataset.report = x.id;
    const text = document.createElement('span');
    text.textContent = `${x.reason} · ${plural(x.verified, 'verified message', 'verified messages')} · ${when(x.created)}`;
    li.append(text, button('Review', 'secondary small', () => openReport(x.id)));
    return li;
  });
  $('reports').replaceChildren(...items);
  $('reports-empty').hidden = items.length > 0;
}

async function openReport(id) {
  const r = await api('GET', `/api/reports/${encodeURIComponent(id)}`);
  if (r.status !== 200) {
    alertMsg(r.body.message || 'This report cannot be opened.');
    return;
  }
  const x = r.body;
  state.current = id;
  $('report-title').textContent = `Report: ${x.reason}`;
  $('report-meta').textContent = `Opened ${when(x.created)} · ${plural(x.verified, 'verified message', 'verified messages')}`;
  $('report-note').textContent = x.note ? `The reporter's note: ${x.note}` : 'The reporter left no note.';
  const items = x.evidence.map((m) => {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = `${m.from}: `;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = m.text;
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = when(m.ts);
    li.append(who, text, time);
    return li;
  });
  $('evidence').replaceChildren(...items);
  $('evidence-none').hidden = items.length > 0;
  $('resolve-form').reset();
  $('days-field').hidden = true;
  $('resolve-err').textContent = '';
  $('report').hidden = false;
  $('report-title').focus();
}

function closeReport(message) {
  state.current = null;
  $('report').hidden = true;
  $('evidence').replaceChildren();
  if (message) done(message);
}

async function resolve(ev) {
  ev.preventDefault();
  const form = $('resolve-form');
  const action = form.elements.action.value;
  const body = { action, note: $('resolve-note').value };
  if (action === 'suspend' && $('days').value) body.days = Number($('days').value);
  const r = await api('POST', `/api/reports/${encodeURIComponent(state.current)}/resolve`, body);
  if (r.status !== 200) {
    $('resolve-err').textContent = r.body.message || 'The report could not be resolved.';
    return;
  }
  state.open.delete(state.current);
  closeReport(`Report resolved: ${DONE[action]}.`);
  renderReports();
  loadAudit();
}

// -- powers --------------------------------------------------------------------------

function askNote(title, confirm) {
  const dialog = $('ask');
  $('ask-title').textContent = title;
  $('ask-ok').textContent = confirm;
  $('ask-note').value = '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolveNote) => {
    dialog.addEventListener('close', () => {
      resolveNote(dialog.returnValue === 'ok' ? $('ask-note').value.trim() : null);
    }, { once: true });
  });
}

async function act(method, path, note, success) {
  const r = await api(method, path, note ? { note } : {});
  if (r.status >= 200 && r.status < 300) {
    done(success);
    loadAudit();
  } else {
    alertMsg(r.body.message || 'That did not work.');
  }
  return r;
}

async function endRoom(room) {
  const note = await askNote(`End the room on “${promptText(room.prompt)}”? Its members see that a moderator closed it.`, 'End room');
  if (note !== null) await act('POST', `/api/rooms/${encodeURIComponent(room.room)}/end`, note, 'The room was ended.');
}

function setPrompts(list) {
  state.prompts = new Map(list.map((p) => [p.id, p]));
  const rows = list.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.prompt = p.id;
    const cell = td(tr, p.text);
    const small = document.createElement('span');
    small.className = 'hint';
    small.textContent = ` (${p.id}, ${p.lang})`;
    cell.append(small);
    td(tr, p.paused ? 'Paused' : 'Open');
    const actions = document.createElement('div');
    actions.className = 'actions';
    const path = `/api/prompts/${encodeURIComponent(p.id)}`;
    actions.append(
      p.paused
        ? button('Resume', 'secondary small', () => act('POST', `${path}/resume`, '', 'The prompt takes members again.'))
        : button('Pause', 'secondary small', async () => {
          const note = await askNote(`Pause “${p.text}”? Nobody new can choose it until it resumes.`, 'Pause');
          if (note !== null) await act('POST', `${path}/pause`, note, 'The prompt is paused.');
        }),
      button('Retire', 'danger small', async () => {
        const note = await askNote(`Retire “${p.text}”? It disappears from the list members choose from.`, 'Retire');
        if (note !== null) await act('DELETE', path, note, 'The prompt was retired.');
      }),
    );
    td(tr, '').append(actions);
    return tr;
  });
  $('prompts').tBodies[0].replaceChildren(...rows);
  renderQueue();
  renderStuck();
  renderRooms();
  tick();
}

async function loadPrompts() {
  const r = await api('GET', '/api/prompts');
  if (r.status === 200) setPrompts(r.body.prompts);
}

async function addPrompt(ev) {
  ev.preventDefault();
  const r = await api('POST', '/api/prompts', {
    id: $('prompt-id').value.trim(), text: $('prompt-text').value.trim(), lang: $('prompt-lang').value.trim(),
  });
  if (r.status === 201) {
    $('prompt-err').textContent = '';
    $('prompt-form').reset();
    done('The prompt was added.');
    loadPrompts();
    loadAudit();
  } else {
    $('prompt-err').textContent = r.body.message || 'The prompt could not be added.';
  }
}

// -- admin: invites and audit -----------------------------------------------------------

async function loadInvites() {
  if (state.role !== 'admin') return;
  const r = await api('GET', '/api/invites');
  if (r.status !== 200) return;
  $('invites-required').textContent = r.body.required
    ? 'Members need an invite code to join on this server.'
    : 'This server does not ask for invite codes (an operator turns them on with --require-invite).';
  const rows = r.body.invites.map((inv) => {
    const tr = document.createElement('tr');
    td(tr, inv.label || '–');
    td(tr, inv.max_uses === null ? `${inv.uses}` : `${inv.uses} of ${inv.max_uses}`, 'num');
    td(tr, `${when(inv.created)} by ${inv.created_by}`);
    td(tr, inv.revoked ? 'Revoked' : 'Live');
    const cell = td(tr, '');
    if (!inv.revoked) {
      cell.append(button('Revoke', 'danger small', async () => {
        const note = await askNote(`Revoke the code “${inv.label || inv.id}”? Nobody can join with it any more.`, 'Revoke');
        if (note !== null && (await act('DELETE', `/api/invites/${encodeURIComponent(inv.id)}`, note, 'The code was revoked.')).status === 204) loadInvites();
      }));
    }
    return tr;
  });
  show('invites', rows);
}

async function createInvite(ev) {
  ev.preventDefault();
  const uses = $('invite-uses').value;
  const r = await api('POST', '/api/invites', { label: $('invite-label').value, max_uses: uses ? Number(uses) : null });
  if (r.status !== 201) {
    alertMsg(r.body.message || 'The code could not be made.');
    return;
  }
  $('invite-form').reset();
  $('invite-new').textContent = `New code: ${r.body.code} (copy it now: it is not shown again)`;
  loadInvites();
  loadAudit();
}

async function loadAudit() {
  if (state.role !== 'admin') return;
  const r = await api('GET', '/api/audit?limit=200');
  if (r.status !== 200) return;
  const rows = r.body.entries.map((e) => {
    const tr = document.createElement('tr');
    td(tr, when(e.at));
    td(tr, e.moderator);
    td(tr, e.action);
    td(tr, e.target);
    td(tr, e.note || '');
    return tr;
  });
  $('audit').tBodies[0].replaceChildren(...rows);
}

// -- signing in and out ---------------------------------------------------------------

function signedIn(me) {
  Object.assign(state, { signedIn: true, csrf: me.csrf, role: me.role, username: me.username });
  alertMsg('');
  $('who-name').textContent = `${me.username} (${me.role})`;
  $('who').hidden = false;
  $('s-login').hidden = true;
  $('s-dash').hidden = false;
  for (const el of document.querySelectorAll('.admin')) el.hidden = me.role !== 'admin';
  $('dash-title').focus();
  loadPrompts();
  loadInvites();
  loadAudit();
  connect();
}

function signedOut(message) {
  Object.assign(state, { signedIn: false, csrf: null, role: null, current: null });
  clearTimeout(state.timer);
  const ws = state.ws;
  state.ws = null;
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
  else $('login-err').textContent = r.body.message || 'Signing in did not work. Try again.';
}

async function logout() {
  await api('POST', '/api/moderator/logout', {});
  signedOut('');
  done('You are signed out.');
}

// A session ends after a while without use; a person at the dashboard keeps it going.
function touch() {
  if (!state.signedIn || Date.now() - state.touchedAt < TOUCH_EVERY) return;
  state.touchedAt = Date.now();
  api('GET', '/api/moderator/session');
}

async function start() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('resolve-form').addEventListener('submit', resolve);
  $('resolve-form').addEventListener('change', () => {
    $('days-field').hidden = $('resolve-form').elements.action.value !== 'suspend';
  });
  $('report-close').addEventListener('click', () => closeReport(''));
  $('prompt-form').addEventListener('submit', addPrompt);
  $('invite-form').addEventListener('submit', createInvite);
  $('audit-refresh').addEventListener('click', loadAudit);
  for (const name of ['keydown', 'pointerdown']) document.addEventListener(name, touch, { passive: true });
  setInterval(tick, 1000);
  const me = await api('GET', '/api/moderator/session');
  if (me.status === 200) signedIn(me.body);
  else signedOut('');
}

start();
