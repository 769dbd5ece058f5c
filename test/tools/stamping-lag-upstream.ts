// The mock upstream for stamping-lag.ts: records, for each probe, its arrival stamp minus the probe's own write instant.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { toMachine } from '../../src/core/clock.js';
import { startMockUpstream, type MockUpstream } from '../../src/harness/mock-upstream.js';
let up: MockUpstream | undefined;
const lags: number[] = [];
const orig = http.createServer;
(http as any).createServer = (listener: http.RequestListener) => orig((req, res) => {
  listener(req, res);
  const h = req.headers['x-probe-t'];
  if (typeof h === 'string' && up) { const t = up.arrivals.times(); lags.push(toMachine(t[t.length - 1]!) - Number(h)); }
});
up = await startMockUpstream(workerData);
parentPort!.postMessage({ t: 'ready', baseURL: up.baseURL, port: Number(new URL(up.url).port) });
parentPort!.on('message', () => { parentPort!.postMessage({ t: 'lags', lags }); void up!.close().then(() => parentPort!.close()); });
