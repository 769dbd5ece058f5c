import { now } from '../core/clock.js';
import { CircuitOpenError, isRetryable } from '../core/errors.js';
import { ConsecutiveFailures, FailureRatio, type TripPolicy } from './breaker-policy.js';
import { callNext, failing, streamNext } from './next-safely.js';
import { tapStream } from './observe-stream.js';
import { resolveCircuitBreakerOptions, type CircuitBreakerOptions, type CircuitState, type StateChange } from './options.js';
import type { CallNext, Invocation, Middleware, StreamNext } from './types.js';

export type { CircuitBreakerOptions, CircuitState, StateChange } from './options.js';

export interface CircuitBreakerMiddleware extends Middleware {
  /** The state of one circuit (`closed` for one never seen). Reading it may move open to half-open. */
  state(key: string): CircuitState;
  /** Every circuit seen so far and its state. */
  states(): Record<string, CircuitState>;
  on(event: 'stateChange', listener: (change: StateChange) => void): this;
  off(event: 'stateChange', listener: (change: StateChange) => void): this;
}

interface Circuit {
  key: string;
  state: CircuitState;
  policy: TripPolicy;
  openUntil: number;
  probes: number;
  successes: number;
  /** Bumped on every change: an outcome from an older generation is not counted. */
  generation: number;
}

/** What an admitted call must report back. */
interface Ticket {
  circuit: Circuit;
  generation: number;
  probe: boolean;
}

/**
 * Closed, open, half-open. A closed circuit counts failures (retryable errors only) and opens
 * when its trip policy says so; an open one rejects at once with `CircuitOpenError` until
 * `openMs` has passed; then it is half-open and lets `halfOpenProbes` calls through, closing
 * after `closeAfter` successes and opening again on a failure. Streams pass through chunk by
 * chunk (nothing is buffered): a stream that ends counts as a success, one that fails
 * mid-stream as a failure, one the consumer leaves early as neither. Time is the monotonic
 * clock and every transition happens when a call arrives or the state is read: no timers.
 *
 * @example
 * const breaker = circuitBreaker({ trip: { ratio: 0.5, windowMs: 10_000, minVolume: 20 }, openMs: 5_000 });
 * breaker.on('stateChange', (c) => log.warn(`${c.key}: ${c.from} -> ${c.to}`));
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerMiddleware {
  const o = resolveCircuitBreakerOptions(options);
  const makePolicy = policyFactory(o.trip);
  const openMs = o.openMs;
  const probes = o.halfOpenProbes;
  const closeAfter = o.closeAfter;
  // Function defaults live here: a schema default is data.
  const isFailure = o.isFailure ?? isRetryable;
  const keyOf = o.key ?? ((inv: Invocation) => inv.service.name);
  const clock = o.clock ?? now;
  const listeners = new Set<(c: StateChange) => void>();
  if (o.onStateChange !== undefined) listeners.add(o.onStateChange);
  const circuits = new Map<string, Circuit>();

  const circuitOf = (key: string): Circuit => {
    let c = circuits.get(key);
    if (c === undefined) {
      c = { key, state: 'closed', policy: makePolicy(), openUntil: 0, probes: 0, successes: 0, generation: 0 };
      circuits.set(key, c);
    }
    return c;
  };

  const move = (c: Circuit, to: CircuitState, at: number): void => {
    const from = c.state;
    c.state = to;
    c.generation++;
    c.probes = 0;
    c.successes = 0;
    if (to === 'open') c.openUntil = at + openMs;
    if (to === 'closed') c.policy.reset();
    const change = { key: c.key, from, to, at };
    for (const l of listeners) {
      try {
        l(change);
      } catch {
        // A listener's fault must not change the breaker's decision.
      }
    }
  };

  /** Open circuits become half-open once their time is up. */
  const refresh = (c: Circuit, at: number): void => {
    if (c.state === 'open' && at >= c.openUntil) move(c, 'half-open', at);
  };

  const admit = (inv: Invocation): Ticket | CircuitOpenError => {
    const c = circuitOf(keyOf(inv));
    if (c.state === 'closed') return { circuit: c, generation: c.generation, probe: false };
    const at = clock();
    refresh(c, at);
    if (c.state === 'open') return new CircuitOpenError(c.key, c.openUntil - at, { context: { state: 'open' } });
    if (c.probes >= probes) return new CircuitOpenError(c.key, 0, { context: { state: 'half-open', probesInFlight: c.probes } });
    c.probes++;
    return { circuit: c, generation: c.generation, probe: true };
  };

  const succeeded = (t: Ticket): void => {
    const c = t.circuit;
    if (c.generation !== t.generation) return;
    if (!t.probe) c.policy.success(clock());
    else {
      c.probes--;
      if (++c.successes >= closeAfter) move(c, 'closed', clock());
    }
  };

  const failed = (t: Ticket, err: unknown): void => {
    const c = t.circuit;
    if (c.generation !== t.generation) return;
    if (!isFailure(err)) {
      if (t.probe) c.probes--;
      return;
    }
    const at = clock();
    if (t.probe || c.policy.failure(at)) move(c, 'open', at);
  };

  const released = (t: Ticket): void => {
    if (t.probe && t.circuit.generation === t.generation) t.circuit.probes--;
  };

  const breaker: CircuitBreakerMiddleware = {
    name: 'circuitBreaker',

    call(inv: Invocation, next: CallNext): Promise<unknown> {
      const t = admit(inv);
      if (t instanceof CircuitOpenError) return Promise.reject(t);
      return callNext(next, inv).then(
        (v) => {
          succeeded(t);
          return v;
        },
        (err: unknown) => {
          failed(t, err);
          throw err;
        },
      );
    },

    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      const t = admit(inv);
      if (t instanceof CircuitOpenError) return failing(t);
      return tapStream(streamNext(next, inv), {
        end: () => succeeded(t),
        error: (err) => failed(t, err),
        cancel: () => released(t),
      });
    },

    state(key: string): CircuitState {
      const c = circuits.get(key);
      if (c === undefined) return 'closed';
      refresh(c, clock());
      return c.state;
    },

    states(): Record<string, CircuitState> {
      const out: Record<string, CircuitState> = {};
      for (const key of circuits.keys()) out[key] = breaker.state(key);
      return out;
    },

    on(_event: 'stateChange', listener: (change: StateChange) => void) {
      listeners.add(listener);
      return breaker;
    },

    off(_event: 'stateChange', listener: (change: StateChange) => void) {
      listeners.delete(listener);
      return breaker;
    },
  };
  return breaker;
}

/** The trip option (already checked against its schema) as a policy factory. */
function policyFactory(trip: NonNullable<CircuitBreakerOptions['trip']>): () => TripPolicy {
  if (typeof trip === 'function') return trip;
  if ('consecutive' in trip) return () => new ConsecutiveFailures(trip.consecutive);
  return () => new FailureRatio(trip);
}
