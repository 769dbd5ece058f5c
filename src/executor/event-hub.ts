import { EventEmitter } from 'node:events';
import { ValidationError, type Issue } from '../core/errors.js';
import type { ExecutorEventMap, ExecutorEventName } from '../core/events.js';

/**
 * The executor's events. `listening` says which have listeners, so the hot path builds no
 * event object nobody reads; a throwing listener never reaches the executor's bookkeeping.
 */
export class EventHub {
  readonly #events = new EventEmitter();
  readonly listening = { queueFull: false, rateLimited: false, admitted: false, settled: false };

  constructor() {
    this.#events.setMaxListeners(0);
    // 'newListener' fires before the listener is added; 'removeListener' after it is gone.
    this.#events.on('newListener', (name: string | symbol) => {
      if (name in this.listening) this.listening[name as ExecutorEventName] = true;
    });
    this.#events.on('removeListener', (name: string | symbol) => {
      if (name in this.listening) this.listening[name as ExecutorEventName] = this.#events.listenerCount(name) > 0;
    });
  }

  /** @throws ValidationError (`E_VALIDATION`) for an unknown event or a listener that is not a function */
  on<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): void {
    this.#check(event, listener);
    this.#events.on(event, listener);
  }

  off<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): void {
    this.#check(event, listener);
    this.#events.off(event, listener);
  }

  #check(event: unknown, listener: unknown): void {
    const issues: Issue[] = [];
    if (typeof event !== 'string' || !Object.hasOwn(this.listening, event)) {
      issues.push({ path: '/event', rule: 'enum', message: `must be one of ${Object.keys(this.listening).join(', ')}` });
    }
    if (typeof listener !== 'function') issues.push({ path: '/listener', rule: 'type', message: 'must be a function' });
    if (issues.length > 0) throw new ValidationError('event listener', issues);
  }

  emit<K extends ExecutorEventName>(event: K, payload: ExecutorEventMap[K]): void {
    try {
      this.#events.emit(event, payload);
    } catch {
      // A throwing listener must not break the executor's bookkeeping.
    }
  }
}
