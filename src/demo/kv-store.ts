/**
 * The demo service's storage: a map of keys to JSON values, persisted as an append-only log of JSON lines
 * (`{"key":"a","value":1}`) in `<dataDir>/kv.log` and replayed on start. It runs inside the demo service
 * (kv-service.ts), not in faultline.
 *
 * Two variants, one line apart — the classic durability bug and its fix:
 * - `fixed`: every change is written and fsync'd before the caller is answered;
 * - `buggy`: a change goes to an in-memory buffer and the caller is answered at once; a timer writes the
 *   buffer out every `flushIntervalMs`. A crash loses every change acknowledged since the last flush.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type Variant = 'buggy' | 'fixed';

export interface KvStoreOptions {
  readonly dataDir: string;
  readonly variant: Variant;
  /** The buggy variant's flush period (default 1000 ms). */
  readonly flushIntervalMs?: number;
}

export class KvStore {
  readonly file: string;
  private readonly values = new Map<string, unknown>();
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
    this.persist(key, value);
    this.values.set(key, value);
  }

  /** Sets `key` to `to` if it holds `from` (a missing key holds null); returns whether it did. */
  cas(key: string, from: unknown, to: unknown): boolean {
    if (JSON.stringify(this.values.get(key) ?? null) !== JSON.stringify(from)) return false;
    this.put(key, to);
    return true;
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

  private persist(key: string, value: unknown): void {
    const line = `${JSON.stringify({ key, value })}\n`;
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
    for (const line of lines) {
      const { key, value } = JSON.parse(line) as { key: string; value: unknown };
      this.values.set(key, value);
    }
  }
}
