// After the conversation: how much common ground (1 to 5) and "talk again?",
// and what meeting again means (both said yes: offered to each other first
// the next time both wait for a shared question). A "yes" is also kept in this
// browser (names.js), so a meeting again shows the same names as this one.
import { t, iso } from './i18n.js';
import { rememberAgain } from './names.js';

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
    // Each room's radio groups by names of their own.
    for (const r of this.form.querySelectorAll('input[type=radio]')) r.name = `${r.name}-${view.uid}`;
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
    const g = this.form.querySelector('input[name^=ground]:checked');
    const a = this.form.querySelector('input[name^=again]:checked');
    if (!g || !a) {
      this.err.textContent = t('fb.missing');
      this.form.querySelector(g ? 'input[name^=again]' : 'input[name^=ground]').focus();
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
    const v = this.view;
    if (f.again && v.others.length === 1) rememberAgain(v.namesFor.first?.me || v.you, v.namesFor.first?.them || v.others[0]);
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
