import test from 'ava';
import { Type } from '@sinclair/typebox';
import { compile } from '../../src/core/validate.js';
import { startMockUpstream } from '../../src/harness/mock-upstream.js';

// A schema used at several places (as itself, or as the shallow copy Type.Optional makes) is
// compiled once and referred to; what a check accepts and the paths its issues name must be
// those of the schema as written.
const Point = Type.Object({ x: Type.Integer({ minimum: 0 }), y: Type.Integer({ minimum: 0 }), label: Type.Optional(Type.String()), w: Type.Optional(Type.Number()) }, { additionalProperties: false });
const Shape = Type.Union([Type.Object({ kind: Type.Literal('dot'), at: Point }, { additionalProperties: false }), Type.Object({ kind: Type.Literal('line'), from: Point, to: Point }, { additionalProperties: false })]);
const Drawing = Type.Object({ origin: Point, shapes: Type.Array(Shape), pinned: Type.Optional(Shape), corners: Type.Optional(Type.Tuple([Point, Point])), anchor: Type.Optional(Point) }, { additionalProperties: false });

test('a schema repeated at several places, nested in another repeat, checks each place as written', (t) => {
  const check = compile(Drawing, { lazy: true });
  const good = { origin: { x: 0, y: 0 }, shapes: [{ kind: 'dot', at: { x: 1, y: 2 } }, { kind: 'line', from: { x: 1, y: 1 }, to: { x: 3, y: 4 } }], pinned: { kind: 'dot', at: { x: 5, y: 5 } }, corners: [{ x: 0, y: 0 }, { x: 9, y: 9 }] };
  t.true(check(good));
  t.true(check({ origin: { x: 0, y: 0, label: 'o', w: 2 }, shapes: [], anchor: { x: 3, y: 3 } }));
  const bad: [unknown, string][] = [
    [{ ...good, origin: { x: -1, y: 0 } }, '/origin/x'],
    [{ ...good, shapes: [good.shapes[0], { kind: 'line', from: { x: 1, y: 1 }, to: { x: 3, y: -4 } }] }, '/shapes/1'],
    [{ ...good, pinned: { kind: 'dot', at: { x: 5, y: 5, z: 1 } } }, '/pinned'],
    [{ ...good, corners: [{ x: 0, y: 0 }, { x: 0.5, y: 9 }] }, '/corners/1/x'],
    [{ ...good, anchor: { x: 1, y: 1, label: 7 } }, '/anchor/label'],
    [{ ...good, shapes: [{ kind: 'dot', at: { x: 1, y: 2, w: 'wide' } }] }, '/shapes/0'],
  ];
  for (const [value, path] of bad) {
    t.false(check(value), path);
    t.true(
      check.issues().some((i) => i.path.startsWith(path)),
      `${path}: ${JSON.stringify(check.issues())}`,
    );
  }
  // Every failing place is listed, each under its own path.
  t.false(check({ origin: { x: -1, y: 0 }, shapes: [], corners: [{ x: -2, y: 0 }, { x: 0, y: 0 }] }));
  t.deepEqual(
    check
      .issues()
      .map((i) => i.path)
      .sort(),
    ['/corners/0/x', '/origin/x'],
  );
});

test('the mock upstream refuses a bad option under any route, naming that route', async (t) => {
  for (const route of ['chat', 'completions', 'embeddings', 'json', 'messages']) {
    await t.throwsAsync(startMockUpstream({ routes: { [route]: { stream: { chunks: 0 } } } }), { code: 'E_CONFIG', message: new RegExp(`/routes/${route}/stream/chunks`) });
  }
  await t.throwsAsync(startMockUpstream({ defaults: { latency: { kind: 'fixed', ms: -1 } } }), { code: 'E_CONFIG', message: /\/defaults\/latency/ });
  const up = await startMockUpstream({ defaults: { latency: { kind: 'fixed', ms: 0 } }, routes: { embeddings: { dimensions: 4 } } });
  t.is(up.arrivals.total, 0);
  await up.close();
});
