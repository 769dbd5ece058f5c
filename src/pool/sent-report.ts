import { now } from '../core/clock.js';
import { keepShape } from '../core/shapes.js';

/**
 * The send instant of one task, reported once: when the handler calls `ctx.sent()`, or, if it
 * never does, its start instant, reported when it ends (until then the limiter holds the
 * slot where it was admitted, which is never earlier than the truth).
 */
export class SentReport {
  readonly #started = now();
  readonly #emit: (at: number) => void;
  #reported = false;

  constructor(emit: (at: number) => void) {
    this.#emit = emit;
  }

  /** The handler's `ctx.sent`. */
  readonly sent = (): void => this.#report(now());

  /** The handler ended (settled, failed, or its stream finished). */
  readonly ended = (): void => this.#report(this.#started);

  #report(at: number): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#emit(at);
  }
}

keepShape(new SentReport(() => {}));
