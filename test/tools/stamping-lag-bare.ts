// A bare thread for stamping-lag.ts: stamps each probe's bytes on 'data' and answers at once, doing nothing else.
import net from 'node:net';
import { parentPort } from 'node:worker_threads';
import { now, toMachine } from '../../src/core/clock.js';
const lags: number[] = [];
const srv = net.createServer((s) => s.on('data', (d) => { const at = toMachine(now()); const m = /x-probe-t: ([\d.]+)/.exec(d.toString('latin1')); if (m) lags.push(at - Number(m[1])); s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: b\r\n\r\n{}'); }));
srv.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (srv.address() as net.AddressInfo).port }));
parentPort!.on('message', () => { parentPort!.postMessage({ lags }); srv.close(); parentPort!.close(); });
