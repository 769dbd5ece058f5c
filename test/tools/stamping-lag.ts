/**
 * The embedded upstream's stamping lag: its arrival stamp minus the instant a probe request was
 * written (stamped just before the write, so the lag is never under-stated), while an executor
 * drives a fixture's load (rate, bursts, streams) through the same upstream on its own thread.
 * PROBE_BURST=30 writes 30 probes at once on 30 kept-alive connections, every ~200 ms; BARE=1
 * sends the probes to a bare thread that only stamps and answers (the machine's share of the lag).
 *
 *   PROBE_BURST=30 nice -n 19 node --import tsx test/tools/stamping-lag.ts fixtures/default.json 8
 */
import { Worker } from 'node:worker_threads';
import net from 'node:net';
import { Executor, openai, CallContext } from '../../src/index.js';
import { now, toMachine } from '../../src/core/clock.js';
import { readFileSync } from 'node:fs';
const fixture = JSON.parse(readFileSync(process.argv[2] ?? 'fixtures/default.json', 'utf8'));
const durS = Number(process.argv[3] ?? 8);
const tsx = import.meta.resolve('tsx/esm/api');
const entry = new URL('./stamping-lag-upstream.ts', import.meta.url).href;
const w = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData: { seed: 1, ...fixture.upstream } });
const ready: any = await new Promise((r) => w.once('message', r));
const ex = new Executor({ limits: fixture.executor.limits, pool: fixture.executor.pool, concurrency: fixture.executor.concurrency, queueCapacity: 2000 });
const chat = openai.chat({ baseURL: ready.baseURL, model: 'm' });
const req = { messages: [{ role: 'user', content: 'x'.repeat(200) }], max_tokens: 64 };
const ctx = () => CallContext.new('lag', { capabilities: ['net.out:*'], timeoutMs: 30000 });
await Promise.all([0, 1].map(() => ex.call(chat as any, req, ctx())));
let probing = true;
const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'probe' }] });
const door = process.env['BARE'] ? new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./stamping-lag-bare.ts', import.meta.url).href)}); });`, { eval: true }) : undefined;
const doorPort = door ? ((await new Promise((r) => door.once('message', r))) as any).port : undefined;
const N = Number(process.env['PROBE_BURST'] ?? 1);
const socks: net.Socket[] = [];
for (let k = 0; k < N; k++) { const so = net.connect(doorPort ?? ready.port, '127.0.0.1'); await new Promise((r) => so.once('connect', r)); socks.push(so); }
let answered = 0;
const probe = () => { if (!probing) return; answered = 0; for (const so of socks) { const t = toMachine(now()); so.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-probe-t: ${t}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`); } };
for (const so of socks) { let buf = ''; so.on('data', (d) => { buf += d.toString(); const m = /content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(buf); if (m && buf.length >= m.index + m[0].length + Number(m[1])) { buf = ''; if (++answered === N) setTimeout(probe, N > 1 ? 150 + Math.random() * 100 : 7 + Math.random() * 10); } }); }
probe();
const rate = fixture.load.rate, burst = fixture.load.bursts.calls, every = fixture.load.bursts.everyS * 1000;
const jobs: Promise<unknown>[] = [];
const t0 = now(); let i = 0;
const mix = fixture.load.mix; const streamShare = (mix.stream ?? 0) / ((mix.call ?? 0) + (mix.stream ?? 0));
const one = () => { const s = (i++ % 100) / 100 < streamShare; jobs.push(s ? (async () => { for await (const _ of ex.stream(chat as any, { ...req, stream: true }, ctx())); })() : ex.call(chat as any, req, ctx())); };
let nextBurst = fixture.load.bursts.startS * 1000;
while (now() - t0 < durS * 1000) {
  const t = now() - t0;
  while (i < (t / 1000) * rate) one();
  if (t >= nextBurst) { for (let k = 0; k < burst; k++) one(); nextBurst += every; }
  await new Promise((r) => setTimeout(r, 5));
}
await Promise.allSettled(jobs); probing = false;
const src = door ?? w; src.postMessage('collect');
const { lags } = await new Promise<any>((r) => src.once('message', r)); if (door) w.terminate();
for (const so of socks) so.destroy(); await ex.close();
const s = (lags as number[]).slice().sort((a, b) => a - b);
const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
console.log(JSON.stringify({ probes: s.length, lagMs: { min: q(0), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) } }));
