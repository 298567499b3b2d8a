// What the page says out loud, in the notices under the header: `status` is
// polite and fades; `urgent` is assertive, kept for a partner who left and time
// running out; the moderators' notice stays until the member closes it.
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const timers = { status: 0, urgent: 0 };

// Clear first, then set after a beat, so the same words are announced again.
function speak(id, text, ms) {
  clearTimeout(timers[id]);
  const el = $(id);
  el.textContent = '';
  timers[id] = setTimeout(() => {
    el.textContent = text;
    timers[id] = setTimeout(() => { el.textContent = ''; }, ms);
  }, 50);
}

export const status = (text) => speak('status', text, 10000);
export const urgent = (text) => speak('urgent', text, 15000);

export function clearStatus() {
  clearTimeout(timers.status);
  $('status').textContent = '';
}

// Nothing said earlier stays on a screen it no longer belongs to (the data deleted, ...).
export function clearAll() {
  clearStatus();
  clearTimeout(timers.urgent);
  $('urgent').textContent = '';
  $('alert').textContent = '';
  $('mod-notice').hidden = true;
}

// A `notice` frame: shown once, in the member's language, until closed.
// A warning is the moderators' warning after a report (the only one they send);
// any other notice keeps the server's words, marked as English.
export function modNotice(f, back) {
  const box = $('mod-notice');
  const text = $('mod-text');
  const warn = f.level === 'warning';
  box.classList.toggle('warn', warn);
  box.hidden = false;
  $('mod-title').textContent = '';
  text.textContent = '';
  if (warn) text.removeAttribute('lang');
  else text.lang = 'en';
  // Filled after a beat, so the live region announces it once.
  setTimeout(() => {
    $('mod-title').textContent = t('notice.title');
    text.textContent = warn ? t('notice.warning') : String(f.message || '');
  }, 50);
  $('mod-close').onclick = () => {
    box.hidden = true;
    back();
  };
}
