import test from 'ava';
import { CallContext, Executor, defineService, type Middleware } from '../../src/index.js';
import { deferred } from '../helpers/scripted-limiter.js';

// The iterable `executor.stream()` returns: next/return/throw at every stage, each settling the
// call once, with the error the caller should see.

interface Probe {
  producerReturned: number;
}

function counting(probe: Probe, chunks: unknown[], fail?: Error) {
  return defineService<unknown, unknown, unknown>({
    name: 'counted',
    handler: {
      async *stream() {
        try {
          for (const c of chunks) yield c;
          if (fail) throw fail;
        } finally {
          probe.producerReturned++;
        }
      },
    },
  });
}

/** A producer that yields once, then waits for its signal: it fails when aborted, or ends quietly. */
function firstThenAbort(name: string, ends: 'fails' | 'quietly') {
  return defineService<unknown, unknown, unknown>({
    name,
    handler: {
      async *stream(_r: unknown, _c: unknown, signal: AbortSignal) {
        yield 'first';
        await new Promise<void>((resolve, reject) =>
          signal.addEventListener('abort', () => (ends === 'fails' ? reject(new Error('producer aborted')) : resolve()), { once: true }),
        );
      },
    },
  });
}

function inline(t: { teardown(fn: () => unknown): void }, middleware: Middleware[] = []): Executor {
  const ex = new Executor({ pool: { kind: 'inline' }, middleware });
  t.teardown(() => ex.close({ drain: false }));
  return ex;
}

test('after the last chunk every next() says done, with no value, and the call completed once', async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = inline(t);
  let settled = 0;
  ex.on('settled', () => settled++);
  const s = ex.stream(counting(probe, ['a', 'b']), 1);
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  t.deepEqual(await s.next(), { done: false, value: 'b' });
  t.deepEqual(await s.next(), { done: true, value: undefined });
  t.deepEqual(await s.next(), { done: true, value: undefined });
  t.deepEqual(await s.next(), { done: true, value: undefined });
  t.is(s.call.status, 'COMPLETED');
  t.is(settled, 1);
  t.is(ex.stats().completed, 1);
});

test('a failing producer: next() throws the error once, then says done; the call failed once', async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = inline(t);
  const s = ex.stream(counting(probe, ['a'], Object.assign(new Error('producer broke'), { code: 'E_HANDLER' })), 1);
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  const err = await t.throwsAsync(s.next());
  t.regex(err!.message, /producer broke/);
  t.is(err, s.call.error as Error, 'the call\'s own error');
  t.deepEqual(await s.next(), { done: true, value: undefined });
  t.is(s.call.status, 'FAILED');
  t.is(ex.stats().failed, 1);
  t.is(ex.stats().accepted, 1);
});

test("a stream whose deadline passes mid-stream throws the call's E_DEADLINE, not the abort the producer saw", async (t) => {
  const slow = firstThenAbort('slow', 'fails');
  const ex = inline(t);
  const s = ex.stream(slow, 1, CallContext.withTimeout('d', 60));
  t.deepEqual(await s.next(), { done: false, value: 'first' });
  const err = await t.throwsAsync(s.next());
  t.is((err as { code?: string }).code, 'E_DEADLINE');
  t.is(s.call.status, 'FAILED');
});

test("return() cancels the call once (the consumer stopped), closes the producer, answers done; later next() and return() are done too", async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = inline(t);
  let settled = 0;
  ex.on('settled', () => settled++);
  const s = ex.stream(counting(probe, ['a', 'b', 'c']), 1);
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  t.deepEqual(await s.return(), { done: true, value: undefined });
  t.is(s.call.status, 'CANCELLED');
  t.regex((s.call.error as Error).message, /the consumer stopped iterating/);
  await new Promise((r) => setImmediate(r));
  t.is(probe.producerReturned, 1, "the producer's finally ran");
  t.deepEqual(await s.return(), { done: true, value: undefined });
  t.deepEqual(await s.next(), { done: true, value: undefined });
  t.is(settled, 1);
  t.is(ex.stats().cancelled, 1);
});

test('break in for-await cancels the call and frees its slot at once', async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = inline(t);
  const s = ex.stream(counting(probe, ['a', 'b', 'c']), 1);
  for await (const c of s) {
    t.is(c, 'a');
    break;
  }
  t.is(s.call.status, 'CANCELLED');
  t.is(ex.running, 0);
});

test('throw(err) cancels the call with that reason and rethrows it; throw() with nothing says the consumer threw; once only', async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = inline(t);
  const s = ex.stream(counting(probe, ['a', 'b']), 1);
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  const mine = new Error('consumer gave up');
  t.is(await t.throwsAsync(s.throw(mine)), mine);
  t.is(s.call.status, 'CANCELLED');
  t.regex((s.call.error as Error).message, /consumer gave up/);
  await new Promise((r) => setImmediate(r));
  t.is(probe.producerReturned, 1);
  const again = new Error('again');
  t.is(await t.throwsAsync(s.throw(again)), again, 'rethrown, nothing else');
  t.regex((s.call.error as Error).message, /consumer gave up/, 'the first reason stays');
  t.deepEqual(await s.next(), { done: true, value: undefined });

  const quiet = ex.stream(counting(probe, ['a']), 1);
  t.deepEqual(await quiet.next(), { done: false, value: 'a' });
  t.is(await quiet.throw().then(() => 'resolved', (e: unknown) => e), undefined, 'rejects with what it was given: nothing');
  t.regex((quiet.call.error as Error).message, /the consumer threw/);
  t.is(ex.stats().cancelled, 2);
});

