import { invalid, requireNumber } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import type { Op, Operation, ProcessId } from '../history/index.js';
import { pairOperations } from '../history/index.js';
import { type PartitionBudget, type PartitionOutcome, PartitionSearch } from './linearizability-core.js';
import { describeOperation, type Model } from './model.js';
import { describeFallback, describeViolation, type OpLabel, violationOps } from './read-mapped.js';
import type { Anomaly, CheckResult } from './result.js';
import { pushTo } from './safety-support.js';
import { type SearchStrategy, searchStrategies } from './wgl-search.js';

/**
 * The linearizability check itself, pure: no clock, no event loop, no threads. `checkLinearizabilitySync`
 * runs it whole; drivers (`checkLinearizability` in src/check-driver/, `faultline check`) pump a
 * `LinearizabilityRun` to add a real-time budget, yielding and worker threads. The verdict and its
 * counterexample depend only on the history, the model and the count budgets, never on timing or
 * parallelism: partitions have a fixed order and the first failing one in that order is reported.
 */

/** What the search may spend; every budget here is a count, so it gives the same verdict on any machine. */
export interface LinearizabilitySearchOptions {
  /** Give up with `'unknown'` when one partition's memo holds this many configurations (default 20 million). */
  readonly maxCacheEntries?: number;
  /** Give up with `'unknown'` when one partition's memo needs more than this (default 192 MiB; the process's RSS runs about 1.5× that plus the heap in use). */
  readonly maxMemoryBytes?: number;
  /** Give up with `'unknown'` when one partition's search visits this many configurations (default no limit). */
  readonly maxSteps?: number;
  /** Check each `model.partition` separately (default true): P-compositionality. */
  readonly partition?: boolean;
  /** Lowe's memo (default true). False only to measure what it buys: the search may then be exponential. */
  readonly memoise?: boolean;
  /**
   * Decide register partitions whose values do not repeat with the O(n log n) distinct-values algorithm
   * before searching (default true; models with `registerAccess`). False to measure the search alone.
   */
  readonly readMapped?: boolean;
  /**
   * Internal, for tests and measurements: the strategies for placing `info` ops that run side by side,
   * sharing the budget, the first verdict winning (default every one: `definite-first`, `time-order`).
   * See "Search strategies" in docs/linearizability.md.
   */
  readonly strategies?: readonly SearchStrategy[];
}

export interface LinearizabilitySyncOptions extends LinearizabilitySearchOptions {
  /**
   * A time budget, read from the caller's `now` (ms) between slices of a few ms of search: past it the
   * verdict is `'unknown'`. Needs `now`; without both there is no time limit.
   */
  readonly timeoutMs?: number;
  /** The caller's clock (ms), for `timeoutMs`; the checker reads no time of its own. */
  readonly now?: () => number;
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
  /**
   * When the distinct-values algorithm decided: why, in words — the read, the writes it conflicts with
   * and the order the real-time constraints force (`linearized` then only covers the ops it names).
   */
  readonly why?: string;
}

/** A partition: the ops of one independent object (or the whole history), in invocation order. */
export interface Partition {
  /** `model.partition` of its ops (canonical key text); `null` when the history is checked whole. */
  readonly key: string | null;
  /** Every paired op of the partition, in invocation order. */
  readonly all: readonly Operation[];
  /** What the search sees: no `fail`s, no unknown-outcome reads. */
  readonly ops: readonly Operation[];
}

const defaultMaxCacheEntries = 20_000_000;
const defaultMaxMemoryBytes = 192 * 1024 * 1024;

/**
 * One linearizability check, as partitions a driver hands out and outcomes it records. Partitions are
 * ordered smallest first (then by key), and that order decides which failure is reported: the first
 * failing partition in it. A failure at position p makes every partition after p moot, but those
 * before p must still be checked — so a driver that checks partitions out of order (a worker taking
 * the largest ones) reports what a serial check would.
 */
export class LinearizabilityRun<S> {
  readonly model: Model<S>;
  /** In decision order: smallest first, then by key. */
  readonly partitions: readonly Partition[];
  readonly opCount: number;
  readonly budget: PartitionBudget;
  private readonly outcomes: (PartitionOutcome | undefined)[];
  private next = 0;
  private last: number;
  private readonly returned: number[] = [];
  private firstFailure = Number.POSITIVE_INFINITY;
  private stopped: 'timeout' | 'aborted' | undefined;

