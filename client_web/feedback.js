// After the conversation: how much common ground (1 to 5) and "talk again?",
// and what meeting again means (both said yes: offered to each other first
// the next time both wait for a shared question).
import { t, iso } from './i18n.js';

export class FeedbackForm {
  // view: the RoomView; send(frame) -> bool
  constructor(view, send) {
    this.view = view;
    this.send = send;
    const q = (s) => view.el.querySelector(s);
    this.form = q('.feedback');
    this.err = q('.fb-err');
    this.thanksEl = q('.fb-thanks');
    this.pending = false;
    this.said = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  show(names) {
    this.names = names;
    this.form.querySelector('.fb-again').textContent = t('fb.again', { name: names });
    this.form.hidden = false;
  }

  hide() {
    this.form.hidden = true;
  }

  submit() {
    if (this.pending) return;
    const g = this.form.querySelector('input[name=ground]:checked');
    const a = this.form.querySelector('input[name=again]:checked');
    if (!g || !a) {
      this.err.textContent = t('fb.missing');
      (g ? this.form.querySelector('input[name=again]') : this.form.querySelector('input[name=ground]')).focus();
      return;
    }
    const f = { type: 'feedback', room: this.view.id, common_ground: Number(g.value), again: a.value === 'yes' };
    if (!this.send(f)) {
      this.err.textContent = t('conn.notReady');
      return;
    }
    this.err.textContent = '';
    this.pending = true;
    this.said = f.again;
  }

  thanks() {
    this.pending = false;
    this.form.hidden = true;
    this.thanksEl.textContent = this.said ? t('fb.thanksAgain', { name: this.names || iso('?') }) : t('fb.thanks');
    this.thanksEl.hidden = false;
    this.thanksEl.focus();
  }

  failed(message) {
    this.pending = false;
    this.err.textContent = message;
  }
}
