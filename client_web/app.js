// Wiring: screens and focus, the frames from the server, and what each control sends.
// Only what the start screen needs loads first; the conversation, rules and
// alert modules follow in the background once the server said welcome (see
// `later`), so the page is usable sooner on a slow connection. The page shows
// no words until its catalog has loaded (html.wait), so nothing flashes in English.
import { loadCatalog, negotiate, t, applyI18n, iso, locale, errText } from './i18n.js';
import { local, session, prefs, token, OWNER_KEY } from './store.js';
import { Connection } from './connection.js';
import { StartForm } from './start.js';
import { status, urgent, clearStatus, clearAll, modNotice } from './say.js';
import { mountPrefs, fitViewport } from './device.js';

const SEQ_KEY = 'bc.seq.';
const ROOM_GONE = new Set(['unknown_room', 'not_in_room', 'room_closed']);
const $ = (id) => document.getElementById(id);

const S = {
  screen: 'notice',
  back: 'start',
  welcomed: false,
  ready: false,
  queued: false,
  joining: false,
  lobby: false, // in an event's lobby (lobby.js), waiting for its start
  lastJoin: null,
  proofs: 0, // challenges solved for the last join
  rooms: new Map(),
  active: null,
  unread: 0,
  lostShown: false,
  erasing: false,
  reports: [], // rooms whose `report` awaits `reported`, in order
  feedback: [], // rooms whose `feedback` awaits `thanks`, in order
  prompts: [], // welcome.prompts: a matched prompt's language comes from here
};

let start;
let conn;
let M = null; // the modules loaded later: chat, rules, alerts, timer
let L = null; // an event's lobby (lobby.js), when the page was opened with ?event=<slug>

let laterP = null;
function later() {
  // All listed, so they load side by side rather than one after another.
  laterP ??= Promise.all([import('./chat.js'), import('./rules.js'), import('./alerts.js'),
    import('./timer.js'), import('./report.js'), import('./feedback.js'), import('./names.js'),
    import('./menu.js'), import('./consent.js')])
    .then(([chat, rules, alerts, timer]) => {
      M = { chat, alerts, timer };
      M.rules = new rules.Rules({
        token: () => token.get(),
        erasing: (on_) => {
          S.erasing = on_;
          if (on_) conn.stop();
          else conn.connect();
        },
        erased,
      });
      if (S.date) timer.serverDate(S.date);
      return M;
    });
  return laterP;
}

const rulesSeen = () => local.get('bc.rules') === '1';

function setTitle() {
  const base = t(`title.${S.screen}`);
  document.title = S.unread ? t('title.unread', { count: S.unread })
    : base.startsWith('title.') ? t('app.name') : base;
}

// The newest message in view, after the visible window or the text size changed.
function keepEnd() {
  if (S.screen === 'chat') S.rooms.get(S.active)?.keepEnd();
}

function screenHeading() {
  if (S.screen === 'chat' && S.rooms.has(S.active)) return S.rooms.get(S.active).title;
  return $(`s-${S.screen}`).querySelector('h1');
}

