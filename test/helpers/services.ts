import { defineService, type Service } from '../../src/index.js';

/** Resolves with its request at once. */
export const echo: Service<unknown, unknown> = defineService({ name: 'echo', handler: { call: (req: unknown) => req } });

/** A deferred call the test resolves or rejects by hand; records the signal it was given. */
export interface Gate {
  service: Service<{ id: number }, unknown>;
  started: number[];
  signals: Map<number, AbortSignal>;
  resolve(id: number, value?: unknown): void;
  reject(id: number, err: unknown): void;
}

export function gate(name = 'gate'): Gate {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const g: Gate = {
    started: [],
    signals: new Map(),
    resolve: (id, value = id) => pending.get(id)?.resolve(value),
    reject: (id, err) => pending.get(id)?.reject(err),
    service: defineService<{ id: number }, unknown>({
      name,
      handler: {
        call: ({ id }, _ctx, signal) =>
          new Promise((resolve, reject) => {
            g.started.push(id);
            g.signals.set(id, signal);
            pending.set(id, { resolve, reject });
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          }),
      },
    }),
  };
  return g;
}

/** Resolves after `ms` unless aborted. */
export const sleeper: Service<{ ms: number }, string> = defineService({
  name: 'sleeper',
  handler: {
    call: ({ ms }: { ms: number }, _ctx, signal) =>
      new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => resolve('slept'), ms);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(signal.reason);
        }, { once: true });
      }),
  },
});

/** The most admissions inside any rolling window of `windowMs` (times sorted ascending). */
export function maxInWindow(times: readonly number[], windowMs: number, weights?: readonly number[]): number {
  let worst = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    sum += weights ? weights[i]! : 1;
    while (times[i]! - times[j]! >= windowMs) sum -= weights ? weights[j++]! : (j++, 1);
    worst = Math.max(worst, sum);
  }
  return worst;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** Fails (retryably) on its first `failures` attempts, then answers the attempt number. */
export function flaky(failures: number): { service: Service<unknown, number>; attempts: () => number } {
  let attempts = 0;
  const service = defineService<unknown, number>({
    name: 'flaky',
    handler: {
      call: () => {
        attempts++;
        if (attempts <= failures) throw Object.assign(new Error(`attempt ${attempts} failed`), { retryable: true });
        return attempts;
      },
    },
  });
  return { service, attempts: () => attempts };
}
