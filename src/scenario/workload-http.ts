/**
 * The `http` workload: GETs `url` at `ratePerSec`, at most `concurrency` in flight, each recorded as a
 * `request` op (invoke null → ok status) — ok on 2xx/3xx, fail on 4xx/5xx, info on a timeout or a lost
 * connection (a refused one is fail: it never reached the service). For probe-success style checks and
 * error rates. It runs until stopped (at most `maxRequests`); calls in flight are waited for.
 */
import type { Clock } from '../core/clock.js';
import { KvClient } from '../demo/index.js';
import { FailError } from '../history/index.js';
import type { Call, Tally } from './workload-driver.js';

/** Each request is recorded as info after this long. */
export const httpTimeoutMs = 5000;
/** The most requests one run makes (the Recorder's history holds two ops each). */
export const maxRequests = 400_000;

export interface HttpOptions {
  readonly url: URL;
  readonly ratePerSec: number;
  readonly concurrency: number;
  readonly clock: Clock;
}

export class HttpDriver {
  private readonly stopping = new AbortController();

  constructor(
    private readonly tally: Tally,
    private readonly options: HttpOptions,
  ) {}

  stop(): void {
    this.stopping.abort();
  }

  async run(): Promise<void> {
    const { url, ratePerSec, concurrency, clock } = this.options;
    const client = new KvClient(url.href);
    const call: Call = {
      f: 'request',
      value: null,
      read: true, // its ok records the status
      run: async (signal) => {
        const { status } = await client.request('GET', '', signal);
        if (status >= 400) throw new FailError(`status ${status}`);
        return status;
      },
    };
    const free = Array.from({ length: concurrency }, (_, process) => process);
    const inFlight = new Set<Promise<unknown>>();
    const intervalMs = 1000 / ratePerSec;
    const start = clock.now();
    const signal = this.stopping.signal;
    for (let i = 0; !signal.aborted && i < maxRequests; i++) {
      const waitMs = start + i * intervalMs - clock.now();
      if (waitMs > 0) await clock.sleep(waitMs, signal).catch(() => undefined);
      while (free.length === 0 && !signal.aborted) await Promise.race(inFlight);
      const process = free.pop();
      if (signal.aborted || process === undefined) break;
      const request: Promise<unknown> = this.tally.record(process, call).finally(() => {
        free.push(process);
        inFlight.delete(request);
      });
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  }
}
