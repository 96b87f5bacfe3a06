import type { Operation } from '../history/index.js';
import { type Model, showState } from './model.js';
import {
  checkReadMapped,
  type ReadMappedFallback,
  type ReadMappedViolation,
  violationFrontier,
} from './read-mapped.js';
import {
  type SearchOptions,
  type SearchStatus,
  type SearchStrategy,
  searchStrategies,
  WglSearch,
} from './wgl-search.js';

/** Search budget for one partition: counts only, so the outcome never depends on timing. */
export interface PartitionBudget extends Omit<SearchOptions, 'strategy'> {
  /** The portfolio: strategies run side by side, sharing the budget (default every one, see `searchStrategies`). */
  readonly strategies?: readonly SearchStrategy[];
  /** Try the distinct-values algorithm before the search (default true). */
  readonly readMapped?: boolean;
}

/** The outcome of one partition's search, in plain data (a driver may carry it across threads). */
export interface PartitionOutcome {
  /** `timeout` and `aborted` come from the driver (`cut`); the rest from the search itself. */
  readonly status: 'linearizable' | 'not-linearizable' | 'memory' | 'steps' | 'timeout' | 'aborted';
  readonly steps: number;
  readonly cacheEntries: number;
  /** Peak bytes of the memos (and their state keys) held at once, over every strategy of the portfolio. */
  readonly memoryBytes: number;
  /** The strategy whose search decided (on `linearizable` and `not-linearizable`). */
  readonly strategy?: SearchStrategy;
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

/**
 * The WGL search over one partition's ops (no `fail`s), as a step function a driver pumps: pure, no
 * clock and no event loop. The driver decides when to pause (to yield, or because its time ran out).
 *
 * A portfolio: one independent search per strategy (see `SearchStrategy`), interleaved round robin in
 * slices of `sliceIterations` loop iterations in this one thread, so the outcome depends only on the
 * ops, the model and the budget. They share the budget: steps and cache entries count over all of
 * them, and a search may only grow its memo into the memory the others leave. The first verdict wins;
 * a search that runs out of memory is dropped and its memo freed, so the others can go on; the outcome
 * is `memory` only when the last one runs out.
 */
export class PartitionSearch<S> {
  private readonly searches: (WglSearch<S> | undefined)[];
  private readonly strategies: readonly SearchStrategy[];
  private readonly budget: PartitionBudget;
  private turn = 0;
  /** Steps of searches already dropped (they count against the shared step budget). */
  private droppedSteps = 0;
  private peakMemoryBytes = 0;
  private peakCacheEntries = 0;
  private decided: { status: Exclude<SearchStatus, 'paused'>; index: number } | undefined;
  /** The distinct-values algorithm's outcome, when it decided (then nothing is searched). */
  private readonly fastOutcome: PartitionOutcome | undefined;
  private readonly fallback: ReadMappedFallback | undefined;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly model: Model<S>,
    budget: PartitionBudget,
  ) {
    this.budget = budget;
    this.strategies = budget.strategies ?? searchStrategies;
    // O(n log n) when it applies, so it runs whole here, before any slicing.
    const fast = budget.readMapped === false ? undefined : checkReadMapped(ops, model);
    const none = { steps: 0, cacheEntries: 0, memoryBytes: 0, method: 'read-mapped' } as const;
    if (fast?.status === 'linearizable') this.fastOutcome = { status: 'linearizable', ...none };
    else if (fast?.status === 'not-linearizable') {
      const frontier = violationFrontier(ops, model, fast);
      if (frontier !== undefined)
        this.fastOutcome = { status: 'not-linearizable', ...none, frontier, violation: fast.violation };
    }
    if (fast?.status === 'not-applicable') this.fallback = fast.fallback;
    // The search steps the model specialised to these ops, if it has a specialisation (`forOps`);
    // explanations (`fits`, `show`) use the plain model.
    const searchModel = this.fastOutcome === undefined ? (model.forOps?.(ops) ?? model) : model;
    this.searches =
      this.fastOutcome === undefined
        ? this.strategies.map((strategy) => new WglSearch(ops, searchModel, { ...budget, strategy }))
        : [];
  }

  /**
   * Searches in slices, asking `pause()` after each round of slices: the outcome, or `undefined` when
   * `pause` said true first (call again to resume; the outcome is the same however the search was sliced).
   */
  runUntil(pause: () => boolean): PartitionOutcome | undefined {
    if (this.fastOutcome !== undefined) return this.fastOutcome;
    if (this.decided !== undefined) return this.outcome(this.decided.status);
    for (;;) {
      for (let k = 0; k < this.searches.length; k++) {
        const index = this.turn;
        this.turn = (this.turn + 1) % this.searches.length;
        const search = this.searches[index];
        if (search === undefined) continue;
        this.share(search);
        const status = search.run(sliceIterations);
        this.notePeaks();
        if (status === 'paused') continue;
        if (status === 'memory' && this.searches.some((other) => other !== undefined && other !== search)) {
          // Out of shared memory: it gives way, and its memo can be collected.
          this.droppedSteps += search.steps;
          this.searches[index] = undefined;
          continue;
        }
        // A verdict, or the last search out of memory, or the shared step budget spent.
        this.decided = { status, index: status === 'memory' || status === 'steps' ? -1 : index };
        return this.outcome(status);
      }
      if (pause()) return undefined;
    }
  }

  /** Gives up on the driver's word (its time ran out, or it was aborted), with the work done so far. */
  cut(status: 'timeout' | 'aborted'): PartitionOutcome {
    if (this.fastOutcome !== undefined)
      return { status, steps: 0, cacheEntries: 0, memoryBytes: 0, method: 'read-mapped' };
    return this.outcome(status);
  }

  /** Sets `search`'s limits to what the other live searches leave of the budget. */
  private share(search: WglSearch<S>): void {
    let steps = this.droppedSteps;
    let entries = 0;
    let bytes = 0;
    for (const other of this.searches) {
      if (other === undefined || other === search) continue;
      steps += other.steps;
      entries += other.cacheEntries;
      bytes += other.memoryBytes;
    }
    const { maxSteps, maxCacheEntries, maxMemoryBytes } = this.budget;
    search.limits.maxSteps = Math.max(0, maxSteps - steps);
    search.limits.maxCacheEntries = Math.max(0, maxCacheEntries - entries);
    search.limits.maxMemoryBytes = Math.max(0, maxMemoryBytes - bytes);
  }

  private notePeaks(): void {
    let entries = 0;
    let bytes = 0;
    for (const search of this.searches) {
      entries += search?.cacheEntries ?? 0;
      bytes += search?.memoryBytes ?? 0;
    }
    this.peakCacheEntries = Math.max(this.peakCacheEntries, entries);
    this.peakMemoryBytes = Math.max(this.peakMemoryBytes, bytes);
  }

  private outcome(status: PartitionOutcome['status']): PartitionOutcome {
    const { model, ops } = this;
    let steps = this.droppedSteps;
    for (const search of this.searches) steps += search?.steps ?? 0;
    const decider = this.decided === undefined ? undefined : this.searches[this.decided.index];
    const strategy = decider === undefined ? undefined : this.strategies[this.decided?.index as number];
    const base = {
      status,
      steps,
      cacheEntries: this.peakCacheEntries,
      memoryBytes: this.peakMemoryBytes,
      method: 'search' as const,
      ...(strategy === undefined ? {} : { strategy }),
      ...(this.fallback === undefined ? {} : { fallback: this.fallback }),
    };
    if (status !== 'not-linearizable' || decider === undefined) return base;
    const frontier = decider.frontier();
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
