// One conversation on screen: a compact header (who, the question on one line,
// the step and the clock, the menu), the log filling the space between the
// header and the composer, and the "ended" panel with feedback. The menu, more
// time, reports, feedback and names have modules of their own. Member text
// only ever goes through textContent.
import { t, iso, listFormat, applyI18n, locale } from './i18n.js';
import { local } from './store.js';
import { Clock } from './timer.js';
import { ReportPanel } from './report.js';
import { FeedbackForm } from './feedback.js';
import { RoomMenu } from './menu.js';
import { ExtendBar, ContactBar } from './consent.js';
import { Names } from './names.js';

const TYPING_SHOW_MS = 4000;
const TYPING_SEND_MS = 2000;
const MAX_CHARS = 2000;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const NUDGE_OPEN_MS = 7 * 60 * 1000;
const REPORT_WINDOW_MS = 10 * 60 * 1000;
const STAGES = ['icebreaker', 'discuss', 'reflect'];
const WHY_KEY = 'bc.why';
const GROWS = typeof CSS !== 'undefined' && CSS.supports('field-sizing', 'content');

function when(ts) {
  const d = ts ? new Date(ts) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(d);
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  if (text != null) s.textContent = text;
  return s;
}

export class RoomView {
  // info: a `matched` frame (or a welcome.rooms entry)
  // cb: send(room, text), typing(room), leave(room), block(room), frame(f), back(room),
  //     rules(), prefs(slot), promptLang, status, urgent
  constructor(info, cb) {
    this.id = info.room;
    this.cb = cb;
    this.el = document.getElementById('room-tpl').content.firstElementChild.cloneNode(true);
    applyI18n(this.el);
    const q = (s) => this.el.querySelector(s);
    this.q = q;
    this.title = q('.room-title');
    this.talk = q('.talk');
    this.log = q('.log');
    this.typingEl = q('.typing');
    this.form = q('.composer');
    this.input = q('.composer textarea');
    this.endedBox = q('.ended');
    // The resume point: the highest seq with every one before it here (ours or theirs).
    // A message lost on the way (a broker's outage) leaves a gap that `resume` fills.
    this.lastSeq = 0;
    this.ahead = new Set();
    this.received = new Map(); // seq -> the others' `message` frames as received, for reports
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.ended = false;
    this.iLeft = false;
    this.iBlocked = false;
    this.resuming = false;
    this.stageName = null;
    this.nudged = false;
    this.discussLeft = null;
    this.nudgeTimer = 0;
    const uid = `r-${this.id}`.replace(/[^\w-]/g, '_');
    this.uid = uid;
    q('.report h2').id = `${uid}-report`;
    q('.report').setAttribute('aria-labelledby', `${uid}-report`);
    for (const box of this.el.querySelectorAll('.confirm')) {
      const p = box.querySelector('.confirm-q');
      p.id = `${uid}-${box.dataset.for}`;
      box.setAttribute('aria-labelledby', p.id);
    }
    q('.keys').id = `${uid}-keys`;
    this.input.setAttribute('aria-describedby', `${uid}-keys`);
    this.namesFor = new Names(info);
    this.clock = new Clock(q('.clock'), (text, urgent) => (urgent ? cb.urgent : cb.status)(text),
      (left) => this.maybeNudge(left));
    this.report = new ReportPanel(this, cb.frame);
    this.feedback = new FeedbackForm(this, cb.frame);
    this.menu = new RoomMenu(this, cb);
    this.extend = new ExtendBar(this, cb.frame);
    this.contact = new ContactBar(this, cb.frame);
    this.flags = new Set(); // seqs of watch-list nudges whose message is not here yet
    // The explanation is open the first time a member is matched, folded after that.
    const why = q('.because');
    why.open = local.get(WHY_KEY) !== '1';
    local.set(WHY_KEY, '1');
    this.update(info);

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => {
      this.grow();
      const now = Date.now();
      if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_SEND_MS) {
        this.lastTypingSent = now;
        cb.typing(this.id);
      }
    });
    // The on-screen keyboard opening: keep the newest message in view.
    this.input.addEventListener('focus', () => setTimeout(() => this.keepEnd(), 300));
    q('.back').addEventListener('click', () => cb.back(this.id));
  }

  // Where focus goes when a panel closes: its button, or the menu's if that is folded away.
  afterPanel(btn) {
    if (btn.checkVisibility()) btn.focus();
    else this.menu.btn.focus();
  }

  name(alias) {
    return this.namesFor.name(alias);
  }

  names() {
    return this.others.length ? listFormat(this.others.map((a) => iso(this.name(a)))) : '';
  }

  update(info) {
    this.you = info.you;
    this.others = (info.members || []).map((m) => m.alias).filter((a) => a !== info.you);
    this.title.querySelector('.with').textContent = this.others.length
      ? t('chat.with', { names: this.names() }) : t('chat.alone');
    this.q('.you-are').textContent = info.you ? t('chat.youAre', { name: iso(this.name(info.you)) }) : '';
    const question = this.title.querySelector('.question');
    question.textContent = (info.prompt && info.prompt.text) || '';
    // A prompt the deck has only in another language is marked as such.
    if (this.cb.promptLang && this.cb.promptLang !== locale) question.lang = this.cb.promptLang;
    this.q('.confirm[data-for=block] .confirm-q').textContent = t('chat.blockQ', { name: this.names() });
    const ul = this.q('.because ul');
    ul.replaceChildren();
    for (const r of info.because || []) {
      const li = document.createElement('li');
      li.textContent = r;
      ul.appendChild(li);
    }
    this.q('.because').hidden = !ul.children.length;
    this.q('.why-btn').hidden = !ul.children.length;
    if (!this.ended) this.clock.set(info.ends_at);
    this.extend.sync();
    this.contact.sync();
  }

  focus() {
    this.title.focus();
  }

  composerFocus() {
    if (!this.ended) this.input.focus();
    else this.menu.btn.focus();
  }

  showWhy() {
    const why = this.q('.because');
    why.open = true;
    this.talk.scrollTop = 0;
    why.querySelector('summary').focus();
  }

  // The textarea grows with its text where CSS cannot do it (field-sizing).
  grow() {
    if (GROWS) return;
    const s = this.input.style;
    s.height = 'auto';
    s.height = `${this.input.scrollHeight + 4}px`;
  }

  nearBottom() {
    const l = this.talk;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }

  keepEnd() {
    this.talk.scrollTop = this.talk.scrollHeight;
  }

  append(node, force) {
    const stick = force || this.nearBottom();
    this.log.appendChild(node);
    if (stick) this.keepEnd();
  }

  bubble(mine, who, text) {
    const m = document.createElement('div');
    m.className = mine ? 'msg mine' : 'msg';
    m.dir = 'auto';
    const w = span('who');
    const b = document.createElement('bdi');
    b.textContent = who;
    w.appendChild(b);
    m.appendChild(w);
    m.appendChild(span('text', text));
    const meta = span('meta');
    meta.dir = document.documentElement.dir;
    meta.appendChild(span('time'));
    meta.appendChild(span('state'));
    m.appendChild(meta);
    return m;
  }

  seen(seq) {
    if (typeof seq !== 'number' || seq <= this.lastSeq) return;
    this.ahead.add(seq);
    while (this.ahead.delete(this.lastSeq + 1)) this.lastSeq += 1;
  }

  // The server said some history is gone for good: stop asking for it.
  skipGap() {
    for (const s of this.ahead) if (s > this.lastSeq) this.lastSeq = s;
    this.ahead.clear();
  }

  hasSeq(seq) {
    return Boolean(this.log.querySelector(`.msg[data-seq="${Number(seq)}"]`));
  }

  // A `message` frame (from someone else, or our own replayed by `resume`).
  addMessage(f) {
    if (this.hasSeq(f.seq)) return false;
    const mine = f.from === this.you;
    if (!mine && typeof f.seq === 'number') {
      this.received.set(f.seq, { type: 'message', room: f.room, seq: f.seq, from: f.from, text: f.text, ts: f.ts, tag: f.tag });
    }
    const m = this.bubble(mine, mine ? t('chat.you') : this.name(f.from), f.text);
    m.dataset.seq = String(f.seq);
    m.querySelector('.time').textContent = when(f.ts);
    if (mine) this.setState(m, 'delivered');
    this.seen(f.seq);
    this.clearTyping(f.from);
    this.append(m, mine);
    if (this.flags.delete(f.seq)) this.flag(f.seq);
    return true;
  }

  // A `nudge`: the partner's message `seq` holds a phrase on the watch list. Said
  // quietly under it, with a way to report it; kept until the message is here.
  flag(seq) {
    const m = this.log.querySelector(`.msg[data-seq="${Number(seq)}"]`);
    if (!m) {
      if (this.flags.size < 50) this.flags.add(seq);
      return;
    }
    if (m.classList.contains('mine') || m.querySelector('.flag')) return;
    const p = document.createElement('p');
    p.className = 'flag';
    p.dir = document.documentElement.dir;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = t('chat.report');
    b.addEventListener('click', () => this.report.open(seq, b));
    p.append(t('chat.flag'), ' ', b);
    m.appendChild(p);
  }

  // Our own message, shown at once as "sending".
  addOwn(id, text) {
    if (this.own(id)) return;
    const m = this.bubble(true, t('chat.you'), text);
    m.dataset.id = id;
    this.setState(m, 'sending');
    this.append(m, true);
  }

  setState(m, state, reason) {
    m.dataset.state = state;
    const s = m.querySelector('.state');
    s.textContent = state === 'failed' ? t('chat.failed', { reason }) : t(`chat.${state}`);
    if (state === 'failed' && !this.ended) {
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'link';
      retry.textContent = t('chat.retry');
      retry.addEventListener('click', () => {
        const text = m.querySelector('.text').textContent;
        m.remove();
        this.cb.send(this.id, text);
        this.input.focus();
      });
      s.append(' ', retry);
    }
  }

  own(id) {
    return this.log.querySelector(`.msg[data-id="${CSS.escape(id)}"]`);
  }

  delivered(id, seq, ts) {
    const m = this.own(id);
    if (!m) return;
    if (this.hasSeq(seq)) {
      m.remove();
      return;
    }
    m.dataset.seq = String(seq);
    m.querySelector('.time').textContent = when(ts);
    this.setState(m, 'delivered');
    this.seen(seq);
  }

  failed(id, reason) {
    const m = this.own(id);
    if (m) this.setState(m, 'failed', reason);
  }

  note(text, cls = '') {
    const p = document.createElement('p');
    p.className = `note ${cls}`.trim();
    p.textContent = text;
    this.append(p);
    return p;
  }

  // A moderator's words to this room (`notice`, level "moderator"): in the log where they
  // were said, set apart from the members' messages; the log's polite live region reads
  // the label and the words together. Kept nowhere, as the server keeps them nowhere.
  modNotice(f) {
    const box = document.createElement('div');
    box.className = 'mod-said';
    box.dir = document.documentElement.dir;
    const label = span('mod-said-label', t('chat.modNotice'));
    const text = span('mod-said-text', String(f.message || ''));
    text.dir = 'auto';
    box.append(label, text);
    this.append(box, true);
    return true;
  }

  // A `stage` frame: the step shows in the header; its card once, in the log.
  stage(f) {
    const n = STAGES.indexOf(f.stage) + 1;
    if (!n) return;
    const name = t(`stage.${f.stage}`);
    this.q('.stage-name').textContent = t('chat.step', { n, name });
    this.q('.stage').hidden = this.ended;
    if (f.stage === this.stageName) return;
    this.stageName = f.stage;
    if (f.card) {
      const [before, after = ''] = t('chat.card', { name, card: '\u0000' }).split('\u0000');
      const p = document.createElement('p');
      p.className = 'note card';
      const text = span('card-text', f.card);
      text.dir = 'auto';
      if (f.stage === 'discuss' && this.cb.promptLang && this.cb.promptLang !== locale) {
        text.lang = this.cb.promptLang;
      }
      p.append(span('card-name', before), text, after);
      this.append(p);
    }
    if (f.stage === 'discuss') {
      this.discussLeft = this.clock.left();
      clearTimeout(this.nudgeTimer);
      if (this.discussLeft == null) this.nudgeTimer = setTimeout(() => this.nudge(), NUDGE_OPEN_MS);
    }
  }

  // A gentle nudge toward common ground, halfway through the discussion.
  maybeNudge(left) {
    if (this.stageName === 'discuss' && this.discussLeft != null && left <= this.discussLeft / 2) this.nudge();
  }

  nudge() {
    if (this.nudged || this.ended) return;
    this.nudged = true;
    this.note(t('chat.nudge'), 'nudge');
  }

  typing(alias) {
    clearTimeout(this.typers.get(alias));
    this.typers.set(alias, setTimeout(() => this.clearTyping(alias), TYPING_SHOW_MS));
    this.renderTyping();
  }

  clearTyping(alias) {
    if (!this.typers.has(alias)) return;
    clearTimeout(this.typers.get(alias));
    this.typers.delete(alias);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typers.keys()];
    this.typingEl.textContent = names.length
      ? t('chat.typing', { count: names.length, names: listFormat(names.map((a) => iso(this.name(a)))) }) : '';
  }

  // Around a `resume`: the replay is not read out message by message.
  beginResume() {
    this.resuming = true;
    this.log.setAttribute('aria-busy', 'true');
  }

  endResume() {
    this.resuming = false;
    this.log.removeAttribute('aria-busy');
  }

  submit() {
    if (this.ended) return;
    // As the server relays it (docs/protocol.md, `send`): no direction overrides or
    // isolates, which could make a line read in another order; both sides see the same.
    const text = this.input.value.replace(BIDI_CONTROLS, '').trim();
    if (!text) return;
    const n = [...text].length;
    if (n > MAX_CHARS) {
      this.cb.status(t('chat.tooLong', { count: n }));
      return;
    }
    this.input.value = '';
    this.grow();
    this.cb.send(this.id, text);
  }

  // Why it ended, in the member's words.
  reasonText(reason) {
    if (this.iBlocked) return t('closed.iBlocked', { name: this.names() });
    if (this.iLeft) return t('closed.you');
    const left = this.clock.left();
    if (reason === 'timeout' && left != null && left < 5000) return t('closed.time');
    const key = `closed.${reason || 'unknown'}`;
    const why = t(key);
    return why === key ? '' : why;
  }

  end(reason) {
    if (this.ended) return;
    const why = this.reasonText(reason);
    this.ended = true;
    this.clock.stop();
    clearTimeout(this.nudgeTimer);
    for (const a of [...this.typers.keys()]) this.clearTyping(a);
    this.form.hidden = true;
    this.q('.keys').hidden = true;
    this.q('.clock').hidden = true;
    this.q('.stage').hidden = true;
    this.menu.ended();
    this.extend.sync();
    this.contact.sync();
    // Reports are accepted for 10 minutes after the end.
    setTimeout(() => {
      if (this.report.isOpen && !this.report.pending) this.report.close();
      this.q('.report-btn').hidden = true;
    }, REPORT_WINDOW_MS);
    this.endedBox.querySelector('.reason').textContent = why;
    if (this.iBlocked || reason === 'moderator' || reason === 'suspended' || !this.others.length) this.feedback.hide();
    else this.feedback.show(this.names());
    this.endedBox.hidden = false;
    this.el.classList.add('is-ended');
    // The log keeps its room and shows its end; the panel follows below it.
    this.keepEnd();
    requestAnimationFrame(() => this.keepEnd());
    if (!this.report.isOpen) this.endedBox.querySelector('h2').focus();
  }
}
