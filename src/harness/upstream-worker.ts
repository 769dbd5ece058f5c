import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { toMachine } from '../core/clock.js';
import { serializeError } from '../core/errors.js';
import { LoopDelay } from './loop-delay.js';
import { startMockUpstream } from './mock-upstream.js';
import type { UpstreamReply, UpstreamRequest, UpstreamWorkerData } from './upstream-thread.js';

/**
 * Runs the mock upstream on this thread (a worker thread, or a child process's main thread) and
 * answers the harness's requests (see upstream-thread.ts).
 */
const port = parentPort;
const send = (msg: UpstreamReply, transfer: ArrayBuffer[] = []): void => {
  if (port !== null) port.postMessage(msg, transfer);
  else process.send!(msg);
};
const onRequest = (fn: (msg: UpstreamRequest) => void): void => {
  if (port !== null) port.on('message', fn);
  else process.on('message', fn);
};
/** The last message is out: a thread closes its port, a process its IPC channel (then it exits). */
const done = (msg: UpstreamReply): void => {
  if (port !== null) {
    send(msg);
    port.close();
  } else {
    process.send!(msg, () => process.disconnect());
  }
};
// A child process whose parent went away has no one to serve.
if (port === null) process.on('disconnect', () => process.exit(0));
// How late this thread ran (busy, or not given a core): its arrival stamps can be that late too.
const loopDelay = new LoopDelay();
loopDelay.enable();

/**
 * A provider's servers never share the client's cores; this thread does. Where the OS allows it
 * (Linux gives each thread its own priority; raising it needs root or CAP_SYS_NICE), the observer
 * runs real-time (SCHED_FIFO at the lowest priority, set with util-linux's `chrt`), else at nice
 * -10: a busy executor and its workers then cannot hold its arrival stamps back while it waits
 * for a core. It stays subject to the kernel's real-time throttling. The executor's threads keep
 * their priority. A busy real-time thread also holds back every other process on the machine
 * (on two cores, a test suite's timing checks running beside a soak), so `realtime: false`
 * (`CALLPOOL_OBSERVER_REALTIME=0`) keeps nice -10 alone. Returns the nice value and scheduling
 * policy in force (null: not known here).
 */
function raisePriority(realtime: boolean): { nice: number | null; realtime: boolean | null } {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return { nice: null, realtime: null };
  }
  if (!Number.isInteger(tid)) return { nice: null, realtime: null };
  try {
    setPriority(tid, -10);
  } catch {
    // Not permitted: the stamps keep the default priority, and the report says so.
  }
  if (realtime) {
    try {
      execFileSync('chrt', ['--fifo', '--pid', '1', String(tid)], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      // No chrt, or not permitted: nice alone.
    }
  }
  let nice: number | null = null;
  try {
    nice = getPriority(tid);
  } catch {
    // Leave it unknown.
  }
  return { nice, realtime: runsFifo() };
}

/** Whether this thread runs SCHED_FIFO: field 41 of /proc/thread-self/stat is 1 (null: unreadable). */
function runsFifo(): boolean | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const policy = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38];
    return policy === undefined ? null : policy === '1';
  } catch {
    return null;
  }
}
const data = (port !== null ? workerData : JSON.parse(process.argv[2]!)) as UpstreamWorkerData;
const { nice, realtime } = raisePriority(data.realtime);

// Warm before ready: a cold accept and request path stamped the first requests of a fresh
// upstream a few ms late (a provider's front end is never cold).
const WARM_REQUESTS = 16;

startMockUpstream(data.options).then(
  async (up) => {
    await up.warm(WARM_REQUESTS);
    loopDelay.reset();
    send({ t: 'ready', url: up.url, baseURL: up.baseURL, pid: process.pid });
    onRequest((msg) => {
      if (msg.t === 'collect') {
        const times = up.arrivals.times();
        // The machine's monotonic ms: each thread's monotonic clock has its own origin.
        for (let i = 0; i < times.length; i++) times[i] = toMachine(times[i]!);
        send({ t: 'collected', times, total: up.arrivals.total, capacity: up.arrivals.capacity, stats: up.stats(), loopDelayMaxMs: loopDelay.maxMs, nice, realtime }, [times.buffer as ArrayBuffer]);
      } else if (msg.t === 'clear') {
        up.arrivals.clear();
        loopDelay.reset();
        send({ t: 'cleared' });
      } else if (msg.t === 'close') {
        void up.close().then(() => done({ t: 'closed' }));
      }
    });
  },
  (err: unknown) => done({ t: 'error', error: serializeError(err) }),
);
