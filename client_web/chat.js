// One conversation on screen: header with the safety tools (end, report,
// block) and the clock, the stage card, the message log, typing line,
// composer, and the "ended" panel with feedback. Member text only ever goes
// through textContent.
import { t, iso, listFormat, applyI18n, locale } from './i18n.js';
import { Clock } from './timer.js';
import { ReportPanel } from './report.js';
import { FeedbackForm } from './feedback.js';

const TYPING_SHOW_MS = 4000;
const TYPING_SEND_MS = 2000;
const MAX_CHARS = 2000;
const NUDGE_OPEN_MS = 7 * 60 * 1000;
const REPORT_WINDOW_MS = 10 * 60 * 1000;
const STAGES = ['icebreaker', 'discuss', 'reflect'];

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
  // cb: send(room, text), typing(room), leave(room), block(room), frame(f), back(room), status, urgent
  constructor(info, cb) {
    this.id = info.room;
    this.cb = cb;
    this.el = document.getElementById('room-tpl').content.firstElementChild.cloneNode(true);
    applyI18n(this.el);
    const q = (s) => this.el.querySelector(s);
    this.q = q;
    this.title = q('.room-title');
    this.log = q('.log');
    this.typingEl = q('.typing');
    this.form = q('.composer');
    this.input = q('.composer textarea');
    this.endedBox = q('.ended');
    this.lastSeq = 0;
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
    q('.report h2').id = `${uid}-report`;
    q('.report').setAttribute('aria-labelledby', `${uid}-report`);
    for (const box of this.el.querySelectorAll('.confirm')) {
      const p = box.querySelector('.confirm-q');
      p.id = `${uid}-${box.dataset.for}`;
      box.setAttribute('aria-labelledby', p.id);
    }
    this.clock = new Clock(q('.clock'), (text, urgent) => (urgent ? cb.urgent : cb.status)(text),
      (left) => this.maybeNudge(left));
    this.report = new ReportPanel(this, cb.frame);
    this.feedback = new FeedbackForm(this, cb.frame);
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
      const now = Date.now();
      if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_SEND_MS) {
        this.lastTypingSent = now;
        cb.typing(this.id);
      }
    });
    this.confirms = {
      end: [q('.end-btn'), q('.confirm[data-for=end]')],
      block: [q('.block-btn'), q('.confirm[data-for=block]')],
    };
    for (const [name, [btn, box]] of Object.entries(this.confirms)) {
      btn.addEventListener('click', () => this.openConfirm(name));
      box.querySelector('.stay').addEventListener('click', () => this.closeConfirm(name));
      // Escape only cancels the question; nothing that ends a chat is bound to it.
      box.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') this.closeConfirm(name);
      });
    }
    q('.end-yes').addEventListener('click', () => {
      if (cb.leave(this.id)) {
        this.iLeft = true;
        this.confirms.end[1].hidden = true;
      }
    });
    q('.block-yes').addEventListener('click', () => {
      if (cb.block(this.id)) {
        this.iBlocked = true;
        this.confirms.block[1].hidden = true;
      }
    });
    q('.report-btn').addEventListener('click', () => {
      this.closeConfirms();
      if (this.report.isOpen) this.report.close();
      else this.report.open();
    });
    q('.back').addEventListener('click', () => cb.back(this.id));
  }

  openConfirm(name) {
    const [btn, box] = this.confirms[name];
    const wasOpen = !box.hidden;
    this.closeConfirms();
    if (this.report.isOpen) this.report.close();
    if (wasOpen) {
      btn.focus();
      return;
    }
    box.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    box.querySelector('.stay').focus();
  }

  closeConfirm(name) {
    const [btn, box] = this.confirms[name];
    box.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
    btn.focus();
  }

  closeConfirms() {
    for (const [btn, box] of Object.values(this.confirms)) {
      box.hidden = true;
      btn.setAttribute('aria-expanded', 'false');
    }
  }

  // Where focus goes when a panel closes: its button, or the heading if that is gone.
  afterPanel(btn) {
    if (btn.checkVisibility()) btn.focus();
    else if (this.ended) this.endedBox.querySelector('h2').focus();
    else this.focus();
  }

  names() {
    return this.others.length ? listFormat(this.others.map(iso)) : '';
  }

  update(info) {
    this.you = info.you;
    this.others = (info.members || []).map((m) => m.alias).filter((a) => a !== info.you);
    this.title.querySelector('.with').textContent = this.others.length
      ? t('chat.with', { names: this.names() }) : t('chat.alone');
    this.q('.you-are').textContent = info.you ? t('chat.youAre', { name: iso(info.you) }) : '';
    this.title.querySelector('.question').textContent = (info.prompt && info.prompt.text) || '';
    this.q('.confirm[data-for=block] .confirm-q').textContent = t('chat.blockQ', { name: this.names() });
    const ul = this.q('.because ul');
    ul.replaceChildren();
    for (const r of info.because || []) {
      const li = document.createElement('li');
      li.textContent = r;
      ul.appendChild(li);
    }
    this.q('.because').hidden = !ul.children.length;
    if (!this.ended) this.clock.set(info.ends_at);
  }

  focus() {
    this.title.focus();
  }

  nearBottom() {
    const l = this.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }

  append(node, force) {
    const stick = force || this.nearBottom();
    this.log.appendChild(node);
    if (stick) this.log.scrollTop = this.log.scrollHeight;
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
    if (typeof seq === 'number' && seq > this.lastSeq) this.lastSeq = seq;
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
    const m = this.bubble(mine, mine ? t('chat.you') : f.from, f.text);
    m.dataset.seq = String(f.seq);
    m.querySelector('.time').textContent = when(f.ts);
    if (mine) this.setState(m, 'delivered');
    this.seen(f.seq);
    this.clearTyping(f.from);
    this.append(m, mine);
    return true;
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

  // A `stage` frame: the step and its card stay on show; a new step also goes into the log.
  stage(f) {
    const n = STAGES.indexOf(f.stage) + 1;
    if (!n) return;
    const name = t(`stage.${f.stage}`);
    const box = this.q('.stage');
    box.querySelector('.stage-name').textContent = t('chat.step', { n, name });
    // The discussion's card is the question itself, already in the heading.
    box.querySelector('.stage-card').textContent = f.stage === 'discuss' ? '' : f.card || '';
    box.hidden = this.ended;
    if (f.stage === this.stageName) return;
    this.stageName = f.stage;
    if (f.card) this.note(`${name}: ${f.card}`, 'card');
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
      ? t('chat.typing', { count: names.length, names: listFormat(names.map(iso)) }) : '';
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
    const text = this.input.value.trim();
    if (!text) return;
    const n = [...text].length;
    if (n > MAX_CHARS) {
      this.cb.status(t('chat.tooLong', { count: n }));
      return;
    }
    this.input.value = '';
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
    this.q('.end-btn').hidden = true;
    this.q('.block-btn').hidden = true;
    this.closeConfirms();
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
    if (!this.report.isOpen) this.endedBox.querySelector('h2').focus();
  }
}
