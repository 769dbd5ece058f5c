/**
 * V8 keeps a hidden class (a "map") only while some object uses it. When a full GC finds no
 * instance of a per-call class alive (every call settled: an idle executor, the memory
 * reducer's GC after a burst, a forced `gc()`), the class's maps die, every optimised function
 * specialised to them is thrown away, and the next burst runs on cold code until it is learned
 * again: on piscina the main thread's CPU per call went from about 2.4 to 5 µs for the 5,000
 * calls after each full GC. Each per-call class keeps one instance, made at load, so its maps
 * outlive idle periods.
 */
const kept = new Map<object, object>();

/** Keeps `instance` (and with it its class's maps) alive for the life of the process. */
export function keepShape<T extends object>(instance: T): T {
  kept.set(instance.constructor, instance);
  return instance;
}

/** The instance kept for class `cls`, if any (tests check that live objects share its map). */
export function keptShape(cls: object): object | undefined {
  return kept.get(cls);
}
