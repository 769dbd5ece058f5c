import { now } from '../core/clock.js';
import { type CallpoolError, DeadlineExceededError, LimiterUnavailableError } from '../core/errors.js';
import { noop } from '../core/noop.js';
import type { Acquisition, Limiter, Ticket } from '../limits/types.js';
import type { CallEntry } from './call-entry.js';
import { DeadlineHeap } from './deadline-heap.js';
import { LinkedQueue } from './linked-queue.js';
import { WakeTimer } from './wake-timer.js';

/** What admission tells the executor. */
export interface AdmissionEvents {
  /** `entry`'s attempt holds a concurrency slot and rate capacity since `at`. */
  admitted(entry: CallEntry, at: number): void;
  /** The head must wait `waitMs` for rate capacity (told once per wait). */
  rateLimited(entry: CallEntry, waitMs: number, reason: string): void;
  /** `entry`'s deadline passed (queued or running): settle it with `err`. */
  expired(entry: CallEntry, err: CallpoolError): void;
}

/**
 * Every attempt of every call enters here: a bounded FIFO queue, the deadline heap, and one
 * wake timer. The head is admitted while a concurrency slot is free and the limiter agrees;
 * when the limiter says "not yet", one timer is set for the exact instant it names, and
 * nothing polls. A retry re-enters at the head of the same queue: it keeps its concurrency
 * slot, takes rate capacity again, and is admitted (and announced) like a first attempt.
 */
export class Admission {
  readonly queue = new LinkedQueue<CallEntry>();
  /** Attempts holding a concurrency slot. */
  readonly running = new Set<CallEntry>();
  readonly #deadlines = new DeadlineHeap<CallEntry>();
  readonly #limiter: Limiter | undefined;
  readonly #concurrency: number;
  readonly #events: AdmissionEvents;
  readonly #wake = new WakeTimer(() => this.pump(true));
  readonly #deadlineTimer = new WakeTimer(() => this.#expire());
  #acquiring = false;
  /** When the pending answer of an asynchronous limiter was asked for. */
  #acquiringSince = 0;
  /**
   * Set while the limiter's store says "unavailable" (until it admits again): when the question
   * that first found it unreachable was asked.
   */
  #unreachableSince: number | undefined = undefined;
  /** The last spell the store was unreachable, from that question to the next admission. */
  #lastOutage: { from: number; to: number } | undefined = undefined;
  /** Retry attempts in the queue. */
  #readmitting = 0;

  constructor(limiter: Limiter | undefined, concurrency: number, events: AdmissionEvents) {
    this.#limiter = limiter;
    this.#concurrency = concurrency;
    this.#events = events;
  }

  get idle(): boolean {
    return this.queue.size === 0 && this.running.size === 0;
  }

  /** Calls waiting for their first admission (a retry waiting at the head is still running). */
  get waiting(): number {
    return this.queue.size - this.#readmitting;
  }

  /** A first attempt joins the tail; its deadline (if any) is watched from now on. */
  enqueue(entry: CallEntry): void {
    if (entry.ctx.deadline !== undefined) {
      entry.deadline = entry.ctx.deadline;
      this.#deadlines.push(entry);
      this.#deadlineTimer.at(this.#deadlines.peek()!.deadline);
    }
    this.queue.push(entry);
    this.pump(false);
  }

  /** A retry attempt, asking since `at`, goes to the head; resolves with its ticket once admitted. */
  readmit(entry: CallEntry, at: number): Promise<Ticket> {
    return new Promise<Ticket>((resolve, reject) => {
      entry.readmit = { at, resolve, reject };
      entry.deferReason = undefined;
      this.#readmitting++;
      this.queue.unshift(entry);
      this.#wake.cancel();
      this.pump(true);
    });
  }

  /** `entry` settled: it leaves the queue, the heap and its slot, and the next may go. */
  release(entry: CallEntry): void {
    const wasHead = this.queue.head === entry;
    if (this.queue.remove(entry) && entry.readmit !== undefined) this.#readmitting--;
    this.#deadlines.remove(entry);
    const wasRunning = this.running.delete(entry);
    if (wasHead) {
      this.#wake.cancel();
      this.pump(true);
    } else if (wasRunning) {
      this.pump(false);
    }
  }

