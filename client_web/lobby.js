// An event's lobby on the member page (/?event=<slug>, linked from the event page):
// after `welcome`, the `lobby` frame with the sign-up token the event page kept in this
// browser, then the event's title, a countdown to the start and how many are present
// (never who). At the start the server's `matched` or `queued` takes over, through the
// open queue's own code in app.js. Loaded only with ?event=, so the screen's markup is
// here rather than in index.html: members of the open queue never download it.
import { t, has, num, locale, errText, applyI18n } from './i18n.js';
import { local } from './store.js';

const $ = (id) => document.getElementById(id);
// A screen reader hears the present count at most this often (ms); the eye sees every change.
const SAY_EVERY = 10000;
// The server's refusals of `lobby`, each with its own plain words (lobby.err.*).
const REFUSALS = new Set(['unknown_event', 'event_cancelled', 'not_signed_up',
  'lobby_not_open', 'event_over']);
const SCREEN = `<h1 tabindex="-1" id="lb-title" dir="auto"></h1>
<p id="lb-entering" class="lead" data-i18n="lobby.entering"></p>
<div id="lb-in" hidden>
<div class="pulse" aria-hidden="true"><span></span></div>
<p id="lb-count" class="lead lb-count" role="timer"></p>
<p id="lb-present" class="lead" aria-hidden="true"></p>
<p id="lb-said" class="vh" aria-live="polite"></p>
<p class="hint" data-i18n="lobby.hint"></p>
<button type="button" id="lb-leave" class="secondary wide" data-i18n="lobby.leave"></button>
</div>
<p id="lb-msg" class="lead" tabindex="-1" hidden></p>
<p><button type="button" id="lb-again" class="primary" hidden data-i18n="lobby.again"></button></p>
<p><a id="lb-link" class="lb-link"></a></p>`;

const pick = (texts) => (texts && (texts[locale] || texts.en || Object.values(texts)[0])) || '';

export class Lobby {
  // app: the page's state `S`, `conn`, `show(name, focusEl)`, `status(text)`,
  // `openRules()`, `rulesSeen()`, `now()` (the server's time as best known, ms).
  constructor(slug, app) {
    this.slug = slug;
    this.app = app;
    this.api = `/api/e/${encodeURIComponent(slug)}`;
    this.token = local.get(`bc.event.${slug}`);
    this.info = null;
    this.mine = [];
    this.starts = 0;
    this.timer = 0;
    this.saidAt = 0;
    this.sayTimer = 0;
    this.present = null;
  }

  // The event's title and the member's prompts, for the lobby and the waiting view.
  // Best effort and bounded: the lobby works without them (the server holds the sign-up).
  async load() {
    try {
      const signal = AbortSignal.timeout(5000);
      const res = await fetch(this.api, { signal });
      if (res.ok) this.info = await res.json();
      if (!this.info || !this.token) return;
      const got = await fetch(`${this.api}/signup`, { signal, headers: { Authorization: `Bearer ${this.token}` } });
      if (got.ok) this.mine = (await got.json()).signup.prompts || [];
    } catch { /* offline: the frames still say what matters */ }
  }

  // Once the catalog is in: the screen, its words and its two buttons.
  mount() {
    const s = document.createElement('section');
    s.id = 's-lobby';
    s.className = 'screen';
    s.hidden = true;
    s.innerHTML = SCREEN;
    $('s-chat').before(s);
    applyI18n(s);
    $('lb-leave').addEventListener('click', () => {
      // Offline, the server already took our place with the socket.
      if (!this.app.conn.send({ type: 'leave_queue' })) this.says(() => this.part('left', t('lobby.left')));
    });
    $('lb-again').addEventListener('click', () => this.enter());
  }

