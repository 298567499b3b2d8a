// Wiring: screens, focus, the frames from the server, and what each control sends.
import { loadCatalog, t, applyI18n, iso } from './i18n.js';
import { Connection } from './connection.js';
import { StartForm, preferredLanguage } from './start.js';
import { RoomView } from './chat.js';

const TOKEN_KEY = 'bc.token';
const SEQ_KEY = 'bc.seq.';
const ROOM_GONE = new Set(['unknown_room', 'not_in_room', 'room_closed']);
const $ = (id) => document.getElementById(id);

const store = {
  get(area, k) {
    try { return window[area].getItem(k); } catch { return null; }
  },
  set(area, k, v) {
    try {
      if (v == null) window[area].removeItem(k);
      else window[area].setItem(k, String(v));
    } catch { /* storage disabled: fine, we just forget */ }
  },
};

const S = {
  screen: 'notice',
  welcomed: false,
  queued: false,
  joining: false,
  lastJoin: null,
  rooms: new Map(),
  active: null,
  unread: 0,
  lostShown: false,
};

let start;
let conn;

// Polite, short-lived status line (errors from the server, reconnection news).
let statusTimer = 0;
function status(text) {
  const el = $('status');
  clearTimeout(statusTimer);
  // Clear first so the same words are announced again.
  el.textContent = '';
  statusTimer = setTimeout(() => {
    el.textContent = text;
    statusTimer = setTimeout(() => { el.textContent = ''; }, 10000);
  }, 50);
}

function setTitle() {
  const base = t(`title.${S.screen}`);
  document.title = S.unread ? t('title.unread', { count: S.unread })
    : base.startsWith('title.') ? t('app.name') : base;
}

function show(name, focusEl) {
  const changed = S.screen !== name;
  S.screen = name;
  if (changed) {
    clearTimeout(statusTimer);
    $('status').textContent = '';
  }
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== `s-${name}`;
  document.body.classList.toggle('in-chat', name === 'chat');
  setTitle();
  if (changed || focusEl) {
    window.scrollTo(0, 0);
    (focusEl || $(`s-${name}`).querySelector('h1')).focus();
  }
}

function notice(title, text, action) {
  $('notice-title').textContent = title;
  $('notice-text').textContent = text || '';
  const b = $('notice-action');
  b.hidden = !action;
  if (action) {
    b.textContent = action.label;
    b.onclick = action.run;
  }
  show('notice', $('notice-title'));
}

