import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { requireNumber } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import type { Op, Operation, ProcessId } from '../history/op.js';
import { pairOperations } from '../history/op.js';
import {
  checkPartition,
  type PartitionBudget,
  type PartitionOutcome,
  toWire,
  type WorkerReply,
  type WorkerRequest,
  workerRole,
} from './linearizability-core.js';
import { describeOperation, type Model } from './model.js';
import { builtInModel } from './models/index.js';
import type { Anomaly, CheckResult } from './result.js';
import { pushTo } from './safety-support.js';

export interface LinearizabilityOptions {
  /** Give up with `'unknown'` after this long (default 60 000 ms; `Infinity` for no limit). */
  readonly timeoutMs?: number;
  /** Give up with `'unknown'` when one partition's memo holds this many configurations (default 20 million). */
  readonly maxCacheEntries?: number;
  /** Give up with `'unknown'` when one partition's memo needs more than this (default 192 MiB; the process's RSS runs about 1.5× that plus the heap in use). */
  readonly maxMemoryBytes?: number;
  /** Check each `model.partition` separately (default true): P-compositionality. */
  readonly partition?: boolean;
  /**
   * Check partitions on a worker thread too: `true` whenever there are two or more partitions, `'auto'`
   * (default) once the main thread has spent `parallelAfterMs` and the partitions still waiting look
   * like more work than a worker costs to start (about 200 ms at the rate so far). Only
   * built-in models with the real clock go parallel; custom models always run in the main thread.
   */
  readonly parallel?: boolean | 'auto';
  /** For `parallel: 'auto'` (default 100 ms). */
  readonly parallelAfterMs?: number;
  /** Lowe's memo (default true). False only to measure what it buys: the search may then be exponential. */
  readonly memoise?: boolean;
  /** The time budget's clock (default the real clock). */
  readonly clock?: Clock;
  /** Abort the check: the result is `'unknown'` with reason `aborted`. */
  readonly signal?: AbortSignal;
}

/** One op of a counterexample, with everything a timeline needs. */
export interface CounterexampleOp {
  /** Position in `LinearizabilityCounterexample.ops`; other fields refer to ops by this id. */
  readonly id: number;
  readonly process: ProcessId;
  readonly f: string;
  /** `fail` ops are shown but never took effect; `info` ops may or may not have. */
  readonly type: 'ok' | 'fail' | 'info';
  readonly input: unknown;
  /** The completion's value; `undefined` for `info` and `fail`. */
  readonly output: unknown;
  /** Invocation time (the history's ns). */
  readonly callTime: number;
  /** Completion time (ns), or `null` when the op never returned (`info`). */
  readonly returnTime: number | null;
  /** `index` of the invoke op in the history. */
  readonly invokeIndex: number;
  /** `index` of the completion op in the history, or `null` when the call was still open. */
  readonly completeIndex: number | null;
  /** Source line of the invocation, when the history came from a file. */
  readonly line: number | null;
  /** `write 3`, `read → 3`, `cas 1→2 (outcome unknown)`… */
  readonly description: string;
}

export interface LinearizabilityCounterexample {
  readonly model: string;
  /** The partition (e.g. the key) that fails; `null` when the history was checked whole. */
  readonly partition: string | null;
  /** Every op of the partition, in invocation order (including `fail`s and unknown-outcome reads). */
  readonly ops: readonly CounterexampleOp[];
  readonly initialState: string;
  /** The longest linearization found, in order, with the model state after each op. */
  readonly linearized: readonly { readonly op: number; readonly stateAfter: string }[];
  /** The state after `linearized` (the initial state if it is empty). */
  readonly stateAtFailure: string;
  /**
   * The ops that could go next at that point (invoked before the first pending return) yet none leads
   * to a linearization. `fits` is false when the model rejects the op in `stateAtFailure`.
   */
  readonly unplaced: readonly { readonly op: number; readonly fits: boolean }[];
  /** The unplaced op whose return came first: it must have taken effect by then, and cannot. */
  readonly blocking: number | null;
}

interface Partition {
  readonly key: string | null;
  /** Every paired op of the partition, in invocation order. */
  readonly all: readonly Operation[];
  /** What the search sees: no `fail`s, no unknown-outcome reads. */
  readonly ops: readonly Operation[];
}

interface Finished {
  readonly partition: Partition;
  readonly outcome: PartitionOutcome;
}

const defaultTimeoutMs = 60_000;
/** 'auto' starts a worker only if the partitions left look like at least this much work. */
const minParallelWorkMs = 200;
const defaultMaxCacheEntries = 20_000_000;
const defaultMaxMemoryBytes = 192 * 1024 * 1024;

