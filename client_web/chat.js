// One conversation on screen: header, message log, typing line, composer,
// leave confirmation and the "ended" panel. Member text only ever goes
// through textContent.
import { t, iso, listFormat, applyI18n } from './i18n.js';

const TYPING_SHOW_MS = 4000;
const TYPING_SEND_MS = 2000;
const MAX_CHARS = 2000;
const timeFmt = () => new Intl.DateTimeFormat(document.documentElement.lang, { hour: 'numeric', minute: '2-digit' });

function when(ts) {
  const d = ts ? new Date(ts) : new Date();
  return Number.isNaN(d.getTime()) ? '' : timeFmt().format(d);
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  if (text != null) s.textContent = text;
  return s;
}

export class RoomView {
  // info: a `matched` frame (or a welcome.rooms entry); cb: send, typing, leave, back
  constructor(info, cb) {
    this.id = info.room;
    this.cb = cb;
    this.el = document.getElementById('room-tpl').content.firstElementChild.cloneNode(true);
    applyI18n(this.el);
    const q = (s) => this.el.querySelector(s);
    this.title = q('.room-title');
    this.log = q('.log');
    this.typingEl = q('.typing');
    this.form = q('.composer');
    this.input = q('textarea');
    this.confirmBox = q('.confirm');
    this.leaveBtn = q('.leave');
    this.endedBox = q('.ended');
    this.lastSeq = 0;
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.ended = false;
    this.iLeft = false;
    this.resuming = false;
    const qid = `q-${this.id}`.replace(/[^\w-]/g, '_');
    q('.confirm-q').id = qid;
    this.confirmBox.setAttribute('aria-labelledby', qid);
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
    this.leaveBtn.addEventListener('click', () => {
      this.confirmBox.hidden = false;
      this.leaveBtn.setAttribute('aria-expanded', 'true');
      q('.stay').focus();
    });
    q('.stay').addEventListener('click', () => this.closeConfirm());
    this.confirmBox.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closeConfirm();
    });
    q('.leave-yes').addEventListener('click', () => {
      if (cb.leave(this.id)) {
        this.iLeft = true;
        this.confirmBox.hidden = true;
      }
    });
    q('.back').addEventListener('click', () => cb.back(this.id));
  }

  closeConfirm() {
    this.confirmBox.hidden = true;
    this.leaveBtn.setAttribute('aria-expanded', 'false');
    this.leaveBtn.focus();
  }

  update(info) {
    this.you = info.you;
    const others = (info.members || []).map((m) => m.alias).filter((a) => a !== info.you);
    this.others = others;
    this.title.querySelector('.with').textContent = others.length
      ? t('chat.with', { names: listFormat(others.map(iso)) }) : t('chat.alone');
    this.el.querySelector('.you-are').textContent = info.you ? t('chat.youAre', { name: iso(info.you) }) : '';
    const question = this.title.querySelector('.question');
    question.textContent = (info.prompt && info.prompt.text) || '';
    const ul = this.el.querySelector('.because ul');
    ul.replaceChildren();
    for (const r of info.because || []) {
      const li = document.createElement('li');
      li.textContent = r;
      ul.appendChild(li);
    }
    this.el.querySelector('.because').hidden = !ul.children.length;
    const ends = this.el.querySelector('.ends');
    ends.hidden = !info.ends_at;
    if (info.ends_at) ends.textContent = t('chat.endsAt', { time: when(info.ends_at) });
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
    if (this.log.querySelector(`.msg[data-id="${CSS.escape(id)}"]`)) return;
    const m = this.bubble(true, t('chat.you'), text);
    m.dataset.id = id;
    this.setState(m, 'sending');
    this.append(m, true);
  }

  setState(m, state, reason) {
    m.dataset.state = state;
    const s = m.querySelector('.state');
    s.textContent = state === 'failed' ? t('chat.failed', { reason }) : t(`chat.${state}`);
    if (state === 'failed') {
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'link';
      retry.textContent = t('chat.retry');
      retry.addEventListener('click', () => {
        const text = m.querySelector('.text').textContent;
        m.remove();
        this.cb.send(this.id, text);
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
  }

  stage(f) {
    const key = `chat.stage.${f.stage}`;
    const label = t(key);
    this.note(label === key ? f.card : `${label}: ${f.card}`, 'card');
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

  end(reason) {
    if (this.ended) return;
    this.ended = true;
    for (const a of [...this.typers.keys()]) this.clearTyping(a);
    this.form.hidden = true;
    this.el.querySelector('.keys').hidden = true;
    this.el.querySelector('.room-bar').hidden = true;
    this.confirmBox.hidden = true;
    const key = this.iLeft ? 'closed.you' : `closed.${reason || 'unknown'}`;
    const why = t(key);
    this.endedBox.querySelector('.reason').textContent = why === key ? '' : why;
    this.endedBox.hidden = false;
    this.endedBox.querySelector('h2').focus();
    this.el.classList.add('is-ended');
  }
}
