// Browser storage that never throws (private mode, storage turned off): then we just forget.
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
