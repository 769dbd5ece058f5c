import test from 'ava';
import { observeStream, tapStream } from '../../src/middleware/observe-stream.js';
import { chunks, collect } from '../helpers/middleware-fakes.js';

// The two stream pass-throughs the middleware are built on (internal: src/middleware/observe-stream.ts).

/** A hand-driven producer: records its calls; `next` serves `items`, then done, or fails with `error`. */
function producer(items: unknown[], opts: { error?: unknown; returnFails?: boolean; throwOnOpen?: unknown } = {}) {
  const log: string[] = [];
  const results: Promise<IteratorResult<unknown>>[] = [];
  let i = 0;
  const source = {
    [Symbol.asyncIterator]: () => {
      if (opts.throwOnOpen !== undefined) throw opts.throwOnOpen;
      return {
        next: () => {
          log.push('next');
          const p = i < items.length ? Promise.resolve({ done: false, value: items[i++] }) : opts.error !== undefined ? Promise.reject(opts.error) : Promise.resolve({ done: true as const, value: undefined });
          results.push(p);
          return p;
        },
        return: (v?: unknown) => {
          log.push(`return:${String(v)}`);
          return opts.returnFails === true ? Promise.reject(new Error('return failed')) : Promise.resolve({ done: true as const, value: v });
        },
      };
    },
  };
  return { source, log, results };
}

function recorder() {
  const heard: string[] = [];
  return {
    heard,
    observer: {
      chunk: (v: unknown) => `${String(v)}!`,
      end: () => { heard.push('end'); },
      error: (e: unknown) => {
        heard.push('error');
        return new Error(`mapped ${(e as Error).message}`);
      },
      cancel: () => { heard.push('cancel'); },
    },
  };
}

test('observeStream: maps each chunk (sync or async), ends once, and asks nothing of a finished producer', async (t) => {
  const p = producer(['a', 'b']);
  const r = recorder();
  const it = observeStream(p.source, r.observer)[Symbol.asyncIterator]();
  t.deepEqual(await it.next(), { done: false, value: 'a!' });
  t.deepEqual(await it.next(), { done: false, value: 'b!' });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(r.heard, ['end']);
  t.deepEqual(p.log, ['next', 'next', 'next']);
  t.deepEqual(await it.return!('late'), { done: true, value: 'late' });
  t.deepEqual(r.heard, ['end'], 'no cancel after the end');
  t.deepEqual(await collect(observeStream(chunks([1, 2]), { chunk: async (v) => (v as number) * 10 })), [10, 20]);
  t.deepEqual(await collect(observeStream(chunks([1, 2]), {})), [1, 2]);
});

test('observeStream: an async end is awaited before the consumer hears of it', async (t) => {
  const order: string[] = [];
  let release!: () => void;
  const it = observeStream(chunks([]), { end: () => new Promise<void>((r) => (release = () => { order.push('end done'); r(); })) })[Symbol.asyncIterator]();
  const done = it.next().then((x) => { order.push('consumer'); return x; });
  await new Promise((r) => setImmediate(r));
  t.deepEqual(order, []);
  release();
  t.deepEqual(await done, { done: true, value: undefined });
  t.deepEqual(order, ['end done', 'consumer']);
});

test('observeStream: a failure is replaced by what error() returns (or resolves); without error() it passes as is; once only', async (t) => {
  const p = producer(['a'], { error: new Error('cut') });
  const r = recorder();
  const it = observeStream(p.source, r.observer)[Symbol.asyncIterator]();
  t.deepEqual(await it.next(), { done: false, value: 'a!' });
  await t.throwsAsync(it.next(), { message: 'mapped cut' });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(r.heard, ['error']);
  await t.throwsAsync(collect(observeStream(chunks([], new Error('cut')), { error: async (e) => new Error(`async ${(e as Error).message}`) })), { message: 'async cut' });
  const plain = new Error('plain');
  await t.throwsAsync(collect(observeStream(chunks([], plain), {})), { is: plain });
  // A producer that cannot even be opened fails the first next() the same way.
  const r2 = recorder();
  await t.throwsAsync(collect(observeStream(producer([], { throwOnOpen: new Error('open') }).source, r2.observer)), { message: 'mapped open' });
  t.deepEqual(r2.heard, ['error']);
});