  /** A token refund may let the waiting head in before the timer said. */
  refunded(): void {
    if (!this.#wake.armed) return;
    this.#wake.cancel();
    this.pump(true);
  }

  close(): void {
    this.#wake.cancel();
    this.#deadlineTimer.cancel();
  }

  /** Admits from the head (`force`: the timer fired, or the head changed). */
  pump(force: boolean): void {
    if (this.#acquiring || (!force && this.#wake.armed)) return;
    const limiter = this.#limiter;
    for (;;) {
      const head = this.queue.head;
      if (head === undefined) break;
      // A retry already holds its slot; a first attempt needs a free one.
      if (head.readmit === undefined && this.running.size >= this.#concurrency) break;
      const t = now();
      // Past its deadline (the deadline timer is late: a busy loop): never started; the timer,
      // due now, fails it on the next turn and the queue moves on.
      if (head.heapIndex >= 0 && head.deadline <= t) {
        this.#deadlineTimer.at(head.deadline);
        break;
      }
      if (limiter !== undefined) {
        const got = limiter.acquire(head.tokens, t);
        if (got instanceof Promise) {
          this.#acquiring = true;
          this.#acquiringSince = t;
          got.then(
            (r) => this.#acquired(head, r),
            () => this.#acquired(head, { admitted: false, retryInMs: 100, reason: 'unavailable' }),
          );
          return;
        }
        if (!got.admitted) {
          this.#defer(head, got, t);
          return;
        }
        head.ticket = got.ticket;
      }
      this.queue.remove(head);
      this.#admit(head, t);
    }
  }

  #admit(entry: CallEntry, t: number): void {
    if (entry.readmit !== undefined) this.#readmitting--;
    if (this.#unreachableSince !== undefined) {
      this.#lastOutage = { from: this.#unreachableSince, to: t };
      this.#unreachableSince = undefined;
    }
    entry.deferReason = undefined;
    this.running.add(entry);
    this.#events.admitted(entry, t);
  }

  /** The answer of an asynchronous limiter (a shared store) for `head`. */
  #acquired(head: CallEntry, r: Acquisition): void {
    this.#acquiring = false;
    const askedAt = this.#acquiringSince;
    if (r.admitted) {
      if (head.inQueue) {
        head.ticket = r.ticket;
        this.queue.remove(head);
        this.#admit(head, now());
      } else {
        // Settled while we asked (cancelled, expired): give the tokens back and place the
        // slot now (a held slot is never released, see Limiter.sent).
        const back = this.#limiter!.reconcile(r.ticket, 0);
        if (back instanceof Promise) back.catch(noop);
        const placed = this.#limiter!.sent?.(r.ticket, now());
        if (placed instanceof Promise) placed.catch(noop);
      }
      this.pump(true);
    } else if (head.inQueue && this.queue.head === head) {
      this.#defer(head, r, askedAt);
    } else {
      this.pump(true);
    }
  }

  /** The limiter, asked at `askedAt`, said "not yet" for the head. */
  #defer(head: CallEntry, r: Extract<Acquisition, { admitted: false }>, askedAt: number): void {
    // A retry never waits past its call's deadline: when the limiter's wait ends at or after
    // it, the call fails now (phase 'retry'), not at the deadline.
    const deadline = head.ctx.deadline;
    const left = deadline === undefined ? Infinity : deadline - now();
    if (head.readmit !== undefined && r.reason !== 'unavailable' && r.retryInMs >= left) {
      this.#events.expired(head, new DeadlineExceededError('retry', { context: { waitMs: r.retryInMs, remainingMs: Math.max(0, left), waitingFor: r.reason } }));
      return;
    }
    if (head.deferReason === undefined) this.#events.rateLimited(head, r.retryInMs, r.reason);
    head.deferReason = r.reason;
    this.#unreachableSince = r.reason === 'unavailable' ? (this.#unreachableSince ?? askedAt) : undefined;
    this.#wake.at(now() + Math.max(0, r.retryInMs));
  }

  /** Fails every queued or running call whose deadline has passed, at that moment. */
  #expire(): void {
    const t = now();
    for (let e = this.#deadlines.peek(); e !== undefined && e.deadline <= t; e = this.#deadlines.peek()) {
      this.#deadlines.pop();
      this.#events.expired(e, e.running && e.readmit === undefined ? new DeadlineExceededError('running') : this.#queuedExpiry(e, t));
    }
    const next = this.#deadlines.peek();
    if (next !== undefined) this.#deadlineTimer.at(next.deadline);
  }

  /**
   * Every queued attempt waits on the same limiter: while it is unreachable, that is why they
   * expire; while its store has yet to answer (it may be about to time out), say so. An attempt
   * that waited through part of the store's last outage (the queue had not caught up when its
   * deadline passed) says for how long.
   */
  #queuedExpiry(e: CallEntry, t: number): CallpoolError {
    if (e.deferReason === 'unavailable' || this.#unreachableSince !== undefined) {
      return new LimiterUnavailableError("the shared rate limiter was unreachable until the call's deadline passed");
    }
    if (this.#acquiring) return new DeadlineExceededError('queued', { context: { waitingFor: 'store', storePendingMs: Math.round(t - this.#acquiringSince) } });
    const context: { waitingFor?: string; storeUnreachableMs?: number } = {};
    if (e.deferReason !== undefined) context.waitingFor = e.deferReason;
    const outage = this.#lastOutage;
    const since = e.readmit?.at ?? e.call.createdAt;
    if (outage !== undefined && outage.to > since) context.storeUnreachableMs = Math.round(outage.to - Math.max(outage.from, since));
    return new DeadlineExceededError('queued', Object.keys(context).length === 0 ? undefined : { context });
  }
}
