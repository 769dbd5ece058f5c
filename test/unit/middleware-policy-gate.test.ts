import test from 'ava';
import { CallContext, PolicyError, defineService } from '../../src/index.js';
import { policyGate, REQUIRES_ATTR } from '../../src/middleware/policy-gate.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

const fetcher = defineService<{ url: string }>({
  name: 'fetcher',
  handler: { call: (r) => r },
  requires: ['net.out'],
  rights: (r) => [`net.out:${new URL(r.url).host}`],
});

const ctxWith = (capabilities: string[], attrs: Record<string, unknown> = {}) => CallContext.new('b', { capabilities, attrs });

test('policyGate: required = requires ∪ rights(request); granted wildcards cover them; the call runs', async (t) => {
  const gate = policyGate();
  let ran = 0;
  const next = async () => ++ran;
  const inv = fakeInv({ service: fetcher, request: { url: 'https://api.example.com/v1' }, ctx: ctxWith(['net.out', 'net.out:*']) });
  t.is(await gate.call!(inv, next), 1);
  t.is(ran, 1);
});

test('policyGate: a denial is a PolicyError listing required, granted and missing; nothing runs', async (t) => {
  const gate = policyGate();
  let ran = 0;
  const inv = fakeInv({ service: fetcher, request: { url: 'https://evil.io/x' }, ctx: ctxWith(['net.out', 'net.out:api.example.com']) });
  const err = await t.throwsAsync(gate.call!(inv, async () => ++ran), { instanceOf: PolicyError });
  t.is(err!.code, 'E_POLICY');
  t.deepEqual(err!.required, ['net.out', 'net.out:evil.io']);
  t.deepEqual(err!.granted, ['net.out', 'net.out:api.example.com']);
  t.deepEqual(err!.missing, ['net.out:evil.io']);
  t.is(ran, 0);
});

test(`policyGate: ctx.attrs.${REQUIRES_ATTR} adds requirements and can never remove one`, async (t) => {
  const gate = policyGate();
  const next = async () => 'ran';
  const svc = defineService({ name: 's', handler: { call: () => 1 }, requires: ['db.read'] });
  // Adds one that is not granted: denied.
  const extra = fakeInv({ service: svc, ctx: ctxWith(['db.read'], { [REQUIRES_ATTR]: ['db.write'] }) });
  const err = await t.throwsAsync(gate.call!(extra, next), { instanceOf: PolicyError });
  t.deepEqual(err!.missing, ['db.write']);
  // An empty list removes nothing: db.read is still required.
  const none = fakeInv({ service: svc, ctx: ctxWith([], { [REQUIRES_ATTR]: [] }) });
  t.deepEqual((await t.throwsAsync(gate.call!(none, next), { instanceOf: PolicyError }))!.missing, ['db.read']);
  // A custom source of extras works the same way.
  const custom = policyGate({ extra: (inv) => (inv.request as { needs?: string[] }).needs });
  await t.throwsAsync(custom.call!(fakeInv({ service: svc, request: { needs: ['x.y'] }, ctx: ctxWith(['db.*']) }), next), { code: 'E_POLICY' });
  t.is(await custom.call!(fakeInv({ service: svc, request: { needs: ['db.x'] }, ctx: ctxWith(['db.*']) }), next), 'ran');
});

test('policyGate fails closed: throwing rights, malformed extras or grants are denials', async (t) => {
  const gate = policyGate();
  const next = async () => 'ran';
  const throwing = defineService({ name: 'th', handler: { call: () => 1 }, rights: () => { throw new Error('boom'); } });
  const e1 = await t.throwsAsync(gate.call!(fakeInv({ service: throwing, ctx: ctxWith(['*']) }), next), { instanceOf: PolicyError });
  t.true(e1!.cause instanceof Error);
  await t.throwsAsync(gate.call!(fakeInv({ ctx: ctxWith(['*'], { [REQUIRES_ATTR]: 'net.out' }) }), next), { code: 'E_POLICY' });
  await t.throwsAsync(gate.call!(fakeInv({ ctx: ctxWith(['*'], { [REQUIRES_ATTR]: [42] }) }), next), { code: 'E_POLICY' });
  const badRights = defineService({ name: 'br', handler: { call: () => 1 }, rights: () => 'net.out' as never });
  await t.throwsAsync(gate.call!(fakeInv({ service: badRights, ctx: ctxWith(['*']) }), next), { code: 'E_POLICY' });
  const badGrants = policyGate({ granted: () => { throw new Error('store down'); } });
  await t.throwsAsync(badGrants.call!(fakeInv(), next), { code: 'E_POLICY' });
  // A required wildcard is a malformed requirement: never satisfied, even by `*`.
  await t.throwsAsync(gate.call!(fakeInv({ ctx: ctxWith(['*'], { [REQUIRES_ATTR]: ['net.out:*'] }) }), next), { code: 'E_POLICY', message: /net\.out:\*/ });
});

test('policyGate guards streams before their first chunk', async (t) => {
  const gate = policyGate();
  let started = 0;
  const next = () => { started++; return chunks([1, 2]); };
  const denied = fakeInv({ kind: 'stream', service: fetcher, request: { url: 'https://evil.io' }, ctx: ctxWith(['net.out']) });
  await t.throwsAsync(collect(gate.stream!(denied, next)), { code: 'E_POLICY' });
  t.is(started, 0);
  const ok = fakeInv({ kind: 'stream', service: fetcher, request: { url: 'https://evil.io' }, ctx: ctxWith(['net.*']) });
  t.deepEqual(await collect(gate.stream!(ok, next)), [1, 2]);
});

