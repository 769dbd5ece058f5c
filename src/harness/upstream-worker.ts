import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { toEpoch } from '../core/clock.js';
import { serializeError } from '../core/errors.js';
import { startMockUpstream, type MockUpstreamOptions } from './mock-upstream.js';
import type { UpstreamReply, UpstreamRequest } from './upstream-thread.js';

/** Runs the mock upstream on this thread and answers the harness's requests (see upstream-thread.ts). */
const port = parentPort!;
const send = (msg: UpstreamReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
// How late this thread ran (busy, or not given a core): its arrival stamps can be that late too.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

startMockUpstream(workerData as MockUpstreamOptions).then(
  (up) => {
    send({ t: 'ready', url: up.url, baseURL: up.baseURL });
    port.on('message', (msg: UpstreamRequest) => {
      if (msg.t === 'collect') {
        const times = up.arrivals.times();
        // Wall-clock epoch ms: each thread's monotonic clock has its own origin.
        for (let i = 0; i < times.length; i++) times[i] = toEpoch(times[i]!);
        send({ t: 'collected', times, total: up.arrivals.total, capacity: up.arrivals.capacity, stats: up.stats(), loopDelayMaxMs: loopDelay.max / 1e6 }, [times.buffer as ArrayBuffer]);
      } else if (msg.t === 'clear') {
        up.arrivals.clear();
        loopDelay.reset();
        send({ t: 'cleared' });
      } else if (msg.t === 'close') {
        up.close().then(() => {
          send({ t: 'closed' });
          port.close();
        });
      }
    });
  },
  (err: unknown) => {
    send({ t: 'error', error: serializeError(err) });
    port.close();
  },
);
