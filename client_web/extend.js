// More time, by mutual consent: any member may ask (from the menu); the others
// are asked "keep talking?" above the composer; when everyone said yes the
// server moves the end once (`extended`). A "no" clears every ask.
import { t, iso, listFormat } from './i18n.js';

export class ExtendBar {
  // view: the RoomView; send(frame) -> bool
  constructor(view, send) {
    this.view = view;
    this.send = send;
    const q = (s) => view.el.querySelector(s);
    this.item = q('.extend-btn');
    this.bar = q('.ask');
    this.question = q('.ask-q');
    this.yes = q('.ask-yes');
    this.no = q('.ask-no');
    this.mine = false;
    this.theirs = new Set(); // aliases who asked
    this.used = false;
    this.item.addEventListener('click', () => {
      view.menu.close(false);
      this.vote(true);
    });
    this.yes.addEventListener('click', () => this.vote(true));
    this.no.addEventListener('click', () => this.vote(false));
  }

  vote(agree) {
    if (this.send({ type: 'extend', room: this.view.id, agree })) this.waiting = agree;
  }

  get possible() {
    return !this.used && !this.view.ended && this.view.clock.left() != null && this.view.clock.left() > 0;
  }

  sync() {
    const v = this.view;
    this.item.hidden = !this.possible || this.mine;
    const asked = this.possible && (this.mine || this.theirs.size > 0);
    const focused = this.bar.contains(document.activeElement);
    this.bar.hidden = !asked;
    if (!asked) {
      this.said = '';
      if (focused) v.composerFocus();
      return;
    }
    const names = listFormat([...this.theirs].map((a) => iso(v.name(a))));
    const text = this.mine ? t('extend.mine', { name: v.names() }) : t('extend.theirs', { name: names });
    // Set after a beat: the question is a live region, read out when it appears or changes.
    if (text !== this.said) {
      this.said = text;
      this.question.textContent = '';
      setTimeout(() => { this.question.textContent = this.said; }, 50);
    }
    this.yes.hidden = this.mine;
    this.no.textContent = t(this.mine ? 'extend.withdraw' : 'extend.no');
    if (focused && !this.bar.contains(document.activeElement)) this.no.focus();
  }

  // An `extend` frame: someone (or we) asked, or a "no" cleared every ask.
  heard(f) {
    const v = this.view;
    const me = f.from === v.you;
    if (f.agree) {
      if (me) this.mine = true;
      else this.theirs.add(f.from);
    } else {
      const wasAsked = this.mine || this.theirs.size > 0;
      this.mine = false;
      this.theirs.clear();
      // Said in the log (a live region), once.
      if (!me && wasAsked) v.note(t('extend.declined', { name: iso(v.name(f.from)) }));
    }
    this.sync();
  }

  // `extended`: the new end, for everyone.
  done(f) {
    const v = this.view;
    const before = v.clock.ends;
    v.clock.set(f.ends_at);
    const minutes = before ? Math.round((v.clock.ends - before) / 60000) : 0;
    this.used = true;
    this.mine = false;
    this.theirs.clear();
    v.note(t('extend.done', { count: minutes }), 'good');
    this.sync();
  }

  // The server said no more (`not_extendable`).
  refused() {
    this.used = true;
    this.mine = false;
    this.theirs.clear();
    this.sync();
  }
}
