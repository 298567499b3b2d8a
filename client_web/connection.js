// The WebSocket: reconnection with exponential backoff and jitter, and the
// outbox of own messages that are resent with the same id until acknowledged.
const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
const OUTBOX_KEY = 'bc.outbox';

function loadOutbox() {
  try {
    const list = JSON.parse(sessionStorage.getItem(OUTBOX_KEY) || '[]');
    return new Map(list.map((f) => [f.id, f]));
  } catch {
    return new Map();
  }
}

export class Connection {
  // handlers: open(), frame(f), state(name, detail)
  constructor(url, handlers) {
    this.url = url;
    this.h = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.ready = false;
    this.everReady = false;
    this.stopped = false;
    this.retryAt = 0;
    this.outbox = loadOutbox();
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.stopped = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    this.ready = false;
    this.h.state('connecting');
    ws.onopen = () => this.h.open();
    ws.onmessage = (e) => {
      let f;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      if (f && typeof f.type === 'string') this.h.frame(f);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      if (e.code === 4001) {
        this.stopped = true;
        this.h.state('replaced');
      } else if (!this.stopped) {
        this.schedule();
      }
    };
  }

  schedule() {
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => this.connect(), delay);
    this.h.state('waiting', delay);
  }

  // Reconnect at once (the network came back, the page became visible, or the member asked).
  now() {
    if (this.timer) this.connect();
  }

  // The server said welcome: frames may flow, and the backoff starts again from 1 s.
  welcomed() {
    this.ready = true;
    this.everReady = true;
    this.attempt = 0;
    this.h.state('open');
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  // Send on an open socket; hello may go before welcome. Returns false if not sent.
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    if (!this.ready && frame.type !== 'hello') return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  saveOutbox() {
    try {
      sessionStorage.setItem(OUTBOX_KEY, JSON.stringify([...this.outbox.values()]));
    } catch {
      /* storage full or disabled: the outbox still lives in memory */
    }
  }

  // A `send` frame: kept until its ack, sent now if possible.
  queue(frame) {
    this.outbox.set(frame.id, frame);
    this.saveOutbox();
    this.send(frame);
  }

  pending(room) {
    return [...this.outbox.values()].filter((f) => f.room === room);
  }

  forget(id) {
    const f = this.outbox.get(id);
    if (f) {
      this.outbox.delete(id);
      this.saveOutbox();
    }
    return f;
  }

  resend(room) {
    for (const f of this.pending(room)) this.send(f);
  }

  resendLater(id, ms = 2000) {
    setTimeout(() => {
      const f = this.outbox.get(id);
      if (f) this.send(f);
    }, ms);
  }
}
