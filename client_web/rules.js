// The rules and what data is kept: shown once before the first conversation,
// and any time from the header. Members' rights: download (GET /api/me) and
// delete (DELETE /api/me) everything held about them, with their token.
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

async function me(method, token) {
  return fetch('/api/me', { method, headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
}

// What happened, said next to the buttons (role=status), where the member is looking.
function said(text) {
  const el = $('rights-status');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 50);
}

export class Rules {
  // h: token(), erasing(bool), erased()
  constructor(h) {
    this.h = h;
    $('export-btn').addEventListener('click', () => this.exportData());
    $('erase-btn').addEventListener('click', () => this.toggleErase(true));
    $('erase-no').addEventListener('click', () => this.toggleErase(false));
    $('erase-confirm').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.toggleErase(false);
    });
    $('erase-yes').addEventListener('click', () => this.erase());
  }

  toggleErase(open) {
    $('erase-confirm').hidden = !open;
    $('erase-btn').setAttribute('aria-expanded', String(open));
    (open ? $('erase-no') : $('erase-btn')).focus();
  }

  async exportData() {
    const token = this.h.token();
    if (!token) {
      said(t('rights.none'));
      return;
    }
    try {
      const res = await me('GET', token);
      if (res.status === 401) {
        said(t('rights.none'));
        return;
      }
      if (!res.ok) throw new Error(String(res.status));
      const blob = new Blob([await res.text()], { type: 'application/json' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'bridgechat-my-data.json';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      said(t('rights.exported'));
    } catch {
      said(t('rights.failed'));
    }
  }

  async erase() {
    const token = this.h.token();
    // Close our socket first, so the server's "unknown token" does not start a new member.
    this.h.erasing(true);
    try {
      if (token) {
        const res = await me('DELETE', token);
        if (!res.ok && res.status !== 401) throw new Error(String(res.status));
      }
      $('erase-confirm').hidden = true;
      $('erase-btn').setAttribute('aria-expanded', 'false');
      this.h.erased();
    } catch {
      this.h.erasing(false);
      said(t('rights.failed'));
    }
  }
}
