import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { AbortHandle } from '../../src/core/abort-handle.js';
import type { StreamChunks } from '../../src/pool/protocol.js';
import { StreamChannel, type StreamOutcome } from '../../src/pool/stream-channel.js';

function channel(): { producer: MessageChannel['port2']; stream: StreamChannel; outcomes: StreamOutcome[]; lost: number[] } {
  const { port1, port2 } = new MessageChannel();
  const outcomes: StreamOutcome[] = [];
  const lost: number[] = [];
  const stream = new StreamChannel(port1, 64, new AbortHandle(), (o) => outcomes.push(o), () => lost.push(1));
  return { producer: port2, stream, outcomes, lost };
}

async function drain(stream: StreamChannel): Promise<{ values: unknown[]; error: unknown }> {
  const values: unknown[] = [];
  try {
    for await (const v of stream) values.push(v);
  } catch (error) {
    return { values, error };
  }
  return { values, error: undefined };
}

test('lost(): chunks the producer sent before it went away are delivered, then the stream fails with the reason', async (t) => {
  const { producer, stream, outcomes } = channel();
  producer.postMessage({ t: 'chunks', values: [1, 2] } satisfies StreamChunks);
  producer.postMessage({ t: 'chunks', values: [3] } satisfies StreamChunks);
  // Nothing delivered yet: the messages wait in the port, as after a worker's sudden exit.
  stream.lost(new Error('worker gone'));
  const { values, error } = await drain(stream);
  t.deepEqual(values, [1, 2, 3]);
  t.is((error as Error).message, 'worker gone');
  t.deepEqual(outcomes, ['failed']);
  producer.close();
});

test('lost(): a stream whose last message already ended it ends, not fails', async (t) => {
  const { producer, stream, outcomes } = channel();
  producer.postMessage({ t: 'chunks', values: ['a'], end: true } satisfies StreamChunks);
  stream.lost(new Error('worker gone'));
  t.deepEqual(await drain(stream), { values: ['a'], error: undefined });
  t.deepEqual(outcomes, ['ended']);
  producer.close();
});

test("lost(): after the port's own close failed it, a later lost() changes nothing", async (t) => {
  const { producer, stream, outcomes, lost } = channel();
  producer.postMessage({ t: 'chunks', values: ['x'] } satisfies StreamChunks);
  producer.close();
  await new Promise<void>((resolve) => {
    const wait = (): void => void (lost.length > 0 ? resolve() : setTimeout(wait, 5));
    wait();
  });
  stream.fail(new Error('closed'));
  stream.lost(new Error('later'));
  const { values, error } = await drain(stream);
  t.deepEqual(values, ['x']);
  t.is((error as Error).message, 'closed');
  t.deepEqual(outcomes, ['failed']);
});