test('observeStream: return() cancels once, passes its value, and closes the producer even when that fails', async (t) => {
  const p = producer(['a', 'b'], { returnFails: true });
  const r = recorder();
  const it = observeStream(p.source, r.observer)[Symbol.asyncIterator]();
  await it.next();
  t.deepEqual(await it.return!('v'), { done: true, value: 'v' });
  t.deepEqual(await it.return!('w'), { done: true, value: 'w' });
  t.deepEqual(r.heard, ['cancel']);
  t.deepEqual(p.log, ['next', 'return:v', 'return:w']);
  t.deepEqual(await it.next(), { done: true, value: undefined });
  const fresh = observeStream(producer([]).source, r.observer)[Symbol.asyncIterator]();
  t.deepEqual(await fresh.return!('u'), { done: true, value: 'u' });
});

test('tapStream: the consumer gets the producer\'s own promises; the tap hears each chunk and one ending', async (t) => {
  const p = producer(['a', 'b']);
  const heard: unknown[] = [];
  const it = tapStream(p.source, { chunk: (v) => heard.push(v), end: () => heard.push('end'), error: () => heard.push('error'), cancel: () => heard.push('cancel') })[Symbol.asyncIterator]();
  const first = it.next();
  t.is(first, p.results[0]!);
  await first;
  t.deepEqual(heard, ['a'], 'heard before the consumer resumed');
  await it.next();
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(heard, ['a', 'b', 'end']);
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(await it.return!('x'), { done: true, value: 'x' });
  t.deepEqual(heard, ['a', 'b', 'end']);
  t.deepEqual(p.log, ['next', 'next', 'next', 'return:x']);
});

test('tapStream: a failure or an early return is heard once; a faulty tap changes nothing', async (t) => {
  const heard: string[] = [];
  const tap = { chunk: () => { throw new Error('tap'); }, end: () => heard.push('end'), error: () => { heard.push('error'); throw new Error('tap'); }, cancel: () => heard.push('cancel') };
  const cut = new Error('cut');
  const it = tapStream(chunks(['a'], cut), tap)[Symbol.asyncIterator]();
  t.deepEqual(await it.next(), { done: false, value: 'a' });
  await t.throwsAsync(it.next(), { is: cut });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  await it.return!();
  t.deepEqual(heard, ['error']);
  heard.length = 0;
  const p = producer(['a', 'b'], { returnFails: true });
  const it2 = tapStream(p.source, tap)[Symbol.asyncIterator]();
  await it2.next();
  t.deepEqual(await it2.return!('v'), { done: true, value: 'v' });
  await it2.return!('w');
  t.deepEqual(heard, ['cancel']);
  t.deepEqual(await it2.next(), { done: true, value: undefined });
  const open = new Error('open');
  const it3 = tapStream(producer([], { throwOnOpen: open }).source, tap)[Symbol.asyncIterator]();
  await t.throwsAsync(it3.next(), { is: open });
  t.deepEqual(heard, ['cancel', 'error']);
  t.deepEqual(await tapStream(producer([]).source, {})[Symbol.asyncIterator]().return!('u'), { done: true, value: 'u' });
  t.deepEqual(await collect(tapStream(chunks([1, 2]), {})), [1, 2]);
});

test('both: an observer or tap without cancel, and a producer without return(), still end cleanly on return()', async (t) => {
  const bare = () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: false, value: 1 }) }) });
  for (const wrap of [(s: AsyncIterable<unknown>) => observeStream(s, {}), (s: AsyncIterable<unknown>) => tapStream(s, {})]) {
    const it = wrap(bare())[Symbol.asyncIterator]();
    await it.next();
    t.deepEqual(await it.return!('v'), { done: true, value: 'v' });
  }
});

test('tapStream: once the consumer has left, a late outcome of a pending next() is not heard', async (t) => {
  for (const late of ['chunk', 'error'] as const) {
    let settle!: (r: IteratorResult<unknown>) => void;
    let fail!: (e: unknown) => void;
    const pending = { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<unknown>>((res, rej) => ((settle = res), (fail = rej))) }) };
    const heard: string[] = [];
    const it = tapStream(pending, { chunk: () => heard.push('chunk'), end: () => heard.push('end'), error: () => heard.push('error'), cancel: () => heard.push('cancel') })[Symbol.asyncIterator]();
    const p = it.next();
    p.catch(() => {});
    await it.return!();
    if (late === 'chunk') settle({ done: false, value: 1 });
    else fail(new Error('late'));
    await p.catch(() => {});
    t.deepEqual(heard, ['cancel'], late);
  }
});