/**
 * Checks that `history` is linearizable with respect to `model` (Wing & Gong's search with Lowe's
 * memoisation, partitioned by `model.partition`). Throws only on a malformed history; a verdict —
 * including `'unknown'` when the budget runs out — is always a result. See docs/linearizability.md.
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
  const budget: PartitionBudget = {
    clock,
    deadline: started + timeoutMs,
    signal: options.signal,
    memoise: options.memoise ?? true,
    maxCacheEntries: options.maxCacheEntries ?? defaultMaxCacheEntries,
    maxMemoryBytes: options.maxMemoryBytes ?? defaultMaxMemoryBytes,
  };
  const operations = pairOperations(history);
  for (const op of operations) model.validate?.(op);
  const partitions = partitionOperations(operations, model, options.partition ?? true);
  // Smallest first: the first failure found is then (nearly always) the smallest failing partition.
  partitions.sort((a, b) => a.ops.length - b.ops.length || compareKeys(a.key, b.key));

  const finished: Finished[] = [];
  let stop: 'found' | 'timeout' | 'aborted' | undefined;
  let next = 0;
  let last = partitions.length - 1;
  const retry: Partition[] = [];
  let worker: PartitionWorker | undefined;
  let workerLoop: Promise<void> | undefined;
  const parallel = options.parallel ?? 'auto';
  const canParallel =
    parallel !== false &&
    partitions.length >= 2 &&
    clock === realClock &&
    builtInModel(model.name) === (model as Model<unknown>) &&
    availableParallelism() >= 2;
  const parallelAfterMs = options.parallelAfterMs ?? 100;

  // 'auto': a worker costs tens of ms to start, so only when the work left looks longer than that.
  let opsDone = 0;
  const opsTotal = partitions.reduce((sum, partition) => sum + partition.ops.length, 0);
  const worthAWorker = (): boolean => {
    const elapsed = clock.now() - started;
    if (parallel === true) return true;
    if (elapsed < parallelAfterMs) return false;
    const projected = opsDone === 0 ? Number.POSITIVE_INFINITY : (elapsed / opsDone) * (opsTotal - opsDone);
    return projected >= minParallelWorkMs;
  };
  const record = (partition: Partition, outcome: PartitionOutcome): void => {
    finished.push({ partition, outcome });
    opsDone += partition.ops.length;
    if (outcome.status === 'not-linearizable') stop ??= 'found';
    else if (outcome.status === 'timeout' || outcome.status === 'aborted') stop ??= outcome.status;
  };
  const startWorker = (): void => {
    worker = new PartitionWorker();
    const active = worker;
    workerLoop = (async () => {
      // The worker takes the largest partitions, the main thread the smallest.
      while (stop === undefined && next <= last) {
        const partition = partitions[last--] as Partition;
        const outcome = await active.check(partition, model.name, budget);
        if (outcome === undefined) {
          retry.push(partition); // the worker failed: check it here instead
          return;
        }
        record(partition, outcome);
      }
    })();
  };

  const onAbort = (): void => {
    stop ??= 'aborted';
    void worker?.terminate();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) stop = 'aborted';
    while (stop === undefined) {
      if (canParallel && worker === undefined && next < last && worthAWorker()) startWorker();
      const partition = next <= last ? (partitions[next++] as Partition) : retry.shift();
      if (partition === undefined) {
        if (workerLoop === undefined) break;
        await workerLoop;
        workerLoop = undefined;
        continue;
      }
      record(partition, await checkPartition(partition.ops, model, budget));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await worker?.terminate();
  }
  return verdict(model, partitions.length, operations.length, finished, stop, clock.now() - started, worker);
}

function compareKeys(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

function partitionOperations<S>(
  operations: readonly Operation[],
  model: Model<S>,
  split: boolean,
): Partition[] {
  const searchable = (op: Operation): boolean =>
    op.type !== 'fail' && !(op.type === 'info' && model.readOnly?.(op) === true);
  const whole = (): Partition[] => [{ key: null, all: operations, ops: operations.filter(searchable) }];
  if (!split || model.partition === undefined) return whole();
  const groups = new Map<string, Operation[]>();
  for (const op of operations) {
    const key = model.partition(op);
    if (key === undefined) return whole();
    pushTo(groups, key, op);
  }
  return [...groups].map(([key, all]) => ({ key, all, ops: all.filter(searchable) }));
}

function verdict<S>(
  model: Model<S>,
  partitionCount: number,
  opCount: number,
  finished: readonly Finished[],
  stop: 'found' | 'timeout' | 'aborted' | undefined,
  elapsedMs: number,
  worker: PartitionWorker | undefined,
): CheckResult {
  let steps = 0;
  let cacheEntries = 0;
  let memoryBytes = 0;
  for (const { outcome } of finished) {
    steps += outcome.steps;
    cacheEntries = Math.max(cacheEntries, outcome.cacheEntries);
    memoryBytes = Math.max(memoryBytes, outcome.memoryBytes);
  }
  const stats = {
    ops: opCount,
    partitions: partitionCount,
    partitionsChecked: finished.length,
    configurations: steps,
    maxCacheEntries: cacheEntries,
    maxMemoryBytes: memoryBytes,
    workers: worker === undefined ? 0 : 1,
    elapsedMs: Math.round(elapsedMs * 1000) / 1000,
  };
  const failures = finished.filter(({ outcome }) => outcome.status === 'not-linearizable');
  if (failures.length > 0) {
    const smallest = failures.reduce((a, b) => (b.partition.ops.length < a.partition.ops.length ? b : a));
    const counterexample = explain(model, smallest.partition, smallest.outcome);
    return {
      checker: 'linearizability',
      valid: false,
      anomalies: [anomaly(counterexample, smallest.partition)],
      counterexample,
      stats,
    };
  }
  const memory = finished.find(({ outcome }) => outcome.status === 'memory');
  const reason =
    stop === 'timeout'
      ? `time budget ran out after ${Math.round(elapsedMs)} ms (${finished.filter(({ outcome }) => outcome.status === 'linearizable').length} of ${partitionCount} partitions checked)`
      : stop === 'aborted'
        ? 'aborted'
        : memory !== undefined
          ? `memory budget ran out on partition ${memory.partition.key ?? '(whole history)'} (${memory.outcome.cacheEntries} configurations cached)`
          : undefined;
  if (reason !== undefined)
    return { checker: 'linearizability', valid: 'unknown', anomalies: [], reason, stats };
  return { checker: 'linearizability', valid: true, anomalies: [], stats };
}

function explain<S>(
  model: Model<S>,
  partition: Partition,
  outcome: PartitionOutcome,
): LinearizabilityCounterexample {
  const frontier = outcome.frontier as NonNullable<PartitionOutcome['frontier']>;
  const idOf = new Map<Operation, number>(partition.all.map((op, id) => [op, id]));
  const searchId = (position: number): number => idOf.get(partition.ops[position] as Operation) as number;
  const describe = model.describe ?? describeOperation;
  const ops = partition.all.map(
    (op, id): CounterexampleOp => ({
      id,
      process: op.process,
      f: op.f,
      type: op.type,
      input: op.input,
      output: op.output,
      callTime: op.callTime,
      returnTime: op.type === 'info' ? null : op.returnTime,
      invokeIndex: op.invoke.index,
      completeIndex: op.complete === undefined ? null : op.complete.index,
      line: op.invoke.line ?? null,
      description: describe(op),
    }),
  );
  return {
    model: model.name,
    partition: partition.key,
    ops,
    initialState: frontier.initialState,
    linearized: frontier.linearized.map((position, k) => ({
      op: searchId(position),
      stateAfter: frontier.states[k] as string,
    })),
    stateAtFailure: frontier.states.at(-1) ?? frontier.initialState,
    unplaced: frontier.unplaced.map(({ op, fits }) => ({ op: searchId(op), fits })),
    blocking: frontier.blocking === undefined ? null : searchId(frontier.blocking),
  };
}

function anomaly(counterexample: LinearizabilityCounterexample, partition: Partition): Anomaly {
  const { ops, linearized, unplaced, stateAtFailure } = counterexample;
  const label = (id: number): string => {
    const op = ops[id] as CounterexampleOp;
    return `${op.description} by process ${String(op.process)}${op.line === null ? ` (op ${op.invokeIndex})` : ` (line ${op.line})`}`;
  };
  const where = counterexample.partition === null ? '' : ` in partition ${counterexample.partition}`;
  const through =
    linearized.length === 0 ? '' : `, through ${label((linearized.at(-1) as { op: number }).op)}`;
  const blocking =
    counterexample.blocking === null
      ? ''
      : `; ${label(counterexample.blocking)} must have taken effect before it returned`;
  const message =
    `not linearizable${where}: the longest linearizable prefix has ${linearized.length} of ${partition.ops.length} ops${through}, ` +
    `leaving the ${counterexample.model} in state ${stateAtFailure}; no next op fits: ${unplaced.map(({ op }) => label(op)).join('; ')}${blocking}`;
  const evidence: Op[] = [];
  for (const { op } of unplaced) {
    const operation = partition.all[op] as Operation;
    evidence.push(operation.invoke);
    if (operation.complete !== undefined) evidence.push(operation.complete);
  }
  return { type: 'non-linearizable', message, ops: evidence, partition: counterexample.partition };
}

/** One worker thread checking partitions on request; `check` resolves undefined if the worker fails. */
class PartitionWorker {
  private readonly worker: Worker;
  private pending: ((reply: WorkerReply | undefined) => void) | undefined;
  private nextId = 0;
  private dead = false;

  constructor() {
    this.worker = new Worker(new URL('./linearizability-worker.js', import.meta.url), {
      workerData: { role: workerRole },
    });
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', () => this.settle(undefined));
    this.worker.on('exit', () => this.settle(undefined));
  }

  async check(
    partition: Partition,
    model: string,
    budget: PartitionBudget,
  ): Promise<PartitionOutcome | undefined> {
    if (this.dead) return undefined;
    const request: WorkerRequest = {
      id: this.nextId++,
      model,
      ops: partition.ops.map(toWire),
      remainingMs: Math.max(0, budget.deadline - budget.clock.now()),
      memoise: budget.memoise,
      maxCacheEntries: budget.maxCacheEntries,
      maxMemoryBytes: budget.maxMemoryBytes,
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
