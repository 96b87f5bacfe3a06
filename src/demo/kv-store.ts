/**
 * The demo service's storage: a map of keys to JSON values, persisted as an append-only log of JSON lines
 * (`{"key":"a","value":1}`) in `<dataDir>/kv.log` and replayed on start. It runs inside the demo service
 * (kv-service.ts), not in faultline. Beside the map it keeps grow-only sets, counters and FIFO queues by
 * name (the scenario workloads' targets), logged as changes in the same file:
 * `{"set":"s","add":e}`, `{"counter":"c","add":n}`, `{"queue":"q","enqueue":v}`, `{"queue":"q","dequeue":1}`.
 *
 * Two variants, one line apart — the classic durability bug and its fix:
 * - `fixed`: every change is written and fsync'd before the caller is answered;
 * - `buggy`: a change goes to an in-memory buffer and the caller is answered at once; a timer writes the
 *   buffer out every `flushIntervalMs`. A crash loses every change acknowledged since the last flush.
 * Both hold for every kind of change: a map write, a set add, a counter add, an enqueue and a dequeue.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type Variant = 'buggy' | 'fixed';

/** One logged change: a map write, or a change to a set, a counter or a queue. */
type Change =
  | { readonly key: string; readonly value: unknown }
  | { readonly set: string; readonly add: unknown }
  | { readonly counter: string; readonly add: number }
  | { readonly queue: string; readonly enqueue: unknown }
  | { readonly queue: string; readonly dequeue: 1 };

export interface KvStoreOptions {
  readonly dataDir: string;
  readonly variant: Variant;
  /** The buggy variant's flush period (default 1000 ms). */
  readonly flushIntervalMs?: number;
}

export class KvStore {
  readonly file: string;
  private readonly values = new Map<string, unknown>();
  private readonly sets = new Map<string, Map<string, unknown>>();
  private readonly counters = new Map<string, number>();
  private readonly queues = new Map<string, unknown[]>();
  private readonly fd: number;
  private readonly variant: Variant;
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: KvStoreOptions) {
    this.file = join(options.dataDir, 'kv.log');
    this.variant = options.variant;
    this.load();
    this.fd = openSync(this.file, 'a');
    if (this.variant === 'buggy')
      this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 1000);
  }

  /** Keys on disk at start. */
  get size(): number {
    return this.values.size;
  }

  get(key: string): { found: boolean; value: unknown } {
    return { found: this.values.has(key), value: this.values.get(key) ?? null };
  }

  entries(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }

  put(key: string, value: unknown): void {
    this.change({ key, value });
  }

  /** Sets `key` to `to` if it holds `from` (a missing key holds null); returns whether it did. */
  cas(key: string, from: unknown, to: unknown): boolean {
    if (JSON.stringify(this.values.get(key) ?? null) !== JSON.stringify(from)) return false;
    this.put(key, to);
    return true;
  }

  /** The set's elements, in the order first added (empty when it has none). */
  setElements(name: string): unknown[] {
    return [...(this.sets.get(name)?.values() ?? [])];
  }

  /** Adds `element` to the set (adding one already present changes nothing but is logged all the same). */
  setAdd(name: string, element: unknown): void {
    this.change({ set: name, add: element });
  }

  /** The counter's value (0 when never added to). */
  counterValue(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  counterAdd(name: string, delta: number): void {
    this.change({ counter: name, add: delta });
  }

  enqueue(name: string, value: unknown): void {
    this.change({ queue: name, enqueue: value });
  }

  /** Removes and returns the head of the queue, or `{ empty: true }`. */
  dequeue(name: string): { empty: boolean; value: unknown } {
    const queue = this.queues.get(name);
    if (queue === undefined || queue.length === 0) return { empty: true, value: null };
    const value = queue[0];
    this.change({ queue: name, dequeue: 1 });
    return { empty: false, value };
  }

  /** Writes the buffered changes out (the buggy variant's timer; also on a graceful stop). */
  flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    fsyncSync(this.fd);
    this.buffer = [];
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    closeSync(this.fd);
  }

  /** Logs the change (durably or not, by variant), then applies it. */
  private change(change: Change): void {
    this.persist(change);
    this.apply(change);
  }

  private apply(change: Change): void {
    if ('key' in change) this.values.set(change.key, change.value);
    else if ('set' in change) {
      const elements = this.sets.get(change.set) ?? new Map<string, unknown>();
      this.sets.set(change.set, elements);
      const id = JSON.stringify(change.add);
      if (!elements.has(id)) elements.set(id, change.add);
    } else if ('counter' in change) {
      this.counters.set(change.counter, (this.counters.get(change.counter) ?? 0) + change.add);
    } else {
      const queue = this.queues.get(change.queue) ?? [];
      this.queues.set(change.queue, queue);
      if ('enqueue' in change) queue.push(change.enqueue);
      else queue.shift();
    }
  }

  private persist(change: Change): void {
    const line = `${JSON.stringify(change)}\n`;
    if (this.variant === 'fixed') {
      writeSync(this.fd, line);
      fsyncSync(this.fd); // durable before the caller hears "ok"
    } else {
      this.buffer.push(line); // THE BUG: the caller hears "ok" now; the disk hears it at the next flush
    }
  }

  /** Replays the log. A last line cut short by a crash (no newline) never was acknowledged: skip it. */
  private load(): void {
    if (!existsSync(this.file)) return;
    const lines = readFileSync(this.file, 'utf8').split('\n');
    lines.pop(); // the text after the last newline: empty, or a torn write
    for (const line of lines) this.apply(JSON.parse(line) as Change);
  }
}
