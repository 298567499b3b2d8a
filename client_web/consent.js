// Agreeing together (server: core/consent.py), one bar above the composer for
// each thing asked: more time, and exchanging contact details. Any member may
// ask (from the menu); the others see the ask with yes and no; a "no" clears
// every ask; when everyone said yes the server says it is done.
import { t, iso, listFormat } from './i18n.js';

class AskBar {
  // view: the RoomView; send(frame) -> bool; kind: the frame's type and the catalog's
  // prefix (`${kind}.mine`, `.theirs`, `.no`, `.withdraw`, `.declined`); cls: the bar's class.
  constructor(view, send, kind, cls) {
    this.view = view;
    this.send = send;
    this.kind = kind;
    const q = (s) => view.el.querySelector(s);
    this.item = q(`.${kind}-btn`);
    this.bar = q(`.${cls}`);
    this.question = q(`.${cls}-q`);
    this.yes = q(`.${cls}-yes`);
    this.no = q(`.${cls}-no`);
    this.question.id = `${view.uid}-${kind}`;
    this.bar.setAttribute('aria-labelledby', this.question.id);
    this.mine = false;
    this.theirs = new Set(); // aliases who asked
    this.item.addEventListener('click', () => {
      view.menu.close(false);
      this.vote(true);
    });
    this.yes.addEventListener('click', () => this.vote(true));
    this.no.addEventListener('click', () => this.vote(false));
  }

  vote(agree) {
    return this.send({ type: this.kind, room: this.view.id, agree });
  }

  get possible() {
    return !this.view.ended;
  }

  clear() {
    this.mine = false;
    this.theirs.clear();
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
    const k = this.kind;
    const names = listFormat([...this.theirs].map((a) => iso(v.name(a))));
    const text = this.mine ? t(`${k}.mine`, { name: v.names() }) : t(`${k}.theirs`, { name: names });
    // Set after a beat: the question is a live region, read out when it appears or changes.
    if (text !== this.said) {
      this.said = text;
      this.question.textContent = '';
      setTimeout(() => { this.question.textContent = this.said; }, 50);
    }
    this.yes.hidden = this.mine;
    this.no.textContent = t(this.mine ? `${k}.withdraw` : `${k}.no`);
    if (focused && !this.bar.contains(document.activeElement)) this.no.focus();
  }

  // A frame of the bar's kind: someone (or we) asked, or a "no" cleared every ask.
  heard(f) {
    const v = this.view;
    const me = f.from === v.you;
    if (f.agree) {
      if (me) this.mine = true;
      else this.theirs.add(f.from);
    } else {
      const wasAsked = this.mine || this.theirs.size > 0;
      this.clear();
      // Said in the log (a live region), once.
      if (!me && wasAsked) v.note(t(`${this.kind}.declined`, { name: iso(v.name(f.from)) }));
    }
    this.sync();
  }
}

// More time: the server moves the end once (`extended`).
export class ExtendBar extends AskBar {
  constructor(view, send) {
    super(view, send, 'extend', 'ask');
    this.used = false;
  }

  get possible() {
    const left = this.view.clock.left();
    return !this.used && !this.view.ended && left != null && left > 0;
  }

  // `extended`: the new end, for everyone.
  done(f) {
    const v = this.view;
    const before = v.clock.ends;
    v.clock.set(f.ends_at);
    const minutes = before ? Math.round((v.clock.ends - before) / 60000) : 0;
    this.used = true;
    this.clear();
    v.note(t('extend.done', { count: minutes }), 'good');
    this.sync();
  }

  // The server said no more (`not_extendable`).
  refused() {
    this.used = true;
    this.clear();
    this.sync();
  }
}

// Contact details: a message holding some is held by the server (`contact_held`)
// until everyone agreed (`contact_open`). The server does not echo our own
// `contact`, so our side is set here when it is sent.
export class ContactBar extends AskBar {
  constructor(view, send) {
    super(view, send, 'contact', 'offer');
    this.open = false;
    this.barred = false;
  }

  get possible() {
    return !this.open && !this.barred && !this.view.ended;
  }

  vote(agree) {
    if (!super.vote(agree)) return false;
    if (agree) this.mine = true;
    else this.clear();
    this.sync();
    return true;
  }

  sync() {
    super.sync();
    // The offer beside each held message, while one can be made.
    for (const b of this.view.log.querySelectorAll('.offer-btn')) b.hidden = this.item.hidden;
  }

  // Our message `id` was not relayed: marked so, with the offer beside it, and its
  // text back in the composer (sent nowhere else) for after an agreement.
  held(id, text) {
    const v = this.view;
    const m = v.own(id);
    if (m) {
      m.dataset.state = 'failed';
      m.classList.add('held');
      const s = m.querySelector('.state');
      s.textContent = t('contact.held');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link offer-btn';
      b.textContent = t('contact.offer');
      b.addEventListener('click', () => {
        this.vote(true);
        v.composerFocus();
      });
      s.append(' ', b);
    }
    if (text && !v.ended) {
      const now = v.input.value.trim();
      v.input.value = now ? `${text}\n${now}` : text;
      v.grow();
    }
    this.sync();
  }

  // `contact_open`: everyone agreed (said once; it comes again to whoever offers again).
  opened() {
    const was = this.open;
    this.open = true;
    this.clear();
    if (!was) this.view.note(t('contact.open'), 'good');
    this.sync();
  }

  // `contact_not_allowed`: no exchange in this conversation.
  refused() {
    const was = this.barred;
    this.barred = true;
    this.clear();
    if (!was) this.view.note(t('err.contact_not_allowed'), 'warn');
    this.sync();
  }
}
