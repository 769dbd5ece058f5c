import test from 'ava';
import { compose, type Invocation, type Middleware } from '../../src/index.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

/** A middleware that logs its entry and exit on both sides, and checks `this`. */
function logging(name: string, log: string[], sides: { call?: boolean; stream?: boolean } = { call: true, stream: true }): Middleware {
  const mw: Middleware = { name };
  if (sides.call === true) {
    (mw as { call: Middleware['call'] }).call = async function (this: Middleware, inv, next) {
      log.push(`${name}>${this === mw ? '' : '!this'}`);
      const v = await next(inv);
      log.push(`<${name}`);
      return `${name}(${String(v)})`;
    };
  }
  if (sides.stream === true) {
    (mw as { stream: Middleware['stream'] }).stream = async function* (this: Middleware, inv, next) {
      log.push(`${name}>${this === mw ? '' : '!this'}`);
      for await (const c of next(inv)) yield `${name}(${String(c)})`;
      log.push(`<${name}`);
    };
  }
  return mw;
}

const terminal = (log: string[]) => ({
  call: async (inv: Invocation) => {
    log.push('run');
    return inv.request;
  },
  stream: (inv: Invocation) => {
    log.push('run');
    return chunks([inv.request]);
  },
});

test('compose: the first middleware listed is the outermost, on calls and on streams, each called as a method of its middleware', async (t) => {
  const log: string[] = [];
  const chain = compose([logging('a', log), logging('b', log), logging('c', log)], terminal(log));
  t.is(await chain.call(fakeInv({ request: 'x' })), 'a(b(c(x)))');
  t.deepEqual(log, ['a>', 'b>', 'c>', 'run', '<c', '<b', '<a']);
  log.length = 0;
  t.deepEqual(await collect(chain.stream(fakeInv({ kind: 'stream', request: 'y' }))), ['a(b(c(y)))']);
  t.deepEqual(log, ['a>', 'b>', 'c>', 'run', '<c', '<b', '<a']);
});

test('compose: a middleware without a call (or stream) side is skipped for that kind only; none at all is the terminal itself', async (t) => {
  const log: string[] = [];
  const end = terminal(log);
  const chain = compose([logging('calls', log, { call: true }), logging('streams', log, { stream: true }), { name: 'neither' }], end);
  t.is(await chain.call(fakeInv({ request: 'x' })), 'calls(x)');
  t.deepEqual(log, ['calls>', 'run', '<calls']);
  log.length = 0;
  t.deepEqual(await collect(chain.stream(fakeInv({ kind: 'stream', request: 'y' }))), ['streams(y)']);
  t.deepEqual(log, ['streams>', 'run', '<streams']);
  const bare = compose([{ name: 'neither' }], end);
  t.is(bare.call, end.call);
  t.is(bare.stream, end.stream);
  const one = compose([logging('only', log)], end);
  t.not(one.call, end.call);
  t.not(one.stream, end.stream);
});
