import type { Operation } from '../history/index.js';
import type { Model } from './model.js';
import {
  checkReadMapped,
  type ReadMappedFallback,
  type ReadMappedViolation,
  violationFrontier,
} from './read-mapped.js';
import { type SearchOptions, WglSearch } from './wgl-search.js';

/**
 * Search budget for one partition: counts only, so the outcome never depends on timing. `readMapped`
 * (default true): try the distinct-values algorithm before the search.
 */
export type PartitionBudget = SearchOptions & { readonly readMapped?: boolean };

/** The outcome of one partition's search, in plain data (a driver may carry it across threads). */
export interface PartitionOutcome {
  /** `timeout` and `aborted` come from the driver (`cut`); the rest from the search itself. */
  readonly status: 'linearizable' | 'not-linearizable' | 'memory' | 'steps' | 'timeout' | 'aborted';
  readonly steps: number;
  readonly cacheEntries: number;
  readonly memoryBytes: number;
  /** On `not-linearizable`: the deepest configuration, by positions in the partition's search ops. */
  readonly frontier?: FrontierSummary;
  /** Which algorithm decided: the distinct-values one (src/checker/read-mapped.ts) or the search. */
  readonly method: 'read-mapped' | 'search';
  /** With `method: 'search'`: why the distinct-values algorithm did not apply (absent when it was off). */
  readonly fallback?: ReadMappedFallback;
  /** With `method: 'read-mapped'` and `not-linearizable`: the violation it found. */
  readonly violation?: ReadMappedViolation;
}

export interface FrontierSummary {
  readonly linearized: readonly number[];
  /** `model.show` of the state after each linearized op. */
  readonly states: readonly string[];
  readonly initialState: string;
  readonly unplaced: readonly { readonly op: number; readonly fits: boolean }[];
  readonly blocking: number | undefined;
}

/** Loop iterations between calls of `runUntil`'s `pause`: a few ms of search. */
const sliceIterations = 4096;

function showState<S>(model: Model<S>, state: S): string {
  return model.show === undefined ? String(model.key(state)) : model.show(state);
}

/**
 * The WGL search over one partition's ops (no `fail`s), as a step function a driver pumps: pure, no
 * clock and no event loop. The driver decides when to pause (to yield, or because its time ran out).
 */
export class PartitionSearch<S> {
  private readonly search: WglSearch<S> | undefined;
  /** The distinct-values algorithm's outcome, when it decided (then there is no search). */
  private readonly decided: PartitionOutcome | undefined;
  private readonly fallback: ReadMappedFallback | undefined;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly model: Model<S>,
    budget: PartitionBudget,
  ) {
    // O(n log n) when it applies, so it runs whole here, before any slicing.
    const fast = budget.readMapped === false ? undefined : checkReadMapped(ops, model);
    const none = { steps: 0, cacheEntries: 0, memoryBytes: 0, method: 'read-mapped' } as const;
    if (fast?.status === 'linearizable') this.decided = { status: 'linearizable', ...none };
    else if (fast?.status === 'not-linearizable') {
      const frontier = violationFrontier(ops, model, fast);
      if (frontier !== undefined)
        this.decided = { status: 'not-linearizable', ...none, frontier, violation: fast.violation };
    }
    if (fast?.status === 'not-applicable') this.fallback = fast.fallback;
    if (this.decided === undefined) this.search = new WglSearch(ops, model, budget);
  }

  /**
   * Searches in slices, asking `pause()` between them: the outcome, or `undefined` when `pause` said
   * true first (call again to resume; the outcome is the same however the search was sliced).
   */
  runUntil(pause: () => boolean): PartitionOutcome | undefined {
    if (this.decided !== undefined) return this.decided;
    const search = this.search as WglSearch<S>;
    for (;;) {
      const status = search.run(sliceIterations);
      if (status !== 'paused') return this.outcome(status);
      if (pause()) return undefined;
    }
  }

  /** Gives up on the driver's word (its time ran out, or it was aborted), with the work done so far. */
  cut(status: 'timeout' | 'aborted'): PartitionOutcome {
    if (this.decided !== undefined)
      return { status, steps: 0, cacheEntries: 0, memoryBytes: 0, method: 'read-mapped' };
    return this.outcome(status);
  }

  private outcome(status: PartitionOutcome['status']): PartitionOutcome {
    const { model, ops } = this;
    const search = this.search as WglSearch<S>;
    const base = {
      status,
      steps: search.steps,
      cacheEntries: search.cacheEntries,
      memoryBytes: search.memoryBytes,
      method: 'search' as const,
      ...(this.fallback === undefined ? {} : { fallback: this.fallback }),
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
}
