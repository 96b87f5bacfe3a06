import type { Clock } from '../core/clock.js';
import type { Op, Operation } from '../history/op.js';
import type { Model } from './model.js';
import { WglSearch } from './wgl-search.js';

/** Search budget for one partition. */
export interface PartitionBudget {
  readonly clock: Clock;
  /** `clock.now()` value at which to give up. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly memoise: boolean;
  readonly maxCacheEntries: number;
  readonly maxMemoryBytes: number;
}

/** The outcome of one partition's search, in plain data (it crosses worker boundaries). */
export interface PartitionOutcome {
  readonly status: 'linearizable' | 'not-linearizable' | 'memory' | 'timeout' | 'aborted';
  readonly steps: number;
  readonly cacheEntries: number;
  readonly memoryBytes: number;
  /** On `not-linearizable`: the deepest configuration, by positions in the partition's search ops. */
  readonly frontier?: FrontierSummary;
}

export interface FrontierSummary {
  readonly linearized: readonly number[];
  /** `model.show` of the state after each linearized op. */
  readonly states: readonly string[];
  readonly initialState: string;
  readonly unplaced: readonly { readonly op: number; readonly fits: boolean }[];
  readonly blocking: number | undefined;
}

/** Loop iterations between budget checks: a few ms of search. */
const sliceSteps = 4096;
/** Longest time the search holds the event loop before yielding (so aborts and workers get a turn). */
const yieldEveryMs = 25;

function showState<S>(model: Model<S>, state: S): string {
  return model.show === undefined ? String(model.key(state)) : model.show(state);
}

/** Runs the WGL search over one partition's ops (no `fail`s) within the budget. */
export async function checkPartition<S>(
  ops: readonly Operation[],
  model: Model<S>,
  budget: PartitionBudget,
): Promise<PartitionOutcome> {
  const search = new WglSearch(ops, model, budget);
  const { clock, deadline, signal } = budget;
  let lastYield = clock.now();
  for (;;) {
    const status = search.run(sliceSteps);
    if (status !== 'paused') return outcome(search, model, ops, status);
    const now = clock.now();
    if (now >= deadline) return outcome(search, model, ops, 'timeout');
    if (signal?.aborted) return outcome(search, model, ops, 'aborted');
    if (now - lastYield >= yieldEveryMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = clock.now();
      if (signal?.aborted) return outcome(search, model, ops, 'aborted');
    }
  }
}

function outcome<S>(
  search: WglSearch<S>,
  model: Model<S>,
  ops: readonly Operation[],
  status: PartitionOutcome['status'],
): PartitionOutcome {
  const base = {
    status,
    steps: search.steps,
    cacheEntries: search.cacheEntries,
    memoryBytes: search.memoryBytes,
  };
  if (status !== 'not-linearizable') return base;
  const frontier = search.frontier();
  const initial = model.init();
  const last = frontier.states.length === 0 ? initial : (frontier.states[frontier.states.length - 1] as S);
  return {
    ...base,
    frontier: {
      linearized: frontier.linearized,
      states: frontier.states.map((state) => showState(model, state)),
      initialState: showState(model, initial),
      unplaced: frontier.unplaced.map((op) => ({
        op,
        fits: model.step(last, ops[op] as Operation) !== undefined,
      })),
      blocking: frontier.blocking,
    },
  };
}

/** Marks the worker threads this checker starts (see linearizability-worker.ts). */
export const workerRole = 'faultline-linearizability';

/** An operation stripped to what models and the search read, so it clones cheaply and safely. */
export interface WireOperation {
  readonly process: number | string;
  readonly f: string;
  readonly type: 'ok' | 'fail' | 'info';
  readonly input: unknown;
  readonly output: unknown;
  readonly callTime: number;
  readonly returnTime: number;
  readonly invokeIndex: number;
  readonly completeIndex: number | null;
}

export interface WorkerRequest {
  readonly id: number;
  readonly model: string;
  readonly ops: readonly WireOperation[];
  readonly remainingMs: number;
  readonly memoise: boolean;
  readonly maxCacheEntries: number;
  readonly maxMemoryBytes: number;
}

export type WorkerReply =
  | { readonly id: number; readonly outcome: PartitionOutcome }
  | { readonly id: number; readonly error: string };

export function toWire(op: Operation): WireOperation {
  return {
    process: op.process,
    f: op.f,
    type: op.type,
    input: op.input,
    output: op.output,
    callTime: op.callTime,
    returnTime: op.returnTime,
    invokeIndex: op.invoke.index,
    completeIndex: op.complete === undefined ? null : op.complete.index,
  };
}

export function fromWire(wire: WireOperation): Operation {
  const invoke: Op = {
    process: wire.process,
    type: 'invoke',
    f: wire.f,
    value: wire.input,
    time: wire.callTime,
    index: wire.invokeIndex,
  };
  const complete: Op | undefined =
    wire.completeIndex === null
      ? undefined
      : {
          process: wire.process,
          type: wire.type,
          f: wire.f,
          value: wire.output,
          time: wire.returnTime,
          index: wire.completeIndex,
        };
  return { ...wire, invoke, complete };
}
