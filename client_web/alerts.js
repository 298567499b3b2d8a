// Match alerts: a short chime (Web Audio, no sound file; the audio context is
// created on the "find a partner" tap, as browsers require; never when the
// member turned sound off), a flashing title
// while the tab is in the background, a system notification where the member
// allowed it, and a vibration on phones that have one.
let audio = null;
let flashTimer = 0;

export function unlockSound() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === 'suspended') audio.resume();
  } catch { /* no sound on this device */ }
}

export function soundReady() {
  return Boolean(audio && audio.state === 'running');
}

// The match chime: two notes. `ping`, one soft note, is a message while the page is hidden.
// Both only when the member left sound on (store.js prefs; app.js asks).
export const chime = () => tones([660, 880], 0.25);
export const ping = () => tones([740], 0.12);

function tones(notes, peak) {
  if (!audio) return false;
  try {
    const now = audio.currentTime;
    notes.forEach((hz, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const at = now + i * 0.18;
      osc.type = 'sine';
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(peak, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.4);
    });
    return true;
  } catch {
    return false;
  }
}

// Alternate the title until the page is seen again; `restore` sets the real title.
export function flashTitle(text, restore) {
  stopFlash(restore);
  if (!document.hidden) return;
  let on = false;
  flashTimer = setInterval(() => {
    on = !on;
    if (on) document.title = text;
    else restore();
  }, 1000);
  document.title = text;
}

export function stopFlash(restore) {
  if (!flashTimer) return;
  clearInterval(flashTimer);
  flashTimer = 0;
  restore();
}

export const canNotify = () => 'Notification' in window && window.isSecureContext !== false;
export const notifyState = () => (canNotify() ? Notification.permission : 'denied');

export async function askNotify() {
  if (!canNotify()) return 'denied';
  try {
    return await Notification.requestPermission();
  } catch {
    return 'denied';
  }
}

export function notify(title, body) {
  if (notifyState() !== 'granted' || !document.hidden) return false;
  try {
    const n = new Notification(title, { body, tag: 'bridgechat-match' });
    n.onclick = () => {
      window.focus();
      n.close();
    };
    return true;
  } catch {
    return false; // Android Chrome only notifies from a service worker; the sound and title remain.
  }
}

export function vibrate() {
  try {
    if (navigator.vibrate) navigator.vibrate([120, 80, 120]);
  } catch { /* not supported */ }
}
