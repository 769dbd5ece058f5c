import test from 'ava';
import fc from 'fast-check';
import { DeadlineHeap, type HeapItem } from '../../src/executor/deadline-heap.js';

interface Item extends HeapItem {
  id: number;
}

const item = (id: number, deadline: number): Item => ({ id, deadline, heapIndex: -1 });

test('pop() returns the items in deadline order, peek() the next one, size what is left', (t) => {
  const heap = new DeadlineHeap<Item>();
  t.is(heap.pop(), undefined);
  t.is(heap.peek(), undefined);
  const deadlines = [50, 10, 40, 30, 20, 60, 5];
  deadlines.forEach((d, i) => heap.push(item(i, d)));
  t.is(heap.size, 7);
  t.is(heap.peek()!.deadline, 5);
  t.is(heap.size, 7, 'peek() takes nothing');
  const out: number[] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) {
    out.push(top.deadline);
    t.is(top.heapIndex, -1, 'a popped item knows it left');
  }
  t.deepEqual(out, [5, 10, 20, 30, 40, 50, 60]);
  t.is(heap.size, 0);
});

test('remove() of an item not in the heap (never pushed, or removed already) changes nothing', (t) => {
  const heap = new DeadlineHeap<Item>();
  const a = item(1, 10);
  const b = item(2, 20);
  const c = item(3, 30);
  heap.push(a);
  heap.push(b);
  heap.remove(c);
  t.is(heap.size, 2);
  heap.remove(a);
  heap.remove(a);
  t.is(heap.size, 1);
  t.is(heap.peek(), b);
  // An item that claims a place it does not hold is not taken out in its stead.
  heap.push(c);
  const impostor = item(4, 1);
  impostor.heapIndex = 0;
  heap.remove(impostor);
  t.is(heap.size, 2);
  t.is(heap.pop(), b);
  t.is(heap.pop(), c);
});

type Op = { kind: 'push'; deadline: number } | { kind: 'remove'; pick: number } | { kind: 'pop' };

test('any sequence of push, remove and pop agrees with a sorted list, and every item knows its place', (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), deadline: fc.integer({ min: 0, max: 50 }) }),
    fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('pop' as const) }),
  );
  const run = fc.check(
    fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
      const heap = new DeadlineHeap<Item>();
      const model: Item[] = [];
      let id = 0;
      for (const o of ops) {
        if (o.kind === 'push') {
          const it = item(id++, o.deadline);
          heap.push(it);
          model.push(it);
        } else if (o.kind === 'remove') {
          if (model.length === 0) continue;
          const [it] = model.splice(o.pick % model.length, 1);
          heap.remove(it!);
          if (it!.heapIndex !== -1) return false;
        } else {
          const top = heap.pop();
          if (model.length === 0) {
            if (top !== undefined) return false;
            continue;
          }
          const least = Math.min(...model.map((m) => m.deadline));
          if (top === undefined || top.deadline !== least || top.heapIndex !== -1) return false;
          model.splice(model.indexOf(top), 1);
        }
        if (heap.size !== model.length) return false;
        const least = model.length === 0 ? undefined : Math.min(...model.map((m) => m.deadline));
        if (heap.peek()?.deadline !== least) return false;
      }
      // Drained, the heap gives back exactly the model's items in order.
      const rest: number[] = [];
      for (let top = heap.pop(); top !== undefined; top = heap.pop()) rest.push(top.deadline);
      return JSON.stringify(rest) === JSON.stringify(model.map((m) => m.deadline).sort((a, b) => a - b));
    }),
    { numRuns: 300 },
  );
  // Every generated case held (the report names the smallest failing one otherwise).
  t.false(run.failed, fc.defaultReportMessage(run));
  t.is(run.numRuns, 300);
});
