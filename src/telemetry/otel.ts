import type * as Api from '@opentelemetry/api';

export type OtelApi = typeof Api;

let loading: Promise<OtelApi | undefined> | undefined;
let loaded: OtelApi | undefined;

/**
 * `@opentelemetry/api`, loaded once with a guarded dynamic import: it is an optional peer
 * dependency, so when it is not installed telemetry is a no-op rather than a failed import.
 */
export function loadOtel(): Promise<OtelApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (m) => (loaded = m as unknown as OtelApi),
    () => undefined,
  );
  return loading;
}

/** The API if it has finished loading (the hot path reads this and never awaits). */
export function otelNow(): OtelApi | undefined {
  return loaded;
}