  // Instead of the start form: the `lobby` frame, sent again on reconnection until answered.
  enter() {
    const { S, conn, show, status } = this.app;
    $('lb-title').textContent = pick(this.info && this.info.title) || t('lobby.title');
    $('lb-link').href = `/e/${encodeURIComponent(this.slug)}`;
    this.part('entering');
    show('lobby');
    if (!this.token) {
      this.says(() => this.part('none', t('lobby.noToken'), 'lobby.signUp'));
      return;
    }
    S.lastJoin = { type: 'lobby', event: this.slug, signup: this.token };
    S.joining = true;
    if (!conn.send(S.lastJoin)) status(t('conn.notReady'));
    if (!this.app.rulesSeen()) this.app.openRules();
  }

  ours() {
    return this.app.S.lastJoin?.type === 'lobby';
  }

  // A server `lobby` frame: in the lobby, with the start and the present count.
  frame(f) {
    const { S, show } = this.app;
    S.joining = false;
    S.lobby = true;
    this.part('in');
    const at = Date.parse(f.starts);
    if (!Number.isNaN(at)) this.starts = at;
    if (!this.timer) this.tick();
    this.count(Number(f.present) || 0);
    if (S.screen !== 'lobby' && S.screen !== 'rules') show('lobby');
  }

  // Out of the lobby, into a conversation or the waiting view, which lists the
  // prompts of the sign-up.
  out() {
    const { S } = this.app;
    if (!(S.lobby || S.joining) || !this.ours()) return;
    S.lobby = false;
    this.stop();
    const all = (this.info && this.info.prompts) || [];
    $('q-prompts').replaceChildren(...this.mine.map((id) => all.find((p) => p.id === id))
      .filter(Boolean).map((p) => {
        const li = document.createElement('li');
        const mine = p.texts && p.texts[locale];
        li.textContent = mine || p.text;
        li.lang = mine ? locale : p.lang;
        li.dir = 'auto';
        return li;
      }));
  }

  // `left_queue` after our lobby frame: true when it was ours to say.
  left() {
    if (!this.ours()) return false;
    this.says(() => this.part('left', t('lobby.left')));
    return true;
  }

  // An `error` frame: true when it answered our lobby frame (said in plain words).
  refused(code) {
    const { S } = this.app;
    if (!this.ours() || code === 'already_queued' || !(S.joining || REFUSALS.has(code))) return false;
    this.says(() => this.part('refused', has(`lobby.err.${code}`) ? t(`lobby.err.${code}`) : errText(code)));
    return true;
  }

  // Refused, left or never signed up: plain words, focus on them.
  says(fill) {
    const { S, show } = this.app;
    S.joining = false;
    S.lobby = false;
    this.stop();
    fill();
    show('lobby', $('lb-msg'));
  }

  // Which part of the screen shows: 'in' (waiting for the start), 'entering', or a message.
  part(name, message = '', link = 'lobby.back') {
    $('lb-in').hidden = name !== 'in';
    $('lb-entering').hidden = name !== 'entering';
    $('lb-msg').textContent = message;
    $('lb-msg').hidden = !message;
    $('lb-link').textContent = t(link);
    $('lb-link').parentElement.hidden = !message;
    $('lb-again').hidden = name !== 'left';
  }

  count(n) {
    const first = this.present === null;
    this.present = n;
    $('lb-present').textContent = t('lobby.present', { count: n });
    clearTimeout(this.sayTimer);
    const wait = first ? 0 : Math.max(0, this.saidAt + SAY_EVERY - Date.now());
    this.sayTimer = setTimeout(() => {
      this.saidAt = Date.now();
      $('lb-said').textContent = t('lobby.present', { count: this.present });
    }, wait);
  }

  tick() {
    const now = this.app.now();
    const left = Math.max(0, Math.ceil((this.starts - now) / 1000));
    const mm = num(Math.floor(left / 60));
    const ss = num(left % 60, { minimumIntegerDigits: 2 });
    $('lb-count').textContent = left ? t('lobby.in', { time: `${mm}:${ss}` }) : t('lobby.now');
    this.timer = setTimeout(() => this.tick(), 1000 - (now % 1000));
  }

  stop() {
    clearTimeout(this.timer);
    clearTimeout(this.sayTimer);
    this.timer = 0;
    this.present = null;
    $('lb-said').textContent = '';
  }
}