function makeId() {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- rooms ----

function openRoom(info) {
  let v = S.rooms.get(info.room);
  if (v) {
    v.update(info);
    return v;
  }
  v = new RoomView(info, {
    send: sendMessage,
    typing: (room) => conn.send({ type: 'typing', room }),
    leave: (room) => {
      if (conn.send({ type: 'leave', room })) return true;
      status(t('conn.notReady'));
      return false;
    },
    back: closeRoom,
    status,
  });
  S.rooms.set(info.room, v);
  $('rooms').appendChild(v.el);
  return v;
}

function activate(room) {
  S.active = room;
  for (const [id, v] of S.rooms) v.el.hidden = id !== room;
  renderTabs();
}

function renderTabs() {
  const nav = $('room-tabs');
  nav.replaceChildren();
  nav.setAttribute('aria-label', t('chat.tabs'));
  nav.hidden = S.rooms.size < 2;
  let i = 0;
  for (const [id] of S.rooms) {
    i += 1;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary small';
    b.textContent = t('chat.tab', { count: i });
    b.setAttribute('aria-current', String(id === S.active));
    b.addEventListener('click', () => {
      activate(id);
      S.rooms.get(id).focus();
    });
    nav.appendChild(b);
  }
}

function closeRoom(room) {
  const v = S.rooms.get(room);
  if (v) v.el.remove();
  S.rooms.delete(room);
  store.set('sessionStorage', SEQ_KEY + room, null);
  const next = [...S.rooms.values()].find((r) => !r.ended) || [...S.rooms.values()][0];
  if (next) {
    activate(next.id);
    next.focus();
  } else {
    S.active = null;
    show('start');
  }
}

function remember(room, seq) {
  const k = SEQ_KEY + room;
  if (Number(store.get('sessionStorage', k) || 0) < seq) store.set('sessionStorage', k, seq);
}

function sendMessage(room, text) {
  const v = S.rooms.get(room);
  const id = makeId();
  v.addOwn(id, text);
  conn.queue({ type: 'send', room, id, text });
  if (!conn.ready) status(t('conn.offline'));
}

// ---- frames ----

const on = {
  welcome(f) {
    if (f.token) store.set('localStorage', TOKEN_KEY, f.token);
    const wasWelcomed = S.welcomed;
    S.welcomed = true;
    start.render(f.prompts || [], f.dimensions || [], f.sensitive);
    conn.welcomed();
    const rooms = Array.isArray(f.rooms) ? f.rooms : [];
    const live = new Set(rooms.map((r) => r.room));
    for (const [id, v] of S.rooms) {
      if (!live.has(id) && !v.ended) {
        for (const p of conn.pending(id)) {
          conn.forget(p.id);
          v.failed(p.id, t('closed.unknown'));
        }
        v.end(null);
      }
    }
    for (const r of rooms) {
      const v = openRoom(r);
      v.seenBefore = Number(store.get('sessionStorage', SEQ_KEY + r.room) || 0);
      v.beginResume();
      conn.send({ type: 'resume', room: r.room, after: v.lastSeq });
    }
    if (rooms.length) {
      if (!S.rooms.has(S.active) || S.rooms.get(S.active).ended) activate(rooms[0].room);
      else renderTabs();
      S.queued = false;
      if (S.screen !== 'chat') {
        show('chat', S.rooms.get(S.active).title);
      }
    } else if ((S.queued || S.joining) && S.lastJoin) {
      // The server withdrew our ticket when the socket dropped: ask again.
      conn.send(S.lastJoin);
      status(t('queue.again'));
    } else if (S.screen === 'notice' || (S.screen === 'queued' && !S.queued)) {
      show('start');
    }
    if (wasWelcomed && !S.queued) status(t('conn.back'));
  },

  queued(f) {
    S.queued = true;
    S.joining = false;
    start.busy(false);
    // `waiting` counts the others who could be matched with us, not us.
    const w = f.waiting;
    $('q-waiting').textContent = typeof w === 'number' ? t('queue.waiting', { count: Math.max(0, w) }) : '';
    const eta = f.eta_s;
    $('q-eta').textContent = typeof eta !== 'number' ? ''
      : eta < 90 ? t('queue.etaSeconds', { count: Math.max(1, Math.round(eta)) })
        : t('queue.etaMinutes', { count: Math.round(eta / 60) });
    if (S.screen !== 'queued') show('queued');
  },

  left_queue() {
    S.queued = false;
    show('start');
    status(t('start.stopped'));
  },

  matched(f) {
    S.queued = false;
    S.joining = false;
    start.busy(false);
    const v = openRoom(f);
    activate(f.room);
    show('chat', v.title);
  },

  message(f) {
    const v = S.rooms.get(f.room);
    if (!v || !v.addMessage(f)) return;
    remember(f.room, f.seq);
    if (v.resuming && f.seq > (v.seenBefore || 0)) v.newWhileAway = (v.newWhileAway || 0) + 1;
    if (document.hidden && f.from !== v.you) {
      S.unread += 1;
      setTitle();
    }
  },

  ack(f) {
    const p = conn.forget(f.id);
    const v = p ? S.rooms.get(p.room) : [...S.rooms.values()].find((r) => r.own(f.id));
    if (!v) return;
    v.delivered(f.id, f.seq, f.ts);
    remember(v.id, f.seq);
  },

  typing(f) {
    const v = S.rooms.get(f.room);
    if (v && f.from !== v.you) v.typing(f.from);
  },

  left(f) {
    S.rooms.get(f.room)?.note(t('chat.left', { name: iso(f.from) }));
  },

  away(f) {
    S.rooms.get(f.room)?.note(t('chat.away', { name: iso(f.from) }));
  },

  back(f) {
    S.rooms.get(f.room)?.note(t('chat.isBack', { name: iso(f.from) }));
  },

  stage(f) {
    S.rooms.get(f.room)?.stage(f);
  },

  resumed(f) {
    const v = S.rooms.get(f.room);
    if (!v) return;
    v.endResume();
    if (f.complete === false) v.note(t('chat.incomplete'), 'warn');
    if (v.newWhileAway) status(t('chat.restored', { count: v.newWhileAway }));
    v.newWhileAway = 0;
    // Own messages not yet acknowledged: show them (after a reload) and send again, same id.
    for (const p of conn.pending(f.room)) v.addOwn(p.id, p.text);
    conn.resend(f.room);
  },

  closed(f) {
    const v = S.rooms.get(f.room);
    if (!v) return;
    for (const p of conn.pending(f.room)) {
      conn.forget(p.id);
      v.failed(p.id, t('chat.ended'));
    }
    store.set('sessionStorage', SEQ_KEY + f.room, null);
    if (S.active !== f.room) activate(f.room);
    v.end(f.reason);
  },

  error(f) {
    const code = f.code;
    const msg = f.message || code;
    if (code === 'unknown_token') {
      store.set('localStorage', TOKEN_KEY, null);
      conn.send({ type: 'hello', v: 1, token: null, lang: preferredLanguage() });
      return;
    }
    if (code === 'suspended' && !S.welcomed) {
      conn.stop();
      notice(t('conn.suspended'), msg);
      return;
    }
    if (code === 'unsupported_version') {
      conn.stop();
      notice(t('conn.unsupported'), msg, { label: t('conn.retryNow'), run: () => location.reload() });
      return;
    }
    if (f.ref && conn.outbox.has(f.ref)) {
      if (code === 'rate_limited') {
        conn.resendLater(f.ref);
      } else {
        const p = conn.forget(f.ref);
        S.rooms.get(p.room)?.failed(f.ref, msg);
      }
      status(msg);
      return;
    }
    if (ROOM_GONE.has(code)) {
      // A `resume` for a room that is gone: that conversation has ended.
      const v = [...S.rooms.values()].find((r) => r.resuming);
      if (v) {
        v.endResume();
        v.end(null);
      }
    }
    if (code === 'already_queued') {
      on.queued({ waiting: null, eta_s: null });
      return;
    }
    if (code === 'not_queued') {
      S.queued = false;
      if (S.screen === 'queued') show('start');
      return;
    }
    if (S.joining) {
      S.joining = false;
      start.busy(false);
      start.error(msg);
    }
    status(msg);
  },
};

// ---- connection state shown to the member ----

let countdown = 0;
function onState(name, delay) {
  const alert = $('alert');
  const retry = $('retry');
  clearInterval(countdown);
  if (name === 'waiting') {
    const text = conn.everReady ? t('conn.lost') : t('conn.unreachable');
    if (!S.lostShown) {
      alert.textContent = text;
      S.lostShown = true;
    }
    retry.hidden = false;
    const tick = () => {
      const s = Math.max(1, Math.ceil((conn.retryAt - Date.now()) / 1000));
      $('retry-text').textContent = t('conn.retryIn', { count: s });
    };
    tick();
    countdown = setInterval(tick, 1000);
  } else if (name === 'connecting') {
    $('retry-text').textContent = t('conn.retrying');
  } else if (name === 'open') {
    alert.textContent = '';
    retry.hidden = true;
    S.lostShown = false;
  } else if (name === 'replaced') {
    alert.textContent = '';
    retry.hidden = true;
    notice(t('conn.replaced'), t('conn.replacedText'), {
      label: t('conn.useHere'),
      run: () => conn.connect(),
    });
  }
}

function onOpen() {
  conn.send({ type: 'hello', v: 1, token: store.get('localStorage', TOKEN_KEY), lang: preferredLanguage() });
}

// Frames that arrive before the catalog has loaded wait in `early`.
let early = [];
function onFrame(f) {
  if (early) {
    early.push(f);
    return;
  }
  const h = Object.hasOwn(on, f.type) ? on[f.type] : null;
  if (h) h(f);
}

// ---- start ----

async function main() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  conn = new Connection(`${proto}//${location.host}/ws`, { open: onOpen, frame: onFrame, state: onState });
  conn.connect();
  await loadCatalog('en');
  applyI18n(document);
  start = new StartForm(document);
  setTitle();
  const waiting = early;
  early = null;
  waiting.forEach(onFrame);

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (start.isBusy) return;
    start.error('');
    const frame = start.read();
    if (!frame) return;
    if (!conn.send(frame)) {
      start.error(t('conn.notReady'));
      status(t('conn.notReady'));
      return;
    }
    S.lastJoin = frame;
    S.joining = true;
    $('q-prompts').replaceChildren(...start.chosen().map((box) => {
      const li = document.createElement('li');
      li.textContent = box.nextElementSibling.textContent;
      return li;
    }));
    start.busy(true);
    status(t('start.joining'));
  });

  $('stop-waiting').addEventListener('click', () => {
    if (!conn.send({ type: 'leave_queue' })) {
      // Offline: the server already withdrew the ticket with the socket.
      S.queued = false;
      show('start');
    }
  });

  $('retry-now').addEventListener('click', () => conn.now());
  window.addEventListener('online', () => conn.now());
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    S.unread = 0;
    setTitle();
    conn.now();
  });
}

main();
