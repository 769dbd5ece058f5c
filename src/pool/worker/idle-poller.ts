import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { onMicrotask } from '../../core/microtask.js';

/** Longest run of back-to-back polls before the event loop gets a turn. */
const CHAIN_MS = 1;

/**
 * When a worker goes idle it polls its control port for up to `spinUs` before it sleeps in the
 * event loop. A caller that makes one small call after another then finds the worker awake,
 * and the round trip saves the thread's wake-up, its largest part. The cost is at most
 * `spinUs` of CPU each time the worker runs out of work; a worker with calls in flight (an
 * HTTP request, a stream) never polls.
 *
 * Polls chained by hits run on microtasks for at most `CHAIN_MS`; after that the next poll
 * waits for the next turn of the event loop, so the worker's own timers and sockets are never
 * held up for longer than that.
 */
export class IdlePoller {
  readonly #port: MessagePort;
  readonly #spinMs: number;
  readonly #idle: () => boolean;
  readonly #deliver: (message: unknown) => void;
  #scheduled = false;
  #immediate: NodeJS.Immediate | undefined;
  /** When the current chain of polls began; -1 when none is running. */
  #chainStart = -1;
  #stopped = false;

  constructor(port: MessagePort, spinUs: number, idle: () => boolean, deliver: (message: unknown) => void) {
    this.#port = port;
    this.#spinMs = spinUs / 1000;
    this.#idle = idle;
    this.#deliver = deliver;
  }

  /** The worker may just have run out of work: poll once the results are sent. */
  wentIdle(): void {
    if (this.#spinMs <= 0 || this.#scheduled || this.#stopped || !this.#idle()) return;
    this.#scheduled = true;
    const t = performance.now();
    if (this.#chainStart < 0) this.#chainStart = t;
    if (t - this.#chainStart < CHAIN_MS) onMicrotask(this.#poll);
    else {
      this.#chainStart = -1;
      this.#immediate = setImmediate(this.#poll);
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
  }

  readonly #poll = (): void => {
    this.#scheduled = false;
    this.#immediate = undefined;
    const t = performance.now();
    if (this.#chainStart < 0) this.#chainStart = t;
    const until = t + this.#spinMs;
    while (!this.#stopped && this.#idle()) {
      const next = receiveMessageOnPort(this.#port);
      if (next !== undefined) return this.#deliver(next.message);
      if (performance.now() >= until) break;
    }
    this.#chainStart = -1;
  };
}