  /** Pairs, validates and partitions the history; throws only on a malformed history. */
  constructor(history: readonly Op[], model: Model<S>, options: LinearizabilitySearchOptions = {}) {
    const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
    if (maxSteps !== Number.POSITIVE_INFINITY) requireNumber(maxSteps, 'maxSteps', { min: 0 });
    this.model = model;
    this.budget = {
      memoise: options.memoise ?? true,
      maxCacheEntries: requireNumber(options.maxCacheEntries ?? defaultMaxCacheEntries, 'maxCacheEntries', {
        min: 0,
      }),
      maxMemoryBytes: requireNumber(options.maxMemoryBytes ?? defaultMaxMemoryBytes, 'maxMemoryBytes', {
        min: 0,
      }),
      maxSteps,
      readMapped: options.readMapped ?? true,
      ...(options.strategies === undefined ? {} : { strategies: checkStrategies(options.strategies) }),
    };
    const operations = pairOperations(history);
    for (const op of operations) model.validate?.(op);
    this.opCount = operations.length;
    const partitions = partitionOperations(operations, model, options.partition ?? true);
    // Smallest first: the first failure is then (nearly always) the smallest failing partition.
    partitions.sort((a, b) => a.ops.length - b.ops.length || compareKeys(a.key, b.key));
    this.partitions = partitions;
    this.outcomes = new Array<PartitionOutcome | undefined>(partitions.length).fill(undefined);
    this.last = partitions.length - 1;
  }

  /** True while checking partition `index` can still change the verdict. */
  needed(index: number): boolean {
    return this.stopped === undefined && index < this.firstFailure && this.outcomes[index] === undefined;
  }

  /** The next partition from the front (the smallest left), or undefined when none is needed. */
  takeFirst(): number | undefined {
    while (this.next <= this.last) {
      const index = this.next++;
      if (this.needed(index)) return index;
    }
    while (this.returned.length > 0) {
      const index = this.returned.shift() as number;
      if (this.needed(index)) return index;
    }
    return undefined;
  }

  /** The next partition from the back (the largest left), for a second checker; undefined when none. */
  takeLast(): number | undefined {
    while (this.next <= this.last) {
      const index = this.last--;
      if (this.needed(index)) return index;
    }
    return undefined;
  }

  /** Partitions not yet taken (or handed back): at most this many are still to be checked. */
  get waiting(): number {
    return this.last - this.next + 1 + this.returned.length;
  }

  /** Hands a taken partition back unchecked (its checker failed): `takeFirst` gives it out again. */
  giveBack(index: number): void {
    this.returned.push(index);
  }

  /** A search over partition `index`, for the driver to pump. */
  search(index: number): PartitionSearch<S> {
    return new PartitionSearch((this.partitions[index] as Partition).ops, this.model, this.budget);
  }

  /**
   * Records the outcome of partition `index`; a `timeout` or `aborted` one stops the whole run. An outcome
   * for a partition made moot meanwhile (an earlier one failed, or the run stopped) changes nothing.
   */
  record(index: number, outcome: PartitionOutcome): void {
    if (!this.needed(index)) return;
    this.outcomes[index] = outcome;
    if (outcome.status === 'not-linearizable') this.firstFailure = Math.min(this.firstFailure, index);
    else if (outcome.status === 'timeout' || outcome.status === 'aborted') this.stopped ??= outcome.status;
  }

  /** Stops the run (the driver's time ran out, or it was aborted): no partition is needed any more. */
  stop(reason: 'timeout' | 'aborted'): void {
    this.stopped ??= reason;
  }

  /** The verdict from the outcomes recorded; `elapsedMs` and `workers` are the driver's, for `stats`. */
  result(driver: { readonly elapsedMs?: number; readonly workers?: number } = {}): CheckResult {
    const elapsedMs = driver.elapsedMs ?? 0;
    let steps = 0;
    let cacheEntries = 0;
    let memoryBytes = 0;
    let checked = 0;
    let readMapped = 0;
    const strategies = new Map<string, number>();
    for (const outcome of this.outcomes) {
      if (outcome === undefined) continue;
      checked++;
      if (outcome.method === 'read-mapped') readMapped++;
      if (outcome.strategy !== undefined)
        strategies.set(outcome.strategy, (strategies.get(outcome.strategy) ?? 0) + 1);
      steps += outcome.steps;
      cacheEntries = Math.max(cacheEntries, outcome.cacheEntries);
      memoryBytes = Math.max(memoryBytes, outcome.memoryBytes);
    }
    const count = this.partitions.length;
    const decidedBy = this.decidedBy(strategies);
    // Partitions each strategy of the portfolio decided, e.g. decidedByTimeOrder.
    const byStrategy = Object.fromEntries(
      [...strategies].map(([strategy, count]) => [
        `decidedBy${strategy.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase())}`,
        count,
      ]),
    );
    const stats = {
      ops: this.opCount,
      partitions: count,
      partitionsChecked: checked,
      partitionsReadMapped: readMapped,
      partitionsSearched: checked - readMapped,
      configurations: steps,
      maxCacheEntries: cacheEntries,
      maxMemoryBytes: memoryBytes,
      // The budget used (the driver's default depends on the memory available): give it back to repeat a run.
      memoryBudgetBytes: this.budget.maxMemoryBytes,
      workers: driver.workers ?? 0,
      elapsedMs: Math.round(elapsedMs * 1000) / 1000,
      ...byStrategy,
    };
    if (this.firstFailure !== Number.POSITIVE_INFINITY) {
      const partition = this.partitions[this.firstFailure] as Partition;
      const counterexample = explain(
        this.model,
        partition,
        this.outcomes[this.firstFailure] as PartitionOutcome,
      );
      return {
        checker: 'linearizability',
        valid: false,
        anomalies: [
          anomaly(
            this.model,
            counterexample,
            partition,
            this.outcomes[this.firstFailure] as PartitionOutcome,
          ),
        ],
        counterexample,
        decidedBy,
        stats,
      };
    }
    const reason = this.unknownReason(elapsedMs, checked);
    if (reason !== undefined)
      return { checker: 'linearizability', valid: 'unknown', anomalies: [], reason, decidedBy, stats };
    return { checker: 'linearizability', valid: true, anomalies: [], decidedBy, stats };
  }

