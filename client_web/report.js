// Reporting a conversation: pick the partner's messages (sent exactly as
// received, with seq and tag, so the server can verify them), a reason and a
// note. Works during the chat and for 10 minutes after it ended.
import { t } from './i18n.js';

export const REASONS = ['harassment', 'hate', 'threat', 'sexual', 'personal_info', 'spam', 'other'];
const MAX_BYTES = 16 * 1024 - 200; // the server's frame limit, with room to spare
const PREVIEW = 240;

export class ReportPanel {
  // view: the RoomView; send(frame) -> bool
  constructor(view, send) {
    this.view = view;
    this.send = send;
    const q = (s) => view.el.querySelector(s);
    this.el = q('.report');
    this.form = q('.report-form');
    this.list = q('.pick');
    this.none = q('.pick-none');
    this.reason = q('.report-reason');
    this.note = q('.report-note');
    this.err = q('.report-err');
    this.done = q('.report-done');
    this.button = q('.report-btn');
    this.pending = false;
    this.reason.replaceChildren(...REASONS.map((r) => {
      const o = document.createElement('option');
      o.value = r;
      o.textContent = t(`report.r.${r}`);
      return o;
    }));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    q('.report-cancel').addEventListener('click', () => this.close());
    q('.report-close').addEventListener('click', () => this.close());
  }

  get isOpen() {
    return !this.el.hidden;
  }

  // pick: a message's seq to check (a nudge's "Report"); from: where focus goes back.
  open(pick, from) {
    const keep = new Set([...this.list.querySelectorAll('input:checked')].map((b) => b.value));
    if (pick != null) keep.add(String(pick));
    this.from = from;
    this.list.replaceChildren();
    for (const [seq, f] of this.view.received) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = String(seq);
      box.checked = keep.has(box.value);
      const text = document.createElement('span');
      text.className = 'said';
      text.dir = 'auto';
      const words = [...f.text];
      text.textContent = words.length > PREVIEW ? `${words.slice(0, PREVIEW).join('')}…` : f.text;
      const who = document.createElement('bdi');
      who.className = 'who';
      who.textContent = this.view.name(f.from);
      const label = document.createElement('label');
      label.className = 'check';
      const body = document.createElement('span');
      body.append(who, document.createElement('br'), text);
      label.append(box, body);
      const li = document.createElement('li');
      li.appendChild(label);
      this.list.appendChild(li);
    }
    this.none.hidden = this.view.received.size > 0;
    this.err.textContent = '';
    this.form.hidden = false;
    this.done.hidden = true;
    this.el.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.view.el.classList.add('reporting');
    this.el.querySelector('h2').focus();
  }

  close() {
    this.el.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.view.el.classList.remove('reporting');
    this.view.afterPanel(this.from || this.button);
  }

  frame() {
    const picked = [...this.list.querySelectorAll('input:checked')]
      .map((b) => this.view.received.get(Number(b.value))).filter(Boolean);
    const f = { type: 'report', room: this.view.id, reason: this.reason.value, messages: picked };
    const note = this.note.value.trim();
    if (note) f.note = [...note].slice(0, 1000).join('');
    return f;
  }

  submit() {
    if (this.pending) return;
    const f = this.frame();
    if (new TextEncoder().encode(JSON.stringify(f)).length > MAX_BYTES) {
      this.err.textContent = t('report.tooBig');
      return;
    }
    if (!this.send(f)) {
      this.err.textContent = t('conn.notReady');
      return;
    }
    this.err.textContent = '';
    this.pending = true;
  }

  // The server's answer: `reported` with how many messages it could verify.
  reported(verified) {
    this.pending = false;
    this.note.value = '';
    for (const b of this.list.querySelectorAll('input:checked')) b.checked = false;
    this.form.hidden = true;
    this.done.hidden = false;
    const p = this.done.querySelector('p');
    p.textContent = t('report.sent', { count: verified });
    p.focus();
  }

  failed(message) {
    this.pending = false;
    this.err.textContent = t('report.failed', { reason: message });
  }
}