test('policyGate: grants compiled once per list content still decide per list, never across look-alike lists', async (t) => {
  const svc = defineService({ name: 's', handler: { call: () => 1 }, requires: ['a.b'] });
  const next = async () => 'ran';
  // A fresh context (and array) per call, as most callers make them.
  for (let i = 0; i < 3; i++) {
    t.is(await policyGate().call!(fakeInv({ service: svc, request: {}, ctx: ctxWith(['a.*']) }), next), 'ran');
    await t.throwsAsync(policyGate().call!(fakeInv({ service: svc, request: {}, ctx: ctxWith(['a.c']) }), next), { instanceOf: PolicyError });
  }
  // Lists that would join to the same text must not share a compiled set.
  const gate = policyGate({ granted: (inv) => inv.ctx.attrs['g'] as string[] });
  const inv = (g: unknown[]) => fakeInv({ service: svc, request: {}, ctx: ctxWith([], { g }) });
  t.is(await gate.call!(inv(['a.b']), next), 'ran');
  await t.throwsAsync(gate.call!(inv(['a.b\nx']), next), { instanceOf: PolicyError });
  await t.throwsAsync(gate.call!(inv([{ toString: () => 'a.b' }]), next), { instanceOf: PolicyError });
  t.is(await gate.call!(inv(['x', 'a.b']), next), 'ran');
});

test('policyGate: what a denial names (service, cause, empty lists when nothing could be read), and its own name', async (t) => {
  const gate = policyGate();
  t.is(gate.name, 'policyGate');
  t.is(REQUIRES_ATTR, 'requires');
  const denied = await t.throwsAsync(gate.call!(fakeInv({ service: fetcher, request: { url: 'https://evil.io/' }, ctx: ctxWith(['net.out']) }), async () => 1), { instanceOf: PolicyError });
  t.like(denied!.context, { service: 'fetcher' });
  const reasons: [string, Parameters<typeof policyGate>[0], unknown, unknown][] = [
    ['granted capabilities must be an array', { granted: () => 'net.out' as never }, { url: 'https://a.io/' }, {}],
    ['ctx.attrs.requires must be an array of capabilities', {}, { url: 'https://a.io/' }, { requires: 'net.out' }],
    ['capabilities must be an array', {}, { url: 'https://a.io/' }, { requires: [] }],
    ['a required capability must be a string, got number', {}, { url: 'https://a.io/' }, { requires: [42] }],
  ];
  const odd = defineService<{ url: string }>({ name: 'odd', handler: { call: (r) => r }, requires: ['net.out'], rights: () => 'x' as never });
  for (const [message, options, request, attrs] of reasons) {
    const svc = message === 'capabilities must be an array' ? odd : fetcher;
    const err = await t.throwsAsync(policyGate(options).call!(fakeInv({ service: svc, request, ctx: ctxWith(['*'], attrs as Record<string, unknown>) }), async () => 1), { instanceOf: PolicyError }, message);
    t.is((err!.cause as Error).message, message);
    t.deepEqual(err!.missing, []);
    t.like(err!.context, { service: svc.name });
    if (message === 'granted capabilities must be an array') t.deepEqual(err!.granted, []);
  }
  // Nothing read when the rights function throws: both lists empty.
  const throwing = defineService({ name: 'throws', handler: { call: (r: unknown) => r }, rights: () => { throw new Error('rights'); } });
  const err = await t.throwsAsync(gate.call!(fakeInv({ service: throwing, ctx: ctxWith(['a']) }), async () => 1), { instanceOf: PolicyError });
  t.deepEqual(err!.required, []);
  t.deepEqual(err!.granted, []);
  // The union lists each capability once, in order.
  const overlap = defineService<{ url: string }>({ name: 'overlap', handler: { call: (r) => r }, requires: ['net.out'], rights: () => ['net.out', 'x'] });
  const e2 = await t.throwsAsync(gate.call!(fakeInv({ service: overlap, request: { url: '' }, ctx: ctxWith([]) }), async () => 1), { instanceOf: PolicyError });
  t.deepEqual(e2!.required, ['net.out', 'x']);
});

test('policyGate: a granted list that changes is read afresh; look-alike lists never share a compiled set', async (t) => {
  const granted: string[] = [];
  const gate = policyGate({ granted: () => granted });
  const inv = fakeInv({ service: fetcher, request: { url: 'https://a.io/' }, ctx: ctxWith([]) });
  await t.throwsAsync(gate.call!(inv, async () => 1), { instanceOf: PolicyError });
  granted.push('net.out', 'net.out:*');
  t.is(await gate.call!(inv, async () => 'ran'), 'ran');
  // [42] and ['42'], ['a\nb'] and ['a', 'b'] would join into one key.
  const needs = (cap: string) => defineService({ name: `needs-${cap}`, handler: { call: (r: unknown) => r }, requires: [cap] });
  for (const [first, second, cap] of [[[42], ['42'], '42'], [['a\nb'], ['a', 'b'], 'a'], [['c d'], ['c', 'd'], 'c']] as const) {
    await t.throwsAsync(policyGate({ granted: () => first as never }).call!(fakeInv({ service: needs(cap), ctx: ctxWith([]) }), async () => 1), { instanceOf: PolicyError });
    t.is(await policyGate({ granted: () => second as never }).call!(fakeInv({ service: needs(cap), ctx: ctxWith([]) }), async () => 'ok'), 'ok', JSON.stringify(second));
  }
});