  /**
   * `the distinct-values algorithm (3 partitions), the search (1 partition by time-order; values repeat: …)`: which algorithm
   * decided the partitions checked, and the first reason (in partition order) the search was needed.
   */
  private decidedBy(strategies: ReadonlyMap<string, number>): string {
    let fast = 0;
    let searched = 0;
    let why: string | undefined;
    let reasons = 0;
    this.outcomes.forEach((outcome, index) => {
      if (outcome === undefined) return;
      if (outcome.method === 'read-mapped') {
        fast++;
        return;
      }
      searched++;
      if (outcome.fallback === undefined) return;
      const partition = this.partitions[index] as Partition;
      const text = describeFallback(outcome.fallback, opLabel(this.model, partition));
      if (text === undefined) return;
      reasons++;
      why ??= partition.key === null ? text : `in partition ${partition.key}, ${text}`;
    });
    const plural = (k: number): string => `${k} partition${k === 1 ? '' : 's'}`;
    const parts: string[] = [];
    if (fast > 0) parts.push(`the distinct-values algorithm (${plural(fast)})`);
    if (searched > 0) {
      const more = reasons > 1 ? `; ${reasons - 1} more` : '';
      const by = [...strategies];
      const count =
        by.length === 0
          ? plural(searched)
          : by.length === 1 && (by[0] as [string, number])[1] === searched
            ? `${plural(searched)} by ${(by[0] as [string, number])[0]}`
            : `${plural(searched)}: ${by.map(([strategy, k]) => `${k} by ${strategy}`).join(', ')}`;
      parts.push(`the search (${why === undefined ? count : `${count}; ${why}${more}`})`);
    }
    return parts.length === 0 ? 'nothing (no partition was checked)' : parts.join(', ');
  }

  private unknownReason(elapsedMs: number, checked: number): string | undefined {
    const decided = this.outcomes.filter((outcome) => outcome?.status === 'linearizable').length;
    if (this.stopped === 'timeout')
      return `time budget ran out after ${Math.round(elapsedMs)} ms (${decided} of ${this.partitions.length} partitions checked)`;
    if (this.stopped === 'aborted') return 'aborted';
    // The first in partition order, so the reason too is the same however the run was scheduled.
    const index = this.outcomes.findIndex((o) => o?.status === 'memory' || o?.status === 'steps');
    if (index >= 0) {
      const outcome = this.outcomes[index] as PartitionOutcome;
      const where = `partition ${this.partitions[index]?.key ?? '(whole history)'}`;
      return outcome.status === 'memory'
        ? `memory budget ran out on ${where} (${outcome.cacheEntries} configurations cached)`
        : `step budget ran out on ${where} (${outcome.steps} configurations visited)`;
    }
    if (checked < this.partitions.length) return 'not every partition was checked';
    return undefined;
  }
}

/**
 * Checks that `history` is linearizable with respect to `model` (Wing & Gong's search with Lowe's
 * memoisation, partitioned by `model.partition`), synchronously and purely: budgets are counts, or a
 * time budget on the caller's `now`. Throws only on a malformed history or a bad option; a verdict —
 * including `'unknown'` when a budget runs out — is always a result. See docs/linearizability.md.
 */
