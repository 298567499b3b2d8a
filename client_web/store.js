// Browser storage that never throws (private mode, storage turned off): then we just forget.
// Also the device's own settings, kept in localStorage: text size and sound.
function area(name) {
  return {
    get(k) {
      try { return window[name].getItem(k); } catch { return null; }
    },
    set(k, v) {
      try {
        if (v == null) window[name].removeItem(k);
        else window[name].setItem(k, String(v));
      } catch { /* storage disabled or full */ }
    },
    clear() {
      try { window[name].clear(); } catch { /* storage disabled */ }
    },
  };
}

export const local = area('localStorage');
export const session = area('sessionStorage');

// Text size, as a share of the browser's own (rem-based CSS follows it).
export const SIZES = [100, 115, 130, 150, 175, 200];
const SIZE_KEY = 'bc.textSize';
const SOUND_KEY = 'bc.sound';

export const prefs = {
  size() {
    const n = Number(local.get(SIZE_KEY));
    return SIZES.includes(n) ? n : 100;
  },
  setSize(n) {
    local.set(SIZE_KEY, n === 100 ? null : n);
    prefs.apply();
  },
  // One step up or down the list; returns the size now.
  step(dir) {
    const i = SIZES.indexOf(prefs.size()) + dir;
    prefs.setSize(SIZES[Math.max(0, Math.min(SIZES.length - 1, i))]);
    return prefs.size();
  },
  sound() {
    return local.get(SOUND_KEY) !== 'off';
  },
  setSound(on) {
    local.set(SOUND_KEY, on ? null : 'off');
  },
  // CSSOM, not a style attribute: the Content-Security-Policy allows this.
  apply() {
    const n = prefs.size();
    document.documentElement.style.fontSize = n === 100 ? '' : `${n}%`;
  },
};

// ---- who we are ----
// One member per tab, as two people at one computer are two members. The token
// lives in this tab's session storage (a reload keeps it) and is remembered for
// the device only by the tab that holds it, which says so every 2 s. A tab
// opened while another holds it starts as a new member.
const TOKEN_KEY = 'bc.token';
export const OWNER_KEY = 'bc.owner';
// This tab's id survives a reload (session storage), so a reloaded tab still holds its token.
const TAB = session.get('bc.tab') || Math.random().toString(36).slice(2);
session.set('bc.tab', TAB);

function owner() {
  try { return JSON.parse(local.get(OWNER_KEY) || 'null'); } catch { return null; }
}

function othersHold() {
  const o = owner();
  return !!o && o.tab !== TAB && Date.now() - o.ts < 5000;
}

function hold() { local.set(OWNER_KEY, JSON.stringify({ tab: TAB, ts: Date.now() })); }

export const token = {
  get() {
    let tok = session.get(TOKEN_KEY);
    if (tok == null && !othersHold()) {
      tok = local.get(TOKEN_KEY);
      hold();
      if (tok) session.set(TOKEN_KEY, tok);
    }
    return tok;
  },
  set(tok) {
    session.set(TOKEN_KEY, tok);
    if (!othersHold()) {
      local.set(TOKEN_KEY, tok);
      if (tok) hold();
    }
  },
};

setInterval(() => {
  const tok = session.get(TOKEN_KEY);
  if (tok && !othersHold() && local.get(TOKEN_KEY) === tok) hold();
}, 2000);
