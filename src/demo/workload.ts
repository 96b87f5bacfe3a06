/**
 * The demo's workload: a few concurrent clients writing, reading and compare-and-setting keys of the
 * demo service, every call recorded by a Recorder in the kv model's shapes (Jepsen's independent tuples):
 *
 *   write [key, value]        each write goes to a fresh key (c<client>-<n>), so a lost one is visible
 *   read  [key, null] → [key, value | null]
 *   cas   [key, [from, to]]   on a key the client wrote (acknowledged); a 409 is recorded as fail
 *   scan  null → [key, …]     the keys present (the final read of the acked-writes check)
 *
 * Bounded: `maxOpsPerClient` calls per client, each within `timeoutMs`, until `stop()`.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Recorder } from '../history/index.js';
import type { KvClient } from './kv-client.js';

export interface KvWorkloadOptions {
  readonly client: KvClient;
  readonly recorder: Recorder;
  readonly random: Random;
  readonly clock: Clock;
  /** Concurrent clients (processes 0 … clients - 1). */
  readonly clients: number;
  /** Pause between two calls of a client. */
  readonly pauseMs: number;
  /** A call that takes longer is recorded as info (timed out). */
  readonly timeoutMs: number;
  readonly maxOpsPerClient: number;
}

export class KvWorkload {
  /** Every key a write was attempted on, in order. */
  readonly keys: string[] = [];
  private readonly lastValue = new Map<string, unknown>();
  private readonly loops: Promise<void>[] = [];
  private running = false;

  constructor(private readonly options: KvWorkloadOptions) {}

  start(): void {
    this.running = true;
    for (let client = 0; client < this.options.clients; client++) {
      this.loops.push(this.loop(client, this.options.random.fork(`client-${client}`)));
    }
  }

  /** Stops the clients and waits for their calls in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops.splice(0));
  }

  /** The final reads: a scan, then a read of every key written, spread over the clients. */
  async finalReads(): Promise<void> {
    const { client, recorder, clients, timeoutMs } = this.options;
    await recorder.attempt(
      0,
      'scan',
      null,
      async (signal) => Object.keys(await client.entries(signal)).sort(),
      {
        timeoutMs,
      },
    );
    const queue = [...this.keys];
    const reader = async (process: number): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await this.read(process, key);
    };
    await Promise.all(Array.from({ length: clients }, (_, process) => reader(process)));
  }

  private async loop(process: number, random: Random): Promise<void> {
    const own: string[] = [];
    for (let n = 0; this.running && n < this.options.maxOpsPerClient; n++) {
      const roll = random.next();
      if (roll < 0.25 && this.keys.length > 0) {
        await this.read(process, random.pick(this.keys));
      } else if (roll < 0.4 && own.length > 0) {
        const key = random.pick(own);
        await this.cas(process, key, this.lastValue.get(key) ?? null, random.int(1000));
      } else {
        const key = `c${process}-${n}`;
        if (await this.write(process, key, random.int(1000))) own.push(key);
      }
      await this.options.clock.sleep(this.options.pauseMs);
    }
  }

  /** Whether the write was acknowledged. */
  private async write(process: number, key: string, value: number): Promise<boolean> {
    const { client, recorder, timeoutMs } = this.options;
    this.keys.push(key);
    const outcome = await recorder.attempt(
      process,
      'write',
      [key, value],
      (signal) => client.write(key, value, signal),
      {
        timeoutMs,
      },
    );
    if (outcome.type === 'ok') this.lastValue.set(key, value);
    return outcome.type === 'ok';
  }

  private async read(process: number, key: string): Promise<void> {
    const { client, recorder, timeoutMs } = this.options;
    const outcome = await recorder.attempt(
      process,
      'read',
      [key, null],
      async (signal) => [key, await client.read(key, signal)],
      { timeoutMs },
    );
    if (outcome.type === 'ok') this.lastValue.set(key, (outcome.value as [string, unknown])[1]);
  }

  private async cas(process: number, key: string, from: unknown, to: number): Promise<void> {
    const { client, recorder, timeoutMs } = this.options;
    const outcome = await recorder.attempt(
      process,
      'cas',
      [key, [from, to]],
      (signal) => client.cas(key, from, to, signal),
      { timeoutMs },
    );
    if (outcome.type === 'ok') this.lastValue.set(key, to);
  }
}
