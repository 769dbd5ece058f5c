import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { AbortHandle } from '../core/abort-handle.js';
import { deserializeError, serializeError } from '../core/errors.js';
import type { StreamChunks, StreamToWorker } from './protocol.js';

/** How a stream finished, as the pool that owns it needs to know. */
export type StreamOutcome = 'ended' | 'failed' | 'cancelled';

/**
 * The main-thread side of one stream: its own port, credit-based flow control, and the
 * `AsyncIterable` the consumer reads. The producer may have at most `credit` chunks that the
 * consumer has not taken; credit goes back in batches of half the window as chunks are
 * taken, so a slow consumer slows the producer and the buffer here never exceeds the window.
 * `return()`, `throw()` or an abort of `handle` cancels: the producer is told, the port closes.
 */
export class StreamChannel implements AsyncIterableIterator<unknown> {
  #port: MessagePort;
  readonly #handle: AbortHandle;
  readonly #grantAt: number;
  readonly #onFinish: (outcome: StreamOutcome) => void;
  readonly #onLost: () => void;
  #queue: unknown[] = [];
  #head = 0;
  #ungranted = 0;
  #state: 'open' | 'ended' | 'failed' | 'cancelled' | 'done' = 'open';
  #error: unknown;
  #waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined;

  /**
   * @param onFinish told once how the stream finished
   * @param onLost the port closed before the stream ended (its worker went away); the owner
   *   either fails the stream (`fail`) or moves it to another worker (`rebind`)
   */
  constructor(port: MessagePort, credit: number, handle: AbortHandle, onFinish: (outcome: StreamOutcome) => void, onLost: () => void) {
    this.#port = port;
    this.#handle = handle;
    this.#grantAt = Math.max(1, Math.floor(credit / 2));
    this.#onFinish = onFinish;
    this.#onLost = onLost;
    port.on('message', this.#onMessage);
    port.on('close', this.#onClose);
    handle.onAbort(this.#onAbort);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#head < this.#queue.length) return Promise.resolve({ done: false, value: this.#take() });
    switch (this.#state) {
      case 'open':
        if (this.#waiter !== undefined) return Promise.reject(new TypeError('a stream is read by one consumer at a time'));
        return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
      case 'failed':
      case 'cancelled': {
        const err = this.#error;
        this.#state = 'done';
        return Promise.reject(err);
      }
      default:
        this.#state = 'done';
        return Promise.resolve({ done: true, value: undefined });
    }
  }

  return(): Promise<IteratorResult<unknown>> {
    if (this.#state === 'open') this.#cancel(undefined);
    this.#state = 'done';
    this.#drop();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(err?: unknown): Promise<IteratorResult<unknown>> {
    if (this.#state === 'open') this.#cancel(err);
    this.#state = 'done';
    this.#drop();
    return Promise.reject(err);
  }

  /** The stream moves to another port (its worker died before it started the producer). */
  rebind(port: MessagePort): void {
    if (this.#state !== 'open') return;
    this.#port.off('message', this.#onMessage);
    this.#port.off('close', this.#onClose);
    this.#port.close();
    this.#port = port;
    port.on('message', this.#onMessage);
    port.on('close', this.#onClose);
  }

  /** The worker running the producer died: chunks already here are still delivered first. */
  fail(err: unknown): void {
    if (this.#state !== 'open') return;
    this.#settle('failed', err);
  }

  /**
   * The worker running the producer is gone, so everything it sent is already in the port:
   * take it now (it may end the stream), then fail what is still open with `err`. The port's
   * own 'close' usually does this; this does not depend on that event arriving. Never call it
   * once the port's 'close' has come: receiveMessageOnPort on that port crashed Node 20 with
   * SIGSEGV (every run of pool-streams, when #streamLost called it from the 'close' handler).
   */
  lost(err: unknown): void {
    while (this.#state === 'open') {
      const next = receiveMessageOnPort(this.#port);
      if (next === undefined) break;
      this.#onMessage(next.message as StreamChunks);
    }
    this.fail(err);
  }

  #take(): unknown {
    const value = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    if (this.#state === 'open' && ++this.#ungranted >= this.#grantAt) {
      this.#send({ t: 'credit', n: this.#ungranted });
      this.#ungranted = 0;
    }
    return value;
  }

  readonly #onMessage = (msg: StreamChunks): void => {
    if (this.#state !== 'open') return;
    const values = msg.values;
    let i = 0;
    if (this.#waiter !== undefined && values.length > 0 && this.#head === this.#queue.length) {
      const w = this.#waiter;
      this.#waiter = undefined;
      this.#queue.push(...values);
      w.resolve({ done: false, value: this.#take() });
      i = values.length;
    }
    for (; i < values.length; i++) this.#queue.push(values[i]);
    if (msg.error !== undefined) this.#settle('failed', deserializeError(msg.error));
    else if (msg.end === true) this.#settle('ended', undefined);
  };

  // 'close' comes after every message the producer sent, so no chunk is lost by this.
  readonly #onClose = (): void => {
    if (this.#state === 'open') this.#onLost();
  };

  readonly #onAbort = (reason: unknown): void => {
    if (this.#state !== 'open') return;
    this.#cancel(reason);
    this.#drop();
  };

  #cancel(reason: unknown): void {
    this.#send({ t: 'cancel', ...(reason === undefined ? {} : { reason: serializeError(reason) }) });
    this.#settle('cancelled', reason ?? this.#handle.reason);
  }

  #settle(state: 'ended' | 'failed' | 'cancelled', error: unknown): void {
    this.#state = state;
    this.#error = error;
    this.#handle.offAbort(this.#onAbort);
    this.#port.off('message', this.#onMessage);
    this.#port.off('close', this.#onClose);
    this.#port.close();
    this.#onFinish(state);
    const w = this.#waiter;
    if (w === undefined) return;
    this.#waiter = undefined;
    if (this.#head < this.#queue.length) w.resolve({ done: false, value: this.#take() });
    else if (state === 'ended') {
      this.#state = 'done';
      w.resolve({ done: true, value: undefined });
    } else {
      this.#state = 'done';
      w.reject(error);
    }
  }

  #drop(): void {
    this.#queue = [];
    this.#head = 0;
  }

  #send(msg: StreamToWorker): void {
    try {
      this.#port.postMessage(msg);
    } catch {
      // The port is already closed: the producer is gone, nothing to tell it.
    }
  }
}
