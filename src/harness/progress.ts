import cliProgress from 'cli-progress';
import type { SoakProgress } from './soak-types.js';

export interface ProgressView {
  update(p: SoakProgress): void;
  stop(): void;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** One plain line of live figures (CI logs, or anything that is not a terminal). */
export function progressLine(p: SoakProgress): string {
  return (
    `[${fmt(p.elapsedMs / 1000)} s] ${p.done}/${p.planned} calls done (${p.offered} offered), ${fmt(p.ratePerSec)}/s, ` +
    `queued ${p.queued}, running ${p.running}, queue wait p99 ${fmt(p.queueWaitP99Ms)} ms, heap ${fmt(p.heapMb)} MB, rss ${fmt(p.rssMb, 0)} MB`
  );
}

/**
 * Live progress: a cli-progress bar on a terminal (calls done of total, current rate, p99 queue
 * wait, memory), else a plain line every `everyMs` so CI logs stay readable.
 */
export function createProgress(out: NodeJS.WriteStream = process.stderr, everyMs = 5000): ProgressView {
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: ' {bar} {value}/{total} calls | {rate}/s | queue p99 {qp99} ms | heap {heap} MB | rss {rss} MB',
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { rate: fmt(p.ratePerSec), qp99: fmt(p.queueWaitP99Ms), heap: fmt(p.heapMb), rss: fmt(p.rssMb, 0) };
        if (!started) {
          bar.start(Math.max(1, p.planned), p.done, payload);
          started = true;
        }
        bar.setTotal(Math.max(p.planned, p.offered, 1));
        bar.update(p.done, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = -Infinity;
  return {
    update(p) {
      if (p.elapsedMs - last < everyMs) return;
      last = p.elapsedMs;
      out.write(`${progressLine(p)}\n`);
    },
    stop() {},
  };
}
