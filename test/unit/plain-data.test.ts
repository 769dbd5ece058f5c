import test from 'ava';
import { classInstanceIn } from '../../src/pool/plain-data.js';

class Account {
  #balance = 1;
  get balance(): number {
    return this.#balance;
  }
}

test('plain data, cycles and the built-ins structured clone keeps pass', (t) => {
  const cyclic: { a: unknown[]; self?: unknown } = { a: [1, { b: 'x' }] };
  cyclic.self = cyclic;
  cyclic.a.push(cyclic);
  const shared = { s: 1 };
  for (const v of [null, 1, 'x', {}, [], cyclic, [shared, shared], { d: new Date(), r: /x/, m: new Map([[{ k: 1 }, [1]]]), s: new Set([{}]), e: new Error('e'), u: new Uint8Array(2), n: Object.create(null) }]) {
    t.is(classInstanceIn(v), undefined);
  }
});

test('a class instance is found at its path, in objects, arrays, Map keys and values, Sets and null-prototype objects', (t) => {
  t.deepEqual(classInstanceIn(new Account()), { path: '', name: 'Account' });
  t.deepEqual(classInstanceIn({ items: [{}, new Account()] }), { path: '/items/1', name: 'Account' });
  t.deepEqual(classInstanceIn({ m: new Map<unknown, unknown>([['a', 1], [new Account(), 2]]) }), { path: '/m/1/key', name: 'Account' });
  t.deepEqual(classInstanceIn({ m: new Map([['a', { deep: [new Account()] }]]) }), { path: '/m/0/value/deep/0', name: 'Account' });
  t.deepEqual(classInstanceIn([new Set([1, new Account()])]), { path: '/0/1', name: 'Account' });
  const bare = Object.create(null) as { x?: unknown };
  bare.x = { y: Object.create({ inherited: true }) as object };
  t.deepEqual(classInstanceIn(bare), { path: '/x/y', name: 'Object' });
});

test('a cycle next to a class instance still finds it, and a later check starts clean', (t) => {
  const a: { loop?: unknown; z?: Account } = {};
  a.loop = a;
  a.z = new Account();
  t.deepEqual(classInstanceIn(a), { path: '/z', name: 'Account' });
  // Nothing of the first walk is left to make the second skip `a` as already seen.
  t.deepEqual(classInstanceIn([a]), { path: '/0/z', name: 'Account' });
});
