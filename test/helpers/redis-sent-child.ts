/**
 * One of several processes sharing a Redis limit through the limiter API alone (no executor):
 * each worker acquires, sends one request to the upstream, and reports the request sent at
 * the instant Node has flushed it to the socket ('finish'), never earlier. Waits for the
 * parent's start instant, runs until the end instant, then reports its counts.
 * Run with `node --import tsx` through `child_process.fork`.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { toMachine } from '../../src/core/clock.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';

const url = new URL(process.env['UPSTREAM_URL']!);
const limit = Number(process.env['LIMIT']);
const windowMs = Number(process.env['WINDOW_MS']);
const workers = Number(process.env['WORKERS']);
const limiter = new RedisLimiter([{ limit, windowMs }], [], { url: process.env['REDIS_URL']!, key: process.env['LIMIT_KEY']! });
const agent = new http.Agent({ keepAlive: true, maxSockets: workers });

function get(path: string, onSent: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('finish', onSent);
    req.on('error', reject);
    req.end();
  });
}

// Open the connections before the start, so the first requests leave as promptly as the rest.
await Promise.all(Array.from({ length: workers }, () => get('/json/warm', () => undefined)));
process.send!({ ready: true });
const go = await new Promise<{ startEpochMs: number; durationMs: number }>((resolve) => process.once('message', resolve));
await sleep(Math.max(0, go.startEpochMs - Date.now()));
const end = go.startEpochMs + go.durationMs;
let sent = 0;
let refusals = 0;
/** Each reported send on the machine's monotonic clock, for the parent to compare with the arrivals. */
const sends: number[] = [];
const worker = async () => {
  while (Date.now() < end) {
    const a = await limiter.acquire(0);
    if (!a.admitted) {
      refusals++;
      await sleep(Math.max(1, Math.min(a.retryInMs, end - Date.now())));
      continue;
    }
    sent++;
    await get(url.pathname, () => {
      const at = performance.now();
      sends.push(toMachine(at));
      void limiter.sent(a.ticket, at);
    });
  }
};
await Promise.all(Array.from({ length: workers }, worker));
await limiter.close();
agent.destroy();
process.send!({ sent, refusals, sends });
