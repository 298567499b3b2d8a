// The conversation clock: the time left, shown every second, and milestones
// announced once each as they pass (5 minutes politely; 2 and 1 urgently).
import { t, num } from './i18n.js';

const MILESTONES = [[300, false], [120, true], [60, true]];

// Server time minus ours (ms), learnt from response headers and message times,
// so a phone whose clock is wrong still shows the right time left.
let offset = 0;
export function serverTime(iso) {
  const at = Date.parse(iso);
  if (!Number.isNaN(at)) offset = at - Date.now();
}
export const now = () => Date.now() + offset;
// An HTTP Date header counts whole seconds: the server's time lies somewhere in the second
// after it. Taken only when our clock is clearly wrong, so that it never shows one
// second more than the conversation has (message times, to the millisecond, refine it).
export function serverDate(header) {
  const at = Date.parse(header);
  if (Number.isNaN(at)) return;
  const guess = at + 500 - Date.now();
  if (Math.abs(guess) > 1000) offset = guess;
}

// Whole seconds left, rounded down: a 20-minute conversation never shows 20:01.
export function clockText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = num(Math.floor(s / 60));
  const ss = num(s % 60, { minimumIntegerDigits: 2 });
  return t('chat.timeLeft', { time: `${mm}:${ss}` });
}

export class Clock {
  // el: where the time left shows; onMilestone(text, urgent); onTick(msLeft)
  constructor(el, onMilestone, onTick) {
    this.el = el;
    this.onMilestone = onMilestone;
    this.onTick = onTick;
    this.ends = null;
    this.timer = 0;
    this.last = null;
  }

  set(endsAt) {
    const ends = endsAt ? Date.parse(endsAt) : NaN;
    if (Number.isNaN(ends)) {
      this.stop();
      this.el.hidden = true;
      return;
    }
    if (ends === this.ends) return;
    this.ends = ends;
    this.el.hidden = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  left() {
    return this.ends == null ? null : this.ends - now();
  }

  tick() {
    const left = this.left();
    this.el.textContent = clockText(left);
    this.el.classList.toggle('soon', left <= 120000);
    const secs = left / 1000;
    if (this.last != null) {
      for (const [mark, isUrgent] of MILESTONES) {
        if (this.last > mark && secs <= mark && secs > 0) {
          this.onMilestone(t('chat.minutesLeft', { count: mark / 60 }), isUrgent);
        }
      }
    }
    this.last = secs;
    if (this.onTick) this.onTick(left);
    if (left <= 0) this.stop();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
  }
}
