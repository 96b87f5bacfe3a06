/**
 * A scenario's `workload`, started: client calls against the system under test, recorded as a History
 * by one Recorder. The protocol workloads (workload-protocol.ts, over the protocol of docs/scenarios.md
 * "Workload protocol"), `http` (workload-http.ts) and `module` (workload-module.ts). Bounded in count
 * (`ops`, or the http cap) and time (each call within its timeout).
 */
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import type { History } from '../history/index.js';
import type { Scenario } from './format.js';
import { type ProtocolKind, protocolKinds } from './format.js';
import { Driver, finalWaitMs, type OpSource, Tally } from './workload-driver.js';
import { HttpDriver, httpTimeoutMs } from './workload-http.js';
import { loadModuleClient, moduleSource } from './workload-module.js';
import { protocolModels, protocolSource } from './workload-protocol.js';

export type WorkloadSpec = NonNullable<Scenario['workload']>;

export interface WorkloadOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Aborting it stops the workload at once: no final reads. */
  readonly signal?: AbortSignal;
  /** Progress lines (the start, the first error). */
  log?(line: string): void;
}

export interface RunningWorkload {
  /** The checker model its history fits (src/checker/models), or undefined (`http`; a module without). */
  readonly model: string | undefined;
  /**
   * Resolves when every op is issued and answered, or once stopped — before the final reads, which
   * `stop()` makes; rejects when the workload cannot run (a `module` that cannot be imported, a client
   * that throws).
   */
  readonly done: Promise<void>;
  /** Calls answered so far. */
  readonly opsSoFar: number;
  /** Calls that ended info, or fail for another reason than the protocol's refusal (409). */
  readonly errorsSoFar: number;
  /**
   * Stops issuing calls and waits for those in flight (each within its timeout), then — unless
   * `finalReads` is false or the signal aborted — makes the final reads (a kv scan, a set's or counter's
   * read, a queue's drain), waiting a bounded while for a service that does not answer yet (it may be
   * restarting after a heal). Once: a second call waits for the first. Resolves even when the workload
   * failed (`done` says why).
   */
  stop(options?: { finalReads?: boolean }): Promise<void>;
  /** The ops recorded so far. */
  history(): History;
}

function urlField(spec: { readonly url: string }): URL {
  const text = spec.url;
  const url = typeof text === 'string' && URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || url.protocol !== 'http:') {
    throw new FaultlineError(
      codes.config,
      `workload.url: expected an http:// URL, got ${JSON.stringify(text)}`,
      { details: { field: 'workload.url', expected: 'an http:// URL such as http://127.0.0.1:8080' } },
    );
  }
  return url;
}

/** A short id, different per run, that prefixes every key the protocol workloads touch. */
function runIdOf(options: WorkloadOptions): string {
  const draw = options.random.fork('run-id').int(36 ** 4);
  return `fl${Math.floor(options.clock.wallNow()).toString(36)}${draw.toString(36)}`;
}

/** Starts the workload; throws (FL_ERR_CONFIG, naming `workload.<field>`) on a field it cannot use. */
export function startWorkload(spec: WorkloadSpec, options: WorkloadOptions): RunningWorkload {
  const { clock, random, log } = options;
  if (spec.type === 'http') {
    const url = urlField(spec);
    const tally = new Tally(clock, httpTimeoutMs, log);
    const driver = new HttpDriver(tally, {
      url,
      ratePerSec: spec.ratePerSec,
      concurrency: spec.concurrency,
      clock,
    });
    log?.(`workload: http GET ${url.href} at ${spec.ratePerSec}/s, ${spec.concurrency} in flight at most`);
    return running(
      tally,
      undefined,
      driver.run(),
      () => driver.stop(),
      async () => {},
      options.signal,
    );
  }
  if (spec.type === 'module') {
    const path = spec.path;
    if (typeof path !== 'string' || path === '') {
      throw new FaultlineError(codes.config, 'workload.path: expected the path of an ES module', {
        details: { field: 'workload.path', expected: 'a path' },
      });
    }
    return startModule(path, options);
  }
  if (!(protocolKinds as readonly string[]).includes(spec.type)) {
    throw new FaultlineError(codes.config, `workload.type: unknown workload ${JSON.stringify(spec.type)}`, {
      details: { field: 'workload.type', expected: [...protocolKinds, 'http', 'module'].join(', ') },
    });
  }
  const kind = spec.type as ProtocolKind;
  const url = urlField(spec);
  const { clients, ops } = spec;
  const tally = new Tally(clock, spec.timeout, log);
  const driver = new Driver(tally, { clients, ops, random, clock, finalWaitMs: finalWaitMs(spec.timeout) });
  const source = protocolSource(kind, url.href, runIdOf(options));
  log?.(`workload: ${kind} against ${url.href}, ${clients} client(s), ${ops} op(s)`);
  return running(
    tally,
    protocolModels[kind],
    driver.run(source),
    (finalReads) => driver.stop(finalReads),
    () => driver.finish(),
    options.signal,
  );
}

/** A `module` workload: the module is imported first, so its errors come out of `done`. */
function startModule(path: string, options: WorkloadOptions): RunningWorkload {
  let driver: Driver | undefined;
  let stopped: boolean | undefined;
  let tally = new Tally(options.clock, 1000, options.log);
  let model: string | undefined;
  const run = (async (): Promise<void> => {
    const client = await loadModuleClient(path);
    const source: OpSource = moduleSource(path, client);
    const timeoutMs = client.timeoutMs ?? 1000;
    tally = new Tally(options.clock, timeoutMs, options.log, source.definite);
    model = client.model;
    driver = new Driver(tally, {
      clients: client.clients ?? 5,
      ops: client.ops ?? 1000,
      random: options.random,
      clock: options.clock,
      finalWaitMs: finalWaitMs(timeoutMs),
    });
    if (stopped !== undefined) driver.stop(stopped);
    options.log?.(`workload: module ${path}, ${client.clients ?? 5} client(s), ${client.ops ?? 1000} op(s)`);
    await driver.run(source);
  })();
  const workload = running(
    {
      get opsSoFar() {
        return tally.opsSoFar;
      },
      get errorsSoFar() {
        return tally.errorsSoFar;
      },
      history: () => tally.history(),
    },
    undefined,
    run,
    (finalReads) => {
      stopped = stopped === false ? false : finalReads;
      driver?.stop(finalReads);
    },
    () => driver?.finish() ?? Promise.resolve(),
    options.signal,
  );
  return Object.defineProperty(workload, 'model', { get: () => model });
}

type Progress = Pick<Tally, 'opsSoFar' | 'errorsSoFar' | 'history'>;

function running(
  tally: Progress,
  model: string | undefined,
  run: Promise<void>,
  stop: (finalReads: boolean) => void,
  final: () => Promise<void>,
  signal: AbortSignal | undefined,
): RunningWorkload {
  let stopping: Promise<void> | undefined;
  run.catch(() => undefined); // `done` reports it; stop() resolves regardless
  const onAbort = (): void => stop(false);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stop(false);
  const done = run.finally(() => signal?.removeEventListener('abort', onAbort));
  done.catch(() => undefined);
  return {
    model,
    done,
    get opsSoFar() {
      return tally.opsSoFar;
    },
    get errorsSoFar() {
      return tally.errorsSoFar;
    },
    async stop(stopOptions = {}) {
      stop(stopOptions.finalReads ?? true);
      // The final reads once the loops have ended well (a failed workload has nothing to read back).
      stopping ??= run.then(final, () => undefined);
      await stopping.catch(() => undefined);
    },
    history: () => tally.history(),
  };
}
