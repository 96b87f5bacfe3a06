import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CheckResult, Model, PartitionBudget, PartitionOutcome } from '../checker/index.js';
import {
  LinearizabilityRun,
  type LinearizabilitySearchOptions,
  type ModelSpec,
  modelSpecOf,
  type Partition,
} from '../checker/index.js';
import { requireNumber } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import type { Op } from '../history/index.js';
import { defaultMaxMemoryBytes, explainMemoryReason } from './memory-budget.js';
import { pumpPartition } from './pump.js';
import { clonesFaithfully, toWire, type WorkerReply, type WorkerRequest, workerRole } from './wire.js';

export interface LinearizabilityOptions extends LinearizabilitySearchOptions {
  /**
   * Memory of one partition's search (default: a quarter of the machine's available memory, at most
   * 4 GiB — see memory-budget.ts; the pure checker's own default is a fixed 192 MiB).
   */
  readonly maxMemoryBytes?: number;
  /** Give up with `'unknown'` after this long (default 60 000 ms; `Infinity` for no limit). */
  readonly timeoutMs?: number;
  /**
   * Check partitions on a worker thread too: `true` whenever there are two or more partitions, `'auto'`
   * (default) once the main thread has spent `parallelAfterMs` and the partitions still waiting look
   * like more work than a worker costs to start (about 200 ms at the rate so far). Only
   * built-in models (from `models` or `createModel`, whose options clone faithfully) with the real
   * clock go parallel; custom models always run in the main thread.
   * The verdict and counterexample are the same either way.
   */
  readonly parallel?: boolean | 'auto';
  /** For `parallel: 'auto'` (default 100 ms). */
  readonly parallelAfterMs?: number;
  /** The time budget's clock (default the real clock). */
  readonly clock?: Clock;
  /** Abort the check: the result is `'unknown'` with reason `aborted`. */
  readonly signal?: AbortSignal;
}

const defaultTimeoutMs = 60_000;
/** 'auto' starts a worker only if the partitions left look like at least this much work. */
const minParallelWorkMs = 200;

/**
 * Checks that `history` is linearizable with respect to `model`: the pure check of
 * src/checker/linearizability.ts, driven under a real-time budget, yielding to the event loop, and
 * with a worker thread for partitions when that pays. Throws only on a malformed history; a verdict —
 * including `'unknown'` when a budget runs out — is always a result. See docs/linearizability.md.
 */
export async function checkLinearizability<S>(
  history: readonly Op[],
  model: Model<S>,
  options: LinearizabilityOptions = {},
): Promise<CheckResult> {
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  if (timeoutMs !== Number.POSITIVE_INFINITY) requireNumber(timeoutMs, 'timeoutMs', { min: 0 });
  const maxMemoryBytes = options.maxMemoryBytes ?? defaultMaxMemoryBytes();
  const run = new LinearizabilityRun(history, model, { ...options, maxMemoryBytes });
  const spec = modelSpecOf(model as Model<unknown>);
  const { signal } = options;
  const limits = { clock, deadline: started + timeoutMs, signal };
  const parallel = options.parallel ?? 'auto';
  const parallelAfterMs = options.parallelAfterMs ?? 100;
  const canParallel =
    parallel !== false &&
    run.partitions.length >= 2 &&
    clock === realClock &&
    spec !== undefined &&
    clonesFaithfully(spec.options.initial) &&
    availableParallelism() >= 2;

  // 'auto': a worker costs tens of ms to start, so only when the work left looks longer than that.
  let opsDone = 0;
  const opsTotal = run.partitions.reduce((sum, partition) => sum + partition.ops.length, 0);
  const worthAWorker = (): boolean => {
    if (parallel === true) return true;
    const elapsed = clock.now() - started;
    if (elapsed < parallelAfterMs) return false;
    const projected = opsDone === 0 ? Number.POSITIVE_INFINITY : (elapsed / opsDone) * (opsTotal - opsDone);
    return projected >= minParallelWorkMs;
  };
  const record = (index: number, outcome: PartitionOutcome): void => {
    opsDone += (run.partitions[index] as Partition).ops.length;
    run.record(index, outcome);
  };

  let worker: PartitionWorker | undefined;
  let workerLoop: Promise<void> | undefined;
  let workerIndex: number | undefined;
  const startWorker = (): void => {
    const active = new PartitionWorker();
    worker = active;
    workerLoop = (async () => {
      // The worker takes the largest partitions, the main thread the smallest.
      for (let index = run.takeLast(); index !== undefined; index = run.takeLast()) {
        const partition = run.partitions[index] as Partition;
        workerIndex = index;
        const outcome = await active.check(
          partition,
          spec as ModelSpec,
          run.budget,
          limits.deadline - clock.now(),
        );
        if (outcome === undefined) {
          run.giveBack(index); // the worker failed: the main thread checks it instead
          return;
        }
        record(index, outcome);
      }
    })();
  };

  const onAbort = (): void => {
    run.stop('aborted');
    void worker?.terminate();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) run.stop('aborted');
    for (;;) {
      // A worker only pays while two or more partitions wait: one for each thread.
      if (canParallel && worker === undefined && run.waiting >= 2 && worthAWorker()) startWorker();
      const index = run.takeFirst();
      if (index === undefined) {
        if (workerLoop === undefined) break;
        // A failure found here makes the worker's partition moot: do not wait for it.
        if (workerIndex !== undefined && !run.needed(workerIndex)) await worker?.terminate();
        await workerLoop; // it may hand partitions back
        workerLoop = undefined;
        continue;
      }
      const outcome = await pumpPartition(run.search(index), limits, () => run.needed(index));
      record(index, outcome);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await worker?.terminate();
  }
  const result = run.result({ elapsedMs: clock.now() - started, workers: worker === undefined ? 0 : 1 });
  if (result.reason === undefined) return result;
  const reason = explainMemoryReason(result.reason, maxMemoryBytes, options.maxMemoryBytes === undefined);
  return { ...result, reason };
}

/** One worker thread checking partitions on request; `check` resolves undefined if the worker fails. */
class PartitionWorker {
  private readonly worker: Worker;
  private pending: ((reply: WorkerReply | undefined) => void) | undefined;
  private nextId = 0;
  private dead = false;

  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { role: workerRole } });
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', () => this.settle(undefined));
    this.worker.on('exit', () => this.settle(undefined));
  }

  async check(
    partition: Partition,
    model: ModelSpec,
    budget: PartitionBudget,
    remainingMs: number,
  ): Promise<PartitionOutcome | undefined> {
    if (this.dead) return undefined;
    const ops = partition.ops.map(toWire);
    if (!ops.every((op) => clonesFaithfully(op.input) && clonesFaithfully(op.output))) return undefined;
    const request: WorkerRequest = {
      id: this.nextId++,
      model: model.name,
      modelOptions: model.options,
      ops,
      remainingMs: Math.max(0, remainingMs),
      budget,
    };
    const reply = await new Promise<WorkerReply | undefined>((resolve) => {
      this.pending = resolve;
      try {
        this.worker.postMessage(request);
      } catch {
        this.settle(undefined); // a value that cannot be cloned: the main thread checks it
      }
    });
    return reply === undefined || 'error' in reply ? undefined : reply.outcome;
  }

  async terminate(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.settle(undefined);
    await this.worker.terminate();
  }

  private settle(reply: WorkerReply | undefined): void {
    if (reply === undefined) this.dead = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.(reply);
  }
}