test('return() or throw() before admission cancel the queued stream: it never starts and leaves the queue', async (t) => {
  const probe: Probe = { producerReturned: 0 };
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 1 });
  t.teardown(() => ex.close({ drain: false }));
  const hold = deferred<void>();
  const blocker = defineService({ name: 'blocker', handler: { call: () => hold.promise } });
  const running = ex.call(blocker, 1);
  const a = ex.stream(counting(probe, ['x']), 1);
  const b = ex.stream(counting(probe, ['y']), 1);
  t.is(ex.queued, 2);
  t.deepEqual(await a.return(), { done: true, value: undefined });
  await t.throwsAsync(b.throw(new Error('no thanks')), { message: 'no thanks' });
  t.is(ex.queued, 0);
  t.is(a.call.status, 'CANCELLED');
  t.is(b.call.status, 'CANCELLED');
  hold.resolve();
  await running;
  t.is(probe.producerReturned, 0, 'neither producer ever ran');
});

test("middleware sees each invocation's kind: 'stream' for streams, 'call' for calls", async (t) => {
  const kinds: string[] = [];
  const spy: Middleware = {
    name: 'spy',
    call: (inv, next) => (kinds.push(inv.kind), next(inv)),
    stream: (inv, next) => (kinds.push(inv.kind), next(inv)),
  };
  const ex = inline(t, [spy]);
  const probe: Probe = { producerReturned: 0 };
  for await (const _ of ex.stream(counting(probe, ['a']), 1)) void _;
  const echo = defineService({ name: 'echo', handler: { call: (r: unknown) => r } });
  await ex.call(echo, 1);
  t.deepEqual(kinds, ['stream', 'call']);
});

test('a producer that ends quietly after its deadline passed: iteration throws E_DEADLINE, it does not look complete', async (t) => {
  const quiet = firstThenAbort('quiet', 'quietly');
  const ex = inline(t);
  const s = ex.stream(quiet, 1, CallContext.withTimeout('d', 60));
  t.deepEqual(await s.next(), { done: false, value: 'first' });
  await t.throwsAsync(s.next(), { code: 'E_DEADLINE' });
  t.is(s.call.status, 'FAILED');
});

test("a middleware that fails its own way after the caller aborted: the caller sees the call's E_CANCELLED", async (t) => {
  const own: Middleware = {
    name: 'own-error',
    async *stream(inv, next) {
      for await (const c of next(inv)) {
        yield c;
        await new Promise((resolve) => inv.signal.addEventListener('abort', resolve, { once: true }));
        throw new Error('the middleware saw the abort');
      }
    },
  };
  const ex = inline(t, [own]);
  const ac = new AbortController();
  const probe: Probe = { producerReturned: 0 };
  const s = ex.stream(counting(probe, ['a', 'b']), 1, CallContext.new('c'), { signal: ac.signal });
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  const pending = s.next();
  ac.abort();
  await t.throwsAsync(pending, { code: 'E_CANCELLED' });
});

test('a middleware whose iterator has no return(), or a return() that answers synchronously: leaving early still cancels cleanly', async (t) => {
  const bare = (withReturn: boolean): Middleware => ({
    name: 'bare-iterator',
    stream(inv, next) {
      const inner = next(inv)[Symbol.asyncIterator]();
      const it: AsyncIterator<unknown> = { next: () => inner.next() };
      if (withReturn) it.return = (() => ({ done: true, value: undefined })) as unknown as AsyncIterator<unknown>['return'];
      return { [Symbol.asyncIterator]: () => it };
    },
  });
  for (const withReturn of [false, true]) {
    const ex = inline(t, [bare(withReturn)]);
    const probe: Probe = { producerReturned: 0 };
    const a = ex.stream(counting(probe, ['a', 'b']), 1);
    t.deepEqual(await a.next(), { done: false, value: 'a' });
    t.deepEqual(await a.return(), { done: true, value: undefined });
    t.is(a.call.status, 'CANCELLED');
    const b = ex.stream(counting(probe, ['a', 'b']), 1);
    t.deepEqual(await b.next(), { done: false, value: 'a' });
    const mine = new Error('stop');
    t.is(await t.throwsAsync(b.throw(mine)), mine);
    t.is(b.call.status, 'CANCELLED');
  }
});

test("a middleware iterator whose return() throws: return() and throw() still settle the call as cancelled", async (t) => {
  const throwing: Middleware = {
    name: 'throwing-return',
    stream(inv, next) {
      const inner = next(inv)[Symbol.asyncIterator]();
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => inner.next(),
          return: () => {
            throw new Error('return() broke');
          },
        }),
      };
    },
  };
  const ex = inline(t, [throwing]);
  const probe: Probe = { producerReturned: 0 };
  const s = ex.stream(counting(probe, ['a', 'b']), 1);
  t.deepEqual(await s.next(), { done: false, value: 'a' });
  t.deepEqual(await s.return(), { done: true, value: undefined });
  t.is(s.call.status, 'CANCELLED');
});

test('a middleware that swallows the failure and ends the stream quietly after the deadline: iteration still throws E_DEADLINE', async (t) => {
  const swallow: Middleware = {
    name: 'swallow',
    async *stream(inv, next) {
      try {
        yield* next(inv);
      } catch {
        // Ends the stream as if it had finished.
      }
    },
  };
  const slow = firstThenAbort('slow-quiet', 'fails');
  const ex = inline(t, [swallow]);
  const s = ex.stream(slow, 1, CallContext.withTimeout('d', 60));
  t.deepEqual(await s.next(), { done: false, value: 'first' });
  await t.throwsAsync(s.next(), { code: 'E_DEADLINE' });
});
