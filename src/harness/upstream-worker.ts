import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
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

/**
 * A provider's servers never share the client's cores; this thread does. Where the OS allows it
 * (Linux gives each thread its own nice value; lowering it needs root or CAP_SYS_NICE), the
 * observer runs at nice -10, so that a busy executor and its workers delay its arrival stamps
 * less. The executor's threads keep their priority. Returns the nice value in force, or null.
 */
function raisePriority(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return null;
    try {
      setPriority(tid, -10);
    } catch {
      // Not permitted: the stamps keep the default priority, and the report says so.
    }
    return getPriority(tid);
  } catch {
    return null;
  }
}
const nice = raisePriority();

startMockUpstream(workerData as MockUpstreamOptions).then(
  (up) => {
    send({ t: 'ready', url: up.url, baseURL: up.baseURL });
    port.on('message', (msg: UpstreamRequest) => {
      if (msg.t === 'collect') {
        const times = up.arrivals.times();
        // Wall-clock epoch ms: each thread's monotonic clock has its own origin.
        for (let i = 0; i < times.length; i++) times[i] = toEpoch(times[i]!);
        send({ t: 'collected', times, total: up.arrivals.total, capacity: up.arrivals.capacity, stats: up.stats(), loopDelayMaxMs: loopDelay.max / 1e6, nice }, [times.buffer as ArrayBuffer]);
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
