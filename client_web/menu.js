// A conversation's header controls: the question on one line (expandable), and
// the menu one tap away with the safety tools (report, block, end), more time,
// why you were matched, rules, text size and sound. Ending and blocking ask
// first; Escape only cancels a question or closes the menu, never ends a chat.

export class RoomMenu {
  // view: the RoomView; cb: leave(room), block(room), rules(), prefs(slot)
  constructor(view, cb) {
    this.view = view;
    const q = (s) => view.el.querySelector(s);
    this.head = q('.room-head');
    this.btn = q('.menu-btn');
    this.box = q('.menu');
    this.more = q('.more');
    cb.prefs(q('.menu .prefs-slot'));
    this.btn.addEventListener('click', () => (this.box.hidden ? this.open() : this.close(true)));
    this.box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close(true);
    });
    // Focus leaving it (Tab past the last item) closes it too.
    this.box.addEventListener('focusout', (e) => {
      const to = e.relatedTarget;
      if (to && !this.box.contains(to) && to !== this.btn) this.close(false);
    });
    // A tap outside closes it.
    view.el.addEventListener('pointerdown', (e) => {
      if (!this.box.hidden && !this.box.contains(e.target) && !this.btn.contains(e.target)) this.close(false);
    });
    this.more.addEventListener('click', () => this.expand(!this.head.classList.contains('open-q')));
    q('.room-title').addEventListener('click', () => this.expand(!this.head.classList.contains('open-q')));
    q('.rules-item').addEventListener('click', () => {
      this.close(false);
      cb.rules();
    });
    q('.why-btn').addEventListener('click', () => {
      this.close(false);
      view.showWhy();
    });

    this.confirms = {
      end: [q('.end-btn'), q('.confirm[data-for=end]')],
      block: [q('.block-btn'), q('.confirm[data-for=block]')],
    };
    for (const [name, [btn, box]] of Object.entries(this.confirms)) {
      btn.addEventListener('click', () => this.openConfirm(name));
      box.querySelector('.stay').addEventListener('click', () => this.closeConfirm(name));
      box.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') this.closeConfirm(name);
      });
    }
    q('.end-yes').addEventListener('click', () => {
      if (cb.leave(view.id)) {
        view.iLeft = true;
        this.confirms.end[1].hidden = true;
      }
    });
    q('.block-yes').addEventListener('click', () => {
      if (cb.block(view.id)) {
        view.iBlocked = true;
        this.confirms.block[1].hidden = true;
      }
    });
    q('.report-btn').addEventListener('click', () => {
      this.close(false);
      this.closeConfirms();
      if (view.report.isOpen) view.report.close();
      else view.report.open();
    });
  }

  open() {
    this.closeConfirms();
    this.box.hidden = false;
    this.btn.setAttribute('aria-expanded', 'true');
    this.box.querySelector('button:not([hidden])').focus();
  }

  close(focus) {
    if (this.box.hidden) return;
    this.box.hidden = true;
    this.btn.setAttribute('aria-expanded', 'false');
    if (focus) this.btn.focus();
  }

  // The whole question, or one line of it.
  expand(on) {
    this.head.classList.toggle('open-q', on);
    this.more.setAttribute('aria-expanded', String(on));
  }

  openConfirm(name) {
    const [btn, box] = this.confirms[name];
    this.close(false);
    this.closeConfirms();
    if (this.view.report.isOpen) this.view.report.close();
    box.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    box.querySelector('.stay').focus();
  }

  // Cancelled: focus goes back to the menu's button (the item is in the closed menu).
  closeConfirm(name) {
    const [btn, box] = this.confirms[name];
    box.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
    this.btn.focus();
  }

  closeConfirms() {
    for (const [btn, box] of Object.values(this.confirms)) {
      box.hidden = true;
      btn.setAttribute('aria-expanded', 'false');
    }
  }

  // What the menu still offers once the conversation has ended (report, for 10 minutes).
  ended() {
    this.close(false);
    this.closeConfirms();
    this.confirms.end[0].hidden = true;
    this.confirms.block[0].hidden = true;
  }
}
