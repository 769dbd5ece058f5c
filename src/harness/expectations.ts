import type { Expectations } from './fixture.js';
import type { ExpectationResult, SoakReport } from './report.js';

type Figures = Omit<SoakReport, 'ok' | 'expectations'>;

interface Rule {
  bound: 'max' | 'min';
  unit: string;
  /** The measured figure, or a reason it could not be measured. */
  actual: (r: Figures) => number | { skip: string };
  /** Needs the whole run: an interrupted run (cut short, its calls in flight cancelled) cannot judge it. */
  wholeRun?: true;
  /** Why the limit only holds against the embedded upstream (skipped with `--target`). */
  embeddedOnly?: string;
}

/** Fewer memory samples than this in the second half make a slope too noisy to judge. */
const MIN_SLOPE_SAMPLES = 8;

const RULES: Record<keyof Expectations, Rule> = {
  queueWaitP99Ms: { bound: 'max', unit: 'ms', actual: (r) => r.latency.queueWaitMs.p99 },
  runTimeP99Ms: { bound: 'max', unit: 'ms', actual: (r) => r.latency.runTimeMs.p99, embeddedOnly: "the limit is set for the embedded upstream's latency" },
  ttfbP99Ms: {
    bound: 'max',
    unit: 'ms',
    actual: (r) => (r.latency.ttfbMs.count === 0 ? { skip: 'no stream delivered a chunk' } : r.latency.ttfbMs.p99),
    embeddedOnly: "the limit is set for the embedded upstream's latency",
  },
  chunksPerSecMin: {
    bound: 'min',
    unit: 'chunks/s',
    actual: (r) => r.streams.chunksPerSec,
    wholeRun: true,
    embeddedOnly: 'the limit is set for the chunks per stream the embedded upstream sends; the target sends its own',
  },
  throughputMin: { bound: 'min', unit: 'calls/s', actual: (r) => r.throughput.completedPerSec, wholeRun: true },
  errorRateMax: { bound: 'max', unit: '', actual: (r) => r.calls.errorRate, wholeRun: true },
  heapSlopeMbPerMinMax: {
    bound: 'max',
    wholeRun: true,
    unit: 'MB/min',
    actual: (r) =>
      r.memory.heapSlope.samples < MIN_SLOPE_SAMPLES
        ? { skip: `${r.memory.heapSlope.samples} samples in the second half, ${MIN_SLOPE_SAMPLES} needed (run longer)` }
        : r.memory.heapSlope.mbPerMin,
  },
  rateOvershootMax: { bound: 'max', unit: 'requests', actual: (r) => (r.rate === null ? { skip: 'no request limit' } : r.rate.overshoot) },
  rateUtilisationMin: {
    bound: 'min',
    unit: '',
    actual: (r) => (r.rate === null ? { skip: 'no request limit' } : r.rate.utilisation === null ? { skip: 'the request limit never saturated' } : r.rate.utilisation),
  },
};

/** Judges each expectation a fixture states against the run's figures, in a stable order. */
export function checkExpectations(expect: Expectations, figures: Figures): ExpectationResult[] {
  const out: ExpectationResult[] = [];
  for (const name of Object.keys(RULES) as (keyof Expectations)[]) {
    const limit = expect[name];
    if (limit === undefined) continue;
    const rule = RULES[name];
    const a: number | { skip: string } =
      figures.interrupted && rule.wholeRun
        ? { skip: 'the run was interrupted; this needs the whole run' }
        : figures.target.kind === 'url' && rule.embeddedOnly !== undefined
          ? { skip: `only judged against the embedded upstream: ${rule.embeddedOnly}` }
          : rule.actual(figures);
    if (typeof a !== 'number') {
      out.push({ name, bound: rule.bound, limit, actual: null, held: null, by: 0, unit: rule.unit, note: a.skip });
      continue;
    }
    const by = rule.bound === 'max' ? a - limit : limit - a;
    out.push({ name, bound: rule.bound, limit, actual: a, held: by <= 0, by: by > 0 ? round(by) : 0, unit: rule.unit });
  }
  return out;
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
