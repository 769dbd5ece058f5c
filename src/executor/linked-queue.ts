/** A node that can sit in one `LinkedQueue` at a time. */
export interface QueueNode {
  prev: QueueNode | undefined;
  next: QueueNode | undefined;
  inQueue: boolean;
}

/**
 * FIFO with O(1) push, unshift, shift and removal from the middle (a cancelled or expired call leaves
 * the queue at once, freeing its slot). Nodes carry their own links: no allocation per push.
 */
export class LinkedQueue<T extends QueueNode> {
  #head: T | undefined;
  #tail: T | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get head(): T | undefined {
    return this.#head;
  }

  push(node: T): void {
    node.prev = this.#tail;
    node.next = undefined;
    node.inQueue = true;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
  }

  /** Puts `node` at the head (a retry attempt goes before every first attempt). */
  unshift(node: T): void {
    node.prev = undefined;
    node.next = this.#head;
    node.inQueue = true;
    if (this.#head) this.#head.prev = node;
    else this.#tail = node;
    this.#head = node;
    this.#size++;
  }

  remove(node: T): boolean {
    if (!node.inQueue) return false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next as T | undefined;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev as T | undefined;
    node.prev = node.next = undefined;
    node.inQueue = false;
    this.#size--;
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.#head; n; n = n.next as T | undefined) yield n;
  }
}
