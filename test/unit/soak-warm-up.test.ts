import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Executor, defineService } from '../../src/index.js';
import type { Fixture } from '../../src/harness/fixture.js';
import { warmUp } from '../../src/harness/soak-run.js';

const fixture: Fixture = { name: 'warm', executor: { pool: { kind: 'inline', threads: 2 } }, load: { rate: 1, durationS: 1, mix: { call: 1 } } };

test('warmUp: a failing warm-up call does not leave another running into the measured run', async (t) => {
  let n = 0;
  let release: () => void = () => {};
  const slow = new Promise<void>((resolve) => (release = resolve));
  // The first warm-up call fails at once; the second is still running when it does.
  const chat = defineService<unknown, unknown>({
    name: 'chat',
    handler: {
      call: async () => {
        if (++n === 1) throw Object.assign(new Error('upstream down'), { code: 'E_UPSTREAM' });
        await slow;
        return 'ok';
      },
    },
  });
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  let settledEarly = false;
  const warm = warmUp(ex, { chat, embeddings: chat, chatRequest: {}, embeddingsRequest: {} }, fixture).finally(() => (settledEarly = true));
  warm.catch(() => {});
  await sleep(100);
  t.is(n, 2, 'both warm-up calls started');
  t.false(settledEarly, 'the warm-up waits for its slow call although the other one failed');
  t.is(ex.running, 1);

  release();
  await t.throwsAsync(warm, { message: 'upstream down' });
  t.is(ex.running, 0);
  t.is(ex.queued, 0);
  // What the run's listeners would count: nothing of the warm-up's.
  let seen = 0;
  ex.on('settled', () => seen++);
  ex.on('admitted', () => seen++);
  await sleep(50);
  t.is(seen, 0);
  t.is(ex.stats().completed + ex.stats().failed, 2);
});