export function checkLinearizabilitySync<S>(
  history: readonly Op[],
  model: Model<S>,
  options: LinearizabilitySyncOptions = {},
): CheckResult {
  const { now, timeoutMs } = options;
  if (timeoutMs !== undefined && now === undefined) {
    throw new FaultlineError(
      codes.invalidArgument,
      'timeoutMs needs now: the pure checker reads no clock of its own; pass now (e.g. () => performance.now()) or use maxSteps',
      { details: { field: 'now', expected: 'a function returning milliseconds' } },
    );
  }
  if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY)
    requireNumber(timeoutMs, 'timeoutMs', { min: 0 });
  const run = new LinearizabilityRun(history, model, options);
  const started = now?.() ?? 0;
  const deadline = started + (timeoutMs ?? Number.POSITIVE_INFINITY);
  const late = now === undefined ? () => false : () => now() >= deadline;
  for (let index = run.takeFirst(); index !== undefined; index = run.takeFirst()) {
    const search = run.search(index);
    run.record(index, search.runUntil(late) ?? search.cut('timeout'));
  }
  return run.result({ elapsedMs: (now?.() ?? 0) - started });
}

function checkStrategies(strategies: readonly SearchStrategy[]): readonly SearchStrategy[] {
  const valid = strategies.length > 0 && strategies.every((s) => searchStrategies.includes(s));
  if (!valid || new Set(strategies).size !== strategies.length) {
    const expected = searchStrategies.map((s) => JSON.stringify(s)).join(', ');
    throw invalid(
      'strategies',
      `expected distinct strategies among ${expected}, got ${JSON.stringify(strategies)}`,
      expected,
    );
  }
  return [...strategies];
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
    ...(outcome.violation === undefined
      ? {}
      : { why: describeViolation(outcome.violation, opLabel(model, partition)) }),
  };
}

/** `write 3 by process 0 (line 4)` for an op by its position in the partition's search ops. */
function opLabel<S>(model: Model<S>, partition: Partition): OpLabel {
  const describe = model.describe ?? describeOperation;
  return (position) => {
    const op = partition.ops[position] as Operation;
    const line = op.invoke.line;
    return `${describe(op)} by process ${String(op.process)} (${line === undefined ? `op ${op.invoke.index}` : `line ${line}`})`;
  };
}

/** `, which returned the initial value null,` for a register read of the initial value, else empty. */
function initialRead<S>(model: Model<S>, op: Operation): string {
  const access = model.registerAccess;
  const read = op.type === 'ok' ? access?.access(op) : undefined;
  if (access === undefined || read === undefined || read.write || read.value !== access.initial) return '';
  return `, which returned the initial value ${access.initial} (so before any other value was written),`;
}

function anomaly<S>(
  model: Model<S>,
  counterexample: LinearizabilityCounterexample,
  partition: Partition,
  outcome: PartitionOutcome,
): Anomaly {
  const { ops, linearized, unplaced, stateAtFailure, initialState, blocking } = counterexample;
  const label = (id: number): string => {
    const op = ops[id] as CounterexampleOp;
    return `${op.description} by process ${String(op.process)}${op.line === null ? ` (op ${op.invokeIndex})` : ` (line ${op.line})`}`;
  };
  const where = counterexample.partition === null ? '' : ` in partition ${counterexample.partition}`;
  let message: string;
  if (outcome.violation !== undefined) {
    message = `not linearizable${where}: ${describeViolation(outcome.violation, opLabel(model, partition))}`;
  } else {
    // Each op named once: how far the prefix got, the op that had to take effect, the other candidates.
    const others = unplaced.filter(({ op }) => op !== blocking).map(({ op }) => label(op));
    const stuck =
      blocking === null
        ? `no next op fits: ${others.join('; ')}`
        : `${label(blocking)}${initialRead(model, partition.all[blocking] as Operation)} must have taken effect before it returned, and cannot` +
          (others.length === 0 ? '' : `; nor can any other op go next: ${others.join('; ')}`);
    const initial = stateAtFailure === initialState;
    const state = initial
      ? `the ${counterexample.model} in its initial state ${initialState}${linearized.length === 0 ? '' : ' again'}`
      : `the ${counterexample.model} in state ${stateAtFailure}`;
    const prefix =
      linearized.length === 0
        ? `no op can take effect first, with ${state}`
        : `the longest linearizable prefix has ${linearized.length} of ${partition.ops.length} ops, through ${label((linearized.at(-1) as { op: number }).op)}, leaving ${state}`;
    message = `not linearizable${where}: ${prefix}; ${stuck}`;
  }
  // The ops to blame: the violation's (the read first), or the search's candidates left unplaced.
  const idOf = new Map<Operation, number>(partition.all.map((op, id) => [op, id]));
  const blamed =
    outcome.violation === undefined
      ? unplaced.map(({ op }) => op)
      : violationOps(outcome.violation).map(
          (position) => idOf.get(partition.ops[position] as Operation) as number,
        );
  const evidence: Op[] = [];
  for (const op of blamed) {
    const operation = partition.all[op] as Operation;
    evidence.push(operation.invoke);
    if (operation.complete !== undefined) evidence.push(operation.complete);
  }
  return { type: 'non-linearizable', message, ops: evidence, partition: counterexample.partition };
}
