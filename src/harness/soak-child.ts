import { toMachine } from '../core/clock.js';
import { serializeError } from '../core/errors.js';
import { runInProcess } from './soak-run.js';
import type { FromChild, SoakJob, SoakRaw, SoakRawMachine, ToChild } from './soak-types.js';

/**
 * The child side of a multi-process soak (`callpool soak-child`, forked with an IPC channel):
 * takes one job, warms up, waits for the go that lines every process up, runs, sends its report
 * and raw timings back, and exits. Ctrl-C reaches the whole process group; the parent decides.
 */
export async function runSoakChild(): Promise<void> {
  const send = (msg: FromChild) => new Promise<void>((resolve) => process.send!(msg, undefined, {}, () => resolve()));
  if (process.send === undefined) throw new Error('soak-child needs an IPC channel (it is started by `callpool soak`)');
  process.on('SIGINT', () => {});
  process.once('disconnect', () => process.exit(3));
  const stop = new AbortController();
  let go: () => void = () => {};
  const started = new Promise<void>((resolve) => (go = resolve));
  const job = await new Promise<SoakJob>((resolve) => {
    process.on('message', (msg: ToChild) => {
      if (msg.t === 'job') resolve(msg.job);
      else if (msg.t === 'go') go();
      else stop.abort();
    });
  });
  let raw: SoakRaw | undefined;
  try {
    const report = await runInProcess({
      fixture: job.fixture,
      file: job.file,
      target: job.baseURL,
      ...(job.apiKey === undefined ? {} : { apiKey: job.apiKey }),
      ...(job.model === undefined ? {} : { model: job.model }),
      ...(job.durationS === undefined ? {} : { durationS: job.durationS }),
      seed: job.seed,
      signal: stop.signal,
      onProgress: (p) => void send({ t: 'progress', p }),
      beforeStart: async () => {
        await send({ t: 'ready' });
        await started;
      },
      onRaw: (r) => (raw = r),
    });
    const machine: SoakRawMachine = {
      t0: toMachine(raw!.t0),
      saturated: raw!.saturated.map((iv) => ({ start: toMachine(iv.start), end: toMachine(iv.end) })),
      admissions: raw!.admissions?.map(toMachine),
    };
    await send({ t: 'done', report, raw: machine });
  } catch (err) {
    await send({ t: 'error', error: serializeError(err) });
  }
  process.removeAllListeners('disconnect');
  process.disconnect();
}