// Every change of screen moves focus to its heading (or to `focusEl`).
function show(name, focusEl) {
  const changed = S.screen !== name;
  S.screen = name;
  if (changed) clearStatus();
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== `s-${name}`;
  document.body.classList.toggle('in-chat', name === 'chat');
  $('rules-btn').hidden = name === 'rules';
  setTitle();
  if (name !== 'queued') clearInterval(waitTimer);
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

function openRules() {
  if (S.screen !== 'rules') S.back = S.screen === 'notice' ? 'start' : S.screen;
  $('rules-ok').textContent = t(rulesSeen() ? 'rules.back' : 'rules.ok');
  show('rules');
}

function leaveRules() {
  const back = S.back === 'chat' && !S.rooms.size ? 'start' : S.back;
  if (back === 'chat') show('chat', S.rooms.get(S.active).title);
  else show(back || 'start');
}

function goStart() {
  if (rulesSeen()) show('start');
  else openRules();
}

function makeId() {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- rooms ----

function sendFrame(f) {
  if (!conn.send(f)) {
    status(t('conn.notReady'));
    return false;
  }
  if (f.type === 'report') S.reports.push(f.room);
  if (f.type === 'contact') S.contactRoom = f.room;
  if (f.type === 'feedback') S.feedback.push(f.room);
  return true;
}

function openRoom(info) {
  let v = S.rooms.get(info.room);
  if (v) {
    v.update(info);
    return v;
  }
  const known = S.prompts.find((p) => info.prompt && p.id === info.prompt.id);
  v = new M.chat.RoomView(info, {
    send: sendMessage,
    typing: (room) => conn.send({ type: 'typing', room }),
    leave: (room) => sendFrame({ type: 'leave', room }),
    block: (room) => sendFrame({ type: 'block', room }),
    frame: sendFrame,
    back: closeRoom,
    rules: openRules,
    prefs: (slot) => mountPrefs(slot, keepEnd),
    promptLang: known ? known.lang : null,
    status,
    urgent,
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
  session.set(SEQ_KEY + room, null);
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
  if (Number(session.get(k) || 0) < seq) session.set(k, seq);
}

function sendMessage(room, text) {
  const v = S.rooms.get(room);
  const id = makeId();
  v.addOwn(id, text);
  conn.queue({ type: 'send', room, id, text });
  if (!conn.ready) status(t('conn.offline'));
}

function matchAlert(v, f) {
  const { alerts } = M;
  if (prefs.sound()) alerts.chime();
  alerts.vibrate();
  alerts.flashTitle(t('title.found'), setTitle);
  alerts.notify(t('alert.found'), t('alert.foundText', { question: (f.prompt && f.prompt.text) || '' }));
}

// ---- waiting, said honestly ----

// `waiting` counts the others who could be matched with us, not us; `eta_s` is
// when, at the latest, someone similar will do (from the frame's arrival, `at`).
let waitTimer = 0;
function showWaiting(f, at, since) {
  const w = typeof f.waiting === 'number' ? Math.max(0, f.waiting) : null;
  const eta = typeof f.eta_s === 'number' ? f.eta_s : null;
  const say = () => {
    const left = eta == null ? null : Math.ceil(eta - (Date.now() - at) / 1000);
    const gone = (Date.now() - since) / 1000;
    $('q-waiting').textContent = w == null ? ''
      : w === 0 || left == null ? t('queue.nobody')
        : left > 0 ? t('queue.someone', { count: left }) : t('queue.soon');
    const s = Math.floor(gone);
    $('q-elapsed').textContent = t('queue.elapsed', { time: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` });
  };
  clearInterval(waitTimer);
  say();
  waitTimer = setInterval(say, 1000);
}

// ---- frames ----

const on = {
  welcome(f) {
    if (f.token) token.set(f.token);
    const wasWelcomed = S.welcomed;
    S.welcomed = true;
    S.prompts = f.prompts || [];
    start.render(S.prompts, f.dimensions || [], f.sensitive);
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
      v.seenBefore = Number(session.get(SEQ_KEY + r.room) || 0);
      v.beginResume();
      conn.send({ type: 'resume', room: r.room, after: v.lastSeq });
    }
    if (rooms.length) {
      if (!S.rooms.has(S.active) || S.rooms.get(S.active).ended) activate(rooms[0].room);
      else renderTabs();
      S.queued = false;
      if (S.screen !== 'chat' && S.screen !== 'rules') show('chat', S.rooms.get(S.active).title);
    } else if ((S.queued || S.joining || S.lobby) && S.lastJoin) {
      // The server withdrew our ticket (or lobby place) when the socket dropped: ask again.
      conn.send(S.lastJoin);
      status(t(S.lobby ? 'lobby.resumed' : 'queue.again'));
    } else if (L && S.screen === 'notice') {
      L.enter();
    } else if (S.screen === 'notice' || (S.screen === 'queued' && !S.queued)) {
      goStart();
    }
    if (wasWelcomed && !S.queued && !S.lobby) status(t('conn.back'));
    if (!S.ready) {
      // Time to interactive (scripts/page_weight.py): the welcome is shown and "find a partner" works.
      S.ready = true;
      performance.mark('bc:interactive');
      document.documentElement.dataset.ready = '1';
      later();
    }
  },

  lobby(f) {
    L?.frame(f);
  },

  queued(f) {
    L?.out();
    const fresh = !S.queued;
    S.queued = true;
    S.joining = false;
    S.proofs = 0;
    start.busy(false);
    if (fresh) S.queuedAt = Date.now();
    if (fresh || typeof f.waiting === 'number') showWaiting(f, Date.now(), S.queuedAt);
    // When nobody can be matched with us, the server says why and what to try, in our language.
    const stuck = $('q-stuck');
    const hint = f.hint && typeof f.hint.message === 'string' ? f.hint.message : '';
    if (hint && hint !== stuck.textContent) status(hint);
    stuck.textContent = hint;
    stuck.hidden = !hint;
    later().then((m) => { $('notify-btn').hidden = !S.queued || m.alerts.notifyState() !== 'default'; });
    if (S.screen !== 'queued') show('queued');
  },

  // The bot barrier (docs/protocol.md): solved in a worker, then the join again with its proof.
  challenge(f) {
    const frame = S.lastJoin;
    if (!frame || !(S.joining || S.queued)) return;
    S.proofs += 1;
    status(t('start.checking'));
    const w = new Worker('pow.js');
    w.onmessage = ({ data: number }) => {
      w.terminate();
      if (number === null || S.lastJoin !== frame) return;
      const { algorithm, challenge, salt, signature } = f;
      conn.send({ ...frame, proof: btoa(JSON.stringify({ algorithm, challenge, number, salt, signature })) });
    };
    w.postMessage(f);
  },

  left_queue() {
    S.queued = false;
    if (L?.left()) return;
    show('start');
    status(t('start.stopped'));
  },

  matched(f) {
    L?.out();
    S.queued = false;
    S.joining = false;
    start.busy(false);
    const v = openRoom(f);
    activate(f.room);
    show('chat', v.title);
    v.keepEnd();
    matchAlert(v, f);
  },

  message(f) {
    const v = S.rooms.get(f.room);
    if (!v || !v.addMessage(f)) return;
    remember(f.room, f.seq);
    if (v.resuming && f.seq > (v.seenBefore || 0)) v.newWhileAway = (v.newWhileAway || 0) + 1;
    if (document.hidden && f.from !== v.you) {
      S.unread += 1;
      setTitle();
      if (prefs.sound() && !v.resuming) M.alerts.ping();
    }
  },

  ack(f) {
    M?.timer.serverTime(f.ts);
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
    const v = S.rooms.get(f.room);
    if (!v) return;
    const text = t('chat.left', { name: iso(v.name(f.from)) });
    urgent(text);
    // Already said urgently: in the log for the eyes only, not read out twice.
    v.note(text).setAttribute('aria-hidden', 'true');
  },

  away(f) {
    const v = S.rooms.get(f.room);
    v?.note(t('chat.away', { name: iso(v.name(f.from)) }));
  },

  back(f) {
    const v = S.rooms.get(f.room);
    v?.note(t('chat.isBack', { name: iso(v.name(f.from)) }));
  },

  stage(f) {
    S.rooms.get(f.room)?.stage(f);
  },

  extend(f) {
    S.rooms.get(f.room)?.extend.heard(f);
  },

  extended(f) {
    S.rooms.get(f.room)?.extend.done(f);
  },

  contact(f) {
    S.rooms.get(f.room)?.contact.heard(f);
  },

  contact_open(f) {
    S.rooms.get(f.room)?.contact.opened();
  },

  // A watch-list phrase in the partner's message `seq`: a quiet "report it?" under it.
  nudge(f) {
    S.rooms.get(f.room)?.flag(f.seq);
  },

  notice(f) {
    // A moderator speaking to a room: shown inside that conversation (chat.js).
    if (f.level === 'moderator' && S.rooms.get(f.room)?.modNotice(f)) return;
    modNotice(f, () => screenHeading().focus());
  },

  resumed(f) {
    const v = S.rooms.get(f.room);
    if (!v) return;
    // A long history comes a page at a time (docs/protocol.md, `resume`): the next one.
    if (f.more) { conn.send({ type: 'resume', room: f.room, after: v.lastSeq }); return; }
    v.endResume();
    if (f.complete === false) { v.note(t('chat.incomplete'), 'warn'); v.skipGap(); }
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
    session.set(SEQ_KEY + f.room, null);
    if (S.active !== f.room) activate(f.room);
    if (!v.iLeft && !v.iBlocked && !v.ended) urgent(v.reasonText(f.reason) || t('chat.ended'));
    if (S.screen !== 'chat' && S.screen !== 'rules') show('chat', v.title);
    v.end(f.reason);
  },

  reported(f) {
    const v = S.rooms.get(S.reports.shift());
    if (v) v.report.reported(Number(f.verified) || 0);
  },

  thanks() {
    const v = S.rooms.get(S.feedback.shift());
    if (v) v.feedback.thanks();
  },

  error(f) {
    const code = f.code;
    const msg = errText(code);
    if (code === 'unknown_token') {
      if (S.erasing) return;
      token.set(null);
      conn.send({ type: 'hello', v: 1, token: null, lang: locale });
      return;
    }
    if (code === 'suspended') {
      // At hello, or cut off mid-conversation: either way nothing more to do here.
      conn.stop();
      S.queued = false;
      clearAll();
      notice(t('conn.suspended'), t('conn.suspendedText'));
      return;
    }
    if (code === 'unsupported_version') {
      conn.stop();
      notice(t('conn.unsupported'), '', { label: t('conn.retryNow'), run: () => location.reload() });
      return;
    }
    if (L?.refused(code)) return;
    if (code === 'proof_required' || code === 'proof_invalid') {
      // A `challenge` follows; after three, stop and say so.
      if (S.proofs < 3 || !S.joining) return;
      S.joining = false;
      start.busy(false);
      start.error(msg);
      return;
    }
    if (code === 'contact_held') {
      // Not relayed: the text goes back to the composer, nowhere else.
      const p = conn.forget(f.ref);
      const v = p ? S.rooms.get(p.room) : [...S.rooms.values()].find((r) => f.ref && r.own(f.ref));
      v?.contact.held(f.ref, p?.text);
      status(t('contact.held'));
      return;
    }
    if (code === 'contact_not_allowed') {
      // Said in the conversation's log.
      S.rooms.get(S.contactRoom || S.active)?.contact.refused();
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
    if (code === 'not_extendable') {
      S.rooms.get(S.active)?.extend.refused();
      status(msg);
      return;
    }
    // A report or feedback the server refused (these frames carry no id).
    if (!f.ref && S.reports.length) {
      S.rooms.get(S.reports.shift())?.report.failed(msg);
      return;
    }
    if (!f.ref && S.feedback.length) {
      S.rooms.get(S.feedback.shift())?.feedback.failed(msg);
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
      if (S.screen === 'queued') show('start');
      start.error(msg);
      if (code === 'invite_required') start.askInvite();
      return;
    }
    status(msg);
  },
};

// ---- connection state shown to the member ----

let countdown = 0;
function onState(name) {
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
  conn.send({ type: 'hello', v: 1, token: token.get(), lang: locale });
}

// Frames wait in `held`, in order, until the catalog has loaded, and while
// the conversation module loads for a frame that opens a room.
let held = [];
function flush() {
  const q = held;
  held = null;
  q.forEach(onFrame);
}

function onFrame(f) {
  if (held) {
    held.push(f);
    return;
  }
  if (!M && (f.type === 'matched' || (f.type === 'welcome' && f.rooms && f.rooms.length))) {
    held = [f];
    later().then(flush);
    return;
  }
  const h = Object.hasOwn(on, f.type) ? on[f.type] : null;
  if (h) h(f);
}

function erased() {
  conn.stop();
  token.set(null);
  local.set(OWNER_KEY, null);
  local.set('bc.again', null);
  session.clear();
  for (const v of S.rooms.values()) v.el.remove();
  S.rooms.clear();
  S.queued = false;
  clearAll();
  notice(t('rights.erased'), t('rights.erasedText'), { label: t('rights.again'), run: () => location.reload() });
}

// ---- start ----

function markLanguage() {
  for (const a of document.querySelectorAll('#langs a')) {
    const here = a.lang === locale;
    if (here) {
      a.setAttribute('aria-current', 'true');
      $('lang-now').textContent = a.textContent;
      $('lang-now').lang = locale;
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

function wire() {
  $('rules-btn').addEventListener('click', openRules);
  $('rules-ok').addEventListener('click', () => {
    local.set('bc.rules', '1');
    leaveRules();
  });
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    // The tap is what lets the page play the match sound later.
    later().then((m) => m.alerts.unlockSound());
    if (start.isBusy) return;
    start.error('');
    const frame = start.read();
    if (!frame) return;
    if (!conn.send(frame)) {
      start.error(t('conn.notReady'));
      $('join-err').focus();
      return;
    }
    S.lastJoin = frame;
    S.joining = true;
    $('q-prompts').replaceChildren(...start.chosen().map((box) => {
      const li = document.createElement('li');
      const text = box.nextElementSibling;
      li.textContent = text.textContent;
      li.dir = 'auto';
      if (text.lang) li.lang = text.lang;
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

  $('notify-btn').addEventListener('click', async () => {
    const answer = await (await later()).alerts.askNotify();
    $('notify-btn').hidden = true;
    status(t(answer === 'granted' ? 'queue.notifyOn' : 'queue.notifyOff'));
    $('stop-waiting').focus();
  });

  // The header's pop-ups close with Escape and when another opens.
  for (const d of document.querySelectorAll('.top details')) {
    d.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && d.open) {
        d.open = false;
        d.querySelector('summary').focus();
      }
    });
    d.addEventListener('toggle', () => {
      if (d.open) for (const o of document.querySelectorAll('.top details')) if (o !== d) o.open = false;
    });
  }

  $('retry-now').addEventListener('click', () => conn.now());
  window.addEventListener('online', () => conn.now());
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    S.unread = 0;
    M?.alerts.stopFlash(setTitle);
    setTitle();
    conn.now();
  });
}

async function main() {
  const loc = negotiate();
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  conn = new Connection(`${proto}//${location.host}/ws`, { open: onOpen, frame: onFrame, state: onState });
  const catalog = loadCatalog(loc);
  conn.connect();
  const slug = new URLSearchParams(location.search).get('event');
  // Loaded beside the catalog; frames wait (held) until both are here.
  const lobby = slug ? import('./lobby.js').then(async ({ Lobby }) => {
    const l = new Lobby(slug, { S, conn, show, status, openRules, rulesSeen,
      now: () => (M ? M.timer.now() : Date.now()) });
    await l.load();
    return l;
  }) : null;
  const date = await catalog;
  L = await lobby;
  L?.mount();
  // The Date header counts whole seconds: the server's time is half a second on, on average.
  if (date && !Number.isNaN(Date.parse(date))) S.date = new Date(Date.parse(date) + 500).toISOString();
  applyI18n(document);
  $('notice-title').textContent = t('conn.connecting');
  markLanguage();
  mountPrefs(document.querySelector('#prefs .prefs-slot'), keepEnd);
  start = new StartForm(document);
  setTitle();
  wire();
  fitViewport(keepEnd);
  document.documentElement.classList.remove('wait');
  flush();
}

main();
