import type { MessagePort, TransferListItem } from 'node:worker_threads';
import { onMicrotask } from '../core/microtask.js';

/**
 * Batches the messages posted to a port within one turn of the event loop into a single
 * `postMessage` (an array), which is what makes per-call dispatch cheap: one structured-clone
 * and one wake-up of the other thread for many calls. Flushed on a microtask, so a lone
 * message waits for nothing, and at `maxBatch` messages, so a burst pipelines (the other
 * thread starts on the first batch while this one builds the next).
 */
const MAX_BATCH = 128;

export class Outbox<M> {
  readonly #port: MessagePort;
  readonly #onUnclonable: ((msg: M, err: unknown) => M | undefined) | undefined;
  #items: M[] = [];
  #transfer: TransferListItem[] = [];
  #scheduled = false;
  #linger: NodeJS.Timeout | undefined;

  /** @param onUnclonable turns a message that cannot be cloned into one that can (or drops it). */
  constructor(port: MessagePort, onUnclonable?: (msg: M, err: unknown) => M | undefined) {
    this.#port = port;
    this.#onUnclonable = onUnclonable;
  }

  post(msg: M, transfer?: readonly TransferListItem[]): void {
    this.#items.push(msg);
    if (transfer !== undefined && transfer.length > 0) this.#transfer.push(...transfer);
    if (this.#items.length >= MAX_BATCH) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      onMicrotask(this.#onMicrotask);
    }
  }

  /**
   * Posts `msg` with the next batch, or after `lingerMs` if nothing else is sent before then:
   * for reports that lose nothing by arriving a little late (they carry their own instant) and
   * would otherwise cost the other thread a wake-up of their own.
   */
  postLater(msg: M, lingerMs: number): void {
    this.#items.push(msg);
    if (this.#scheduled || this.#linger !== undefined) return;
    this.#linger = setTimeout(this.flush, lingerMs);
  }

  readonly #onMicrotask = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Sends what is waiting now. */
  readonly flush = (): void => {
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
    if (this.#items.length === 0) return;
    const items = this.#items;
    const transfer = this.#transfer;
    this.#items = [];
    this.#transfer = [];
    try {
      this.#port.postMessage(items, transfer);
    } catch (err) {
      if (this.#onUnclonable === undefined) throw err;
      // One bad message must not sink its batch-mates: send them one by one.
      for (const msg of items) this.#postAlone(msg, transfer);
    }
  };

  #postAlone(msg: M, transfer: TransferListItem[]): void {
    try {
      this.#port.postMessage([msg], transfer.filter((t) => holds(msg, t)));
    } catch (err) {
      const replacement = this.#onUnclonable!(msg, err);
      if (replacement !== undefined) this.#port.postMessage([replacement]);
    }
  }
}

function holds(msg: unknown, t: TransferListItem): boolean {
  if (typeof msg !== 'object' || msg === null) return false;
  for (const v of Object.values(msg)) {
    if (v === t) return true;
    if (ArrayBuffer.isView(v) && v.buffer === t) return true;
  }
  return false;
}
