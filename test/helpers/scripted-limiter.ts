import type { Acquisition, Limiter } from '../../src/index.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A limiter that answers the n-th `acquire` (from 1) with `answer(n)` and records everything. */
export class ScriptedLimiter implements Limiter {
  readonly asks: number[] = [];
  readonly sentLog: [unknown, number][] = [];
  readonly reconciled: [unknown, number][] = [];
  reconcileResult: () => void | Promise<void> = () => undefined;
  /** false: no ticket waits for a send report (as a limiter with no window says). */
  holdsTickets = true;
  sentResult: () => void | Promise<void> = () => undefined;
  constructor(public answer: (n: number) => Acquisition | Promise<Acquisition>) {}
  check(): void {}
  acquire(): Acquisition | Promise<Acquisition> {
    this.asks.push(performance.now());
    return this.answer(this.asks.length);
  }
  holds(): boolean {
    return this.holdsTickets;
  }
  sent(ticket: unknown, at: number): void | Promise<void> {
    this.sentLog.push([ticket, at]);
    return this.sentResult();
  }
  reconcile(ticket: unknown, tokens: number): void | Promise<void> {
    this.reconciled.push([ticket, tokens]);
    return this.reconcileResult();
  }
  pause(): void {}
  observe(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const yes = (ticket: unknown): Acquisition => ({ admitted: true, ticket });
export const notYet = (retryInMs: number, reason: Extract<Acquisition, { admitted: false }>['reason'] = 'requests'): Acquisition => ({ admitted: false, retryInMs, reason });
