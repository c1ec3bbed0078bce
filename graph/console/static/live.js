// registrationEvents from a cursor, resumed after a dropped websocket from the last event
// received, so that nothing is missed and nothing is applied twice.

const RETRY_MS = [250, 500, 1000, 2000, 4000];
// Closed for good: wrong login (4401), no DEVICE_CONTROL_READ (4403).
const FATAL_CLOSE_CODES = new Set([4401, 4403]);

export class LiveEvents {
  /**
   * ``onEvent(event, receivedAt)`` for each event in log order; ``onState`` gets
   * "connecting", "live", "reconnecting" or "stopped"; ``onFatal(error)`` when the
   * subscription cannot go on (the caller decides: log out, or start over).
   */
  constructor(api, { onEvent, onState, onFatal }) {
    this.api = api;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onFatal = onFatal;
    this.stopFn = null;
    this.timer = null;
    this.failures = 0;
    this.running = false;
    api.onSocket("connected", () => {
      if (this.running) {
        this.failures = 0;
        this.onState("live");
      }
    });
  }

  /** Subscribe after ``cursor`` (null: from now on), replacing any earlier subscription. */
  start(cursor) {
    this.stop();
    this.cursor = cursor ?? null;
    this.running = true;
    this.open();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    const stop = this.stopFn;
    this.stopFn = null;
    stop?.();
  }

  open() {
    this.onState("connecting");
    let ended = false;
    const stop = this.api.registrationEvents(this.cursor, {
      next: (event, receivedAt) => {
        if (ended || stop !== this.stopFn) return;
        this.cursor = event.cursor;
        this.onEvent(event, receivedAt);
      },
      error: (error) => {
        ended = true;
        this.dropped(stop, error);
      },
      complete: () => {
        ended = true;
        this.dropped(stop, null);
      },
    });
    this.stopFn = stop;
  }

  dropped(stop, error) {
    if (!this.running || stop !== this.stopFn) return;
    this.stopFn = null;
    if (error && (FATAL_CLOSE_CODES.has(error.code) || error.codes)) {
      this.running = false;
      this.onState("stopped");
      this.onFatal(error);
      return;
    }
    this.onState("reconnecting");
    const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this.timer = setTimeout(() => {
      if (this.running) this.open();
    }, wait);
  }
}
