// The device's side of the page: its settings (text size and sound, offered in
// the header's "Aa" and in each conversation's menu, all kept in step), and the
// visible part of the window, so the composer stays above the on-screen keyboard.
import { t, applyI18n } from './i18n.js';
import { prefs, SIZES } from './store.js';
import { status } from './say.js';

prefs.apply();

let boxes = [];
function sync() {
  boxes = boxes.filter((box) => box.isConnected);
  const n = prefs.size();
  for (const box of boxes) {
    box.querySelector('.size-now').textContent = `${n}\u00a0%`;
    box.querySelector('.size-down').disabled = n === SIZES[0];
    box.querySelector('.size-up').disabled = n === SIZES[SIZES.length - 1];
    box.querySelector('.sound-box').checked = prefs.sound();
  }
}

// The settings' controls, from their template, into `slot`; `resized()` after a change of size.
export function mountPrefs(slot, resized) {
  const box = document.getElementById('prefs-tpl').content.firstElementChild.cloneNode(true);
  applyI18n(box);
  box.querySelector('.size').setAttribute('aria-label', t('prefs.size'));
  const step = (dir) => {
    prefs.step(dir);
    sync();
    status(t('prefs.sizeNow', { n: prefs.size() }));
    resized();
  };
  box.querySelector('.size-down').addEventListener('click', () => step(-1));
  box.querySelector('.size-up').addEventListener('click', () => step(1));
  box.querySelector('.sound-box').addEventListener('change', (e) => {
    prefs.setSound(e.target.checked);
    sync();
  });
  slot.replaceChildren(box);
  boxes.push(box);
  sync();
}

// The visible window's height and offset as CSS variables (--vvh, --vvtop): a
// conversation fills exactly that, so a keyboard that covers the bottom of the
// window (not resizing it) never covers the composer. `changed()` after each change.
export function fitViewport(changed) {
  const vv = window.visualViewport;
  if (!vv) return;
  const set = () => {
    const s = document.documentElement.style;
    s.setProperty('--vvh', `${Math.round(vv.height)}px`);
    s.setProperty('--vvtop', `${Math.max(0, Math.round(vv.offsetTop))}px`);
    changed();
  };
  vv.addEventListener('resize', set);
  vv.addEventListener('scroll', set);
  set();
}
