import type { SoakProgress } from './soak-types.js';

export interface ProgressView {
  update(p: SoakProgress): void;
  /** Clears the live line, so that what is printed next starts on a clean line. */
  clear(): void;
  stop(): void;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** 42 s, 3:07, 1:02:03. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** Time left: the rest of the planned duration, or of the planned calls at the current rate. */
function eta(p: SoakProgress): string {
  if (p.plannedMs !== null) return p.elapsedMs < p.plannedMs ? `ETA ${duration(p.plannedMs - p.elapsedMs)}` : 'draining';
  if (p.done >= p.planned) return 'done';
  return p.ratePerSec > 0 ? `ETA ${duration(((p.planned - p.done) / p.ratePerSec) * 1000)}` : 'ETA n/a';
}

/** The line's fields, most useful first: a narrow terminal drops them from the end, whole. */
function fields(p: SoakProgress): string[] {
  return [
    `${p.done}/${Math.max(p.planned, p.offered)} calls`,
    `${duration(p.elapsedMs)}, ${eta(p)}`,
    `${fmt(p.ratePerSec)}/s`,
    `queue p99 ${fmt(p.queueWaitP99Ms)} ms`,
    `queued ${p.queued}, running ${p.running}`,
    `heap ${fmt(p.heapMb)} MB`,
    `rss ${fmt(p.rssMb, 0)} MB`,
  ];
}

const SEP = ' | ';

/**
 * One line of live figures at most `width` characters: fields are dropped whole from the least
 * useful (memory) to the most (calls done); room left over goes to a bar.
 */
export function progressLine(p: SoakProgress, width = Infinity): string {
  const all = fields(p);
  let n = all.length;
  while (n > 1 && all.slice(0, n).join(SEP).length > width) n--;
  let line = all.slice(0, n).join(SEP);
  if (line.length > width) line = all[0]!.slice(0, Math.max(0, width));
  const room = width - line.length - 3;
  if (Number.isFinite(width) && room >= 10) {
    const size = Math.min(30, room);
    const total = Math.max(1, p.planned, p.offered);
    const filled = Math.round((Math.min(p.done, total) / total) * size);
    line = `[${'#'.repeat(filled)}${'.'.repeat(size - filled)}] ${line}`;
  }
  return line;
}

/**
 * Live progress: on a terminal, one line redrawn in place and fitted to its width (read on
 * every redraw, so a resize is followed); else a plain line every `everyMs`, for CI logs.
 */
export function createProgress(out: NodeJS.WriteStream = process.stderr, everyMs = 5000): ProgressView {
  if (out.isTTY) {
    let drawn = false;
    const clear = () => {
      if (drawn) out.write('\r\u001b[K');
      drawn = false;
    };
    return {
      update(p) {
        // One column short of the width: writing the last column makes some terminals wrap.
        out.write(`\r${progressLine(p, Math.max(20, (out.columns || 80) - 1))}\u001b[K`);
        drawn = true;
      },
      clear,
      stop: clear,
    };
  }
  let last = -Infinity;
  return {
    update(p) {
      if (p.elapsedMs - last < everyMs) return;
      last = p.elapsedMs;
      out.write(`[${(p.elapsedMs / 1000).toFixed(1)} s] ${progressLine(p)}\n`);
    },
    clear() {},
    stop() {},
  };
}
