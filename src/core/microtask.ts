const RESOLVED = Promise.resolve();

/**
 * Runs `fn` on a microtask. Node's `queueMicrotask` makes an AsyncResource and a bound function
 * per call, which cost more than the rest of a worker round trip's bookkeeping; a reaction on
 * a settled promise is the same microtask without them. `fn` must not throw (it would surface
 * as an unhandled rejection, not an uncaught exception).
 */
export function onMicrotask(fn: () => void): void {
  void RESOLVED.then(fn);
}
