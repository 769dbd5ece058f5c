import { CallContext, ServiceCall, defineService, type Invocation, type Service } from '../../src/index.js';

export const fakeService: Service = defineService({ name: 'svc', handler: { call: (r: unknown) => r } });

/** An invocation as the executor would build it, for driving one middleware over a fake `next`. */
export function fakeInv(over: Partial<Omit<Invocation, 'service'>> & { service?: object } = {}): Invocation {
  const ctx = over.ctx ?? CallContext.new('test');
  const service = (over.service ?? fakeService) as Service;
  return {
    kind: 'call',
    request: { text: 'hi' },
    signal: new AbortController().signal,
    call: new ServiceCall(service.name, ctx, 0),
    attempt: 1,
    ...over,
    ctx,
    service,
  };
}

/** A clock the test moves by hand. */
export class ManualClock {
  t = 0;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A sleep that records each wait and moves the manual clock instead of waiting. */
export function fakeSleep(clock: ManualClock): { sleep: (ms: number, signal: AbortSignal) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms, signal) => {
      if (signal.aborted) return Promise.reject(signal.reason);
      waits.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
  };
}

/** An async iterable over `items`, failing with `error` after them when given. */
export async function* chunks(items: readonly unknown[], error?: unknown): AsyncGenerator<unknown> {
  for (const c of items) yield c;
  if (error !== undefined) throw error;
}

export async function collect(source: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of source) out.push(c);
  return out;
}
