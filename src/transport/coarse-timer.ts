/** A timeout that can be restarted and cleared. */
export interface RestartableTimer {
  /** Starts the full delay again from now. */
  refresh(): void;
  clear(): void;
}

/** Delays from this long on share one tick instead of one Node timer each. */
export const COARSE_MIN_MS = 1000;
const TICK_MS = 500;

const NOTHING = (): void => {};

class CoarseEntry implements RestartableTimer {
  /** performance.now() at which it fires; -1 until the next tick dates it (fresh or refreshed). */
  expiresAt = -1;
  cleared = false;
  constructor(
    readonly delayMs: number,
    public fire: () => void,
  ) {}
  refresh(): void {
    this.expiresAt = -1;
  }
  clear(): void {
    this.cleared = true;
    // A cleared entry stays in the list until the next tick: it must not keep the request's
    // objects (reachable from `fire`) alive that long.
    this.fire = NOTHING;
  }
}

const entries: CoarseEntry[] = [];
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  let kept = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.cleared) continue;
    if (e.expiresAt === -1) e.expiresAt = now + e.delayMs;
    else if (now >= e.expiresAt) {
      const fire = e.fire;
      e.clear();
      fire();
      continue;
    }
    entries[kept++] = e;
  }
  // Entries a fired callback added were visited by the same loop (it re-reads the length).
  entries.length = kept;
  if (kept === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/**
 * Request and idle timeouts: one Node timer per request costs a Timeout object, async-hooks
 * bookkeeping and a timer-list insert, which showed in profiles at thousands of requests a
 * second. Long delays (at least `COARSE_MIN_MS`) instead join a list swept every 500 ms, and
 * fire between `delayMs` and `delayMs + 1000` after they were set or last refreshed (never
 * early). Shorter delays get a Node timer of their own, so they stay precise.
 */
export function startTimer(delayMs: number, fire: () => void): RestartableTimer {
  if (delayMs < COARSE_MIN_MS) {
    const t = setTimeout(fire, delayMs);
    return { refresh: () => void t.refresh(), clear: () => clearTimeout(t) };
  }
  const e = new CoarseEntry(delayMs, fire);
  entries.push(e);
  if (ticker === undefined) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
  return e;
}

/** Timers in the sweep (cleared ones until the next tick drops them) and whether it is running. */
export function coarseTimerState(): { entries: number; sweeping: boolean } {
  return { entries: entries.length, sweeping: ticker !== undefined };
}
