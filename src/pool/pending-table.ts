/**
 * The calls and streams in flight on one worker, by id. Not a `Map`: one that churns between
 * empty and a few entries reallocates its hash table every few calls, and with it V8 went on
 * pretenuring allocations on this path in two runs of three (`--trace-pretenuring-statistics`)
 * and young GCs grew costlier. Integer keys on a null-prototype object did not, in any run.
 */
export class PendingTable<T extends { id: number }> {
  #byId: Record<number, T> = Object.create(null) as Record<number, T>;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    return this.#byId[id];
  }

  add(p: T): void {
    if (this.#byId[p.id] === undefined) this.#size++;
    this.#byId[p.id] = p;
  }

  delete(id: number): boolean {
    if (this.#byId[id] === undefined) return false;
    delete this.#byId[id];
    this.#size--;
    return true;
  }

  /** A copy, oldest first: safe to change the table while iterating it. */
  values(): T[] {
    return Object.values(this.#byId);
  }

  clear(): void {
    this.#byId = Object.create(null) as Record<number, T>;
    this.#size = 0;
  }
}
