/** A datagram inside the pipeline, with where it goes (a session) once released. */
export interface Held<T> {
  readonly data: Buffer;
  readonly target: T;
}

/** Where a stage hands a datagram it releases. */
export type Next<T> = (item: Held<T>) => void;

/**
 * A FIFO of held datagrams over an array with a moving head, so taking from the front is O(1)
 * (Array#shift is O(n)); the array is compacted when the dead prefix outgrows the live part.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
