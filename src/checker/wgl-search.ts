import type { Operation } from '../history/index.js';
import { LinearizedSet } from './linearized-set.js';
import { MemoTable, mix32, zobrist } from './memo-table.js';
import { inputKey, type Model } from './model.js';
import { timeOrderedEvents } from './time-line.js';

/** Pending ops checked with `model.doomed` past the first pending return. */
const doomedLookahead = 16;

export type SearchStatus = 'linearizable' | 'not-linearizable' | 'memory' | 'steps' | 'paused';

/**
 * Where the search tries `info` ops (outcome unknown) among the candidates of a configuration:
 * - `definite-first`: after every `ok` candidate has failed. Cheap when the info ops are not needed,
 *   but one dead end late in a history then tries every subset of the info ops still pending.
 * - `time-order`: interleaved with the `ok` candidates by invocation. Finds the subset a dead end needs
 *   early, but places info ops that never took effect at every step where they fit.
 * No order wins on every history, so `PartitionSearch` runs several as a portfolio.
 */
export type SearchStrategy = 'definite-first' | 'time-order';

/** Every strategy, in the portfolio's default order. */
export const searchStrategies: readonly SearchStrategy[] = ['definite-first', 'time-order'];

/** Count budgets, which a portfolio may lower or raise between slices (they share one budget). */
export interface SearchLimits {
  maxCacheEntries: number;
  maxMemoryBytes: number;
  maxSteps: number;
}

export interface SearchOptions {
  /** Lowe's memo (default true); false only to measure what it buys. */
  readonly memoise: boolean;
  readonly maxCacheEntries: number;
  readonly maxMemoryBytes: number;
  /** Most configurations to visit (`steps`) before giving up with 'steps': a budget that does not depend on timing. */
  readonly maxSteps: number;
  /** Where info ops are tried (default `definite-first`). */
  readonly strategy?: SearchStrategy;
}

/** The deepest configuration the search reached: the explanation of a failure. */
export interface SearchFrontier<S> {
  /** Op ids (positions in the search's op list) in linearization order. */
  readonly linearized: readonly number[];
  /** The model state after each op of `linearized`. */
  readonly states: readonly S[];
  /** Ops that were next in line (invoked before the first pending return), none of which fits. */
  readonly unplaced: readonly number[];
  /** The op whose return came first among the unplaced: it must have taken effect by then. */
  readonly blocking: number | undefined;
}

/**
 * The Wing & Gong search with Lowe's memoisation, over `ok` and `info` operations (no `fail`s).
 *
 * The history is a doubly linked list of call and return entries in time order; `info` ops have no
 * return entry (they never return, so nothing has to wait for them and they may also never happen) and
 * sit in a second list of their own. A call before the first pending return is a candidate to
 * linearize next; linearizing it "lifts" its call and return out of the list and restarts the scan.
 * Reaching a return entry means that op had to take effect by now but no candidate order worked:
 * backtrack (unlift the last op and try the next candidate after it). Lowe's memo skips a configuration
 * (set of linearized ops, model state) already explored, which is what makes the search practical. Iterative, with an explicit stack; resumable in
 * slices so the caller can check budgets and yield.
 */
export class WglSearch<S> {
  private readonly model: Model<S>;
  private readonly ops: readonly Operation[];
  // Entry lists (see the constructor); -1 is "none".
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly entryOp: Int32Array;
  private readonly isCall: Uint8Array;
  private readonly returnEntry: Int32Array;
  private readonly isOk: Uint8Array;
  /** ok ops the model declares read-only: placed greedily when they fit (see `run`). */
  private readonly isPure: Uint8Array;
  /** Per stack frame: 1 if its op was placed greedily, so there are no alternatives to try there. */
  private readonly stackForced: Uint8Array;
  /** Sorted events as (op << 1 | isReturn), for explaining failures. */
  private readonly events: Int32Array;
  /** Per info op: the next info op invoked with the same f and input (its twin, see `run`), or -1. */
  private readonly twinAfter: Int32Array;
  private readonly callEntry: Int32Array;
  private readonly linearized: LinearizedSet;
  private readonly timeOrder: boolean;
  readonly limits: SearchLimits;
  private readonly zobrist: Uint32Array;
  private readonly memo: MemoTable | undefined;
  private readonly stateIds = new Map<string | number, number>();
  private stateBytes = 0;
  private readonly stackEntry: Int32Array;
  /** For info ops on the stack: the blocking return entry when they were chosen. */
  private readonly stackLimit: Int32Array;
  /** Scanning the info list (after the main list's candidates), up to the return entry `limit`. */
  private infoMode = false;
  private limit = 0;
  private readonly stackState: S[] = [];
  private depth = 0;
  private state: S;
  private bitsHash = 0;
  private okLeft = 0;
  private cursor: number;
  private bestDepth = 0;
  private bestDirty = false;
  /** The deepest linearization found: its ops, and the state after each (valid up to bestDepth). */
  private readonly bestOps: Int32Array;
  private readonly bestStates: S[] = [];
  /** How many leading stack frames still agree with bestOps: recording copies only the rest. */
  private bestAgree = 0;
  private finished: SearchStatus | undefined;
  /** Configurations visited (candidate steps the model accepted). */
  steps = 0;

  constructor(ops: readonly Operation[], model: Model<S>, options: SearchOptions) {
    this.ops = ops;
    this.model = model;
    this.limits = {
      maxCacheEntries: options.maxCacheEntries,
      maxMemoryBytes: options.maxMemoryBytes,
      maxSteps: options.maxSteps,
    };
    this.timeOrder = options.strategy === 'time-order';
    const n = ops.length;
    let returns = 0;
    this.isOk = new Uint8Array(n);
    this.isPure = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const op = ops[i] as Operation;
      if (op.type === 'ok') {
        this.isOk[i] = 1;
        returns++;
        if (model.readOnly?.(op) === true) this.isPure[i] = 1;
      }
    }
    this.okLeft = returns;
    const eventCount = n + returns;
    this.events = timeOrderedEvents(ops);
    // Entries: 0 heads the main list (ok calls and returns), 1 the info list (info calls; in time order
    // they join the main list); event k is entry k + 2. Entry numbers follow event order, so they
    // double as ranks in time.
    const size = eventCount + 2;
    this.next = new Int32Array(size).fill(-1);
    this.prev = new Int32Array(size).fill(-1);
    this.entryOp = new Int32Array(size).fill(-1);
    this.isCall = new Uint8Array(size);
    this.returnEntry = new Int32Array(n).fill(-1);
    this.callEntry = new Int32Array(n).fill(-1);
    this.twinAfter = new Int32Array(n).fill(-1);
    const lastOfClass = new Map<string, number>();
    const tails = [0, 1];
    for (let k = 0; k < eventCount; k++) {
      const entry = k + 2;
      const event = this.events[k] as number;
      const op = event >> 1;
      this.entryOp[entry] = op;
      if ((event & 1) === 1) this.returnEntry[op] = entry;
      else {
        this.isCall[entry] = 1;
        this.callEntry[op] = entry;
      }
      if (this.isOk[op] === 0 && model.stepsByValue === true) {
        // Only the first of a class of identical info ops is linked; lifting it links the next.
        const key = `${(ops[op] as Operation).f} ${inputKey(ops[op] as Operation)}`;
        const earlier = lastOfClass.get(key);
        lastOfClass.set(key, op);
        if (earlier !== undefined) {
          this.twinAfter[earlier] = op;
          continue;
        }
      }
      const list = this.isOk[op] === 1 || this.timeOrder ? 0 : 1;
      const tail = tails[list] as number;
      this.next[tail] = entry;
      this.prev[entry] = tail;
      tails[list] = entry;
    }
    this.linearized = new LinearizedSet(this.isOk);
    this.zobrist = zobrist(n);
    this.memo = options.memoise ? new MemoTable(this.linearized.maxKeyBytes) : undefined;
    this.stackEntry = new Int32Array(n);
    this.stackLimit = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.bestOps = new Int32Array(n);
    this.state = model.init();
    this.cursor = this.next[0] as number;
  }

  /** Explored configurations held by the memo. */
  get cacheEntries(): number {
    return this.memo?.size ?? 0;
  }

  /** Approximate bytes of the memo and the state keys it holds. */
  get memoryBytes(): number {
    return (this.memo?.bytes ?? 0) + this.stateBytes;
  }

  /** Over budget, counting the doubling the memo's next insertion may need (stop before, not after). */
  private overBudget(memo: MemoTable): boolean {
    return (
      memo.size >= this.limits.maxCacheEntries ||
      memo.bytesAfterNextAdd + this.stateBytes > this.limits.maxMemoryBytes
    );
  }

  /**
   * Runs up to `maxIterations` loop iterations; 'paused' means call again. Slicing never changes the
   * outcome: the search resumes exactly where it paused.
   *
   * Candidates at a configuration are the ok calls before the first return entry of the main list,
   * then the info calls invoked before that return. Trying ok ops first keeps unknown-outcome ops out of
   * the way until something needs them; an info op that never took effect would otherwise be tried
   * at every step, multiplying the configurations explored.
   *
   * A read-only ok op that fits the current state is placed at once with no alternatives (a partial-
   * order reduction): if any completion places it later, moving it to now is also a completion — it
   * changes no state, and every op that had to precede it is already placed. So if placing it now
   * fails, or was explored before, this whole configuration fails.
   *
   * Symmetry of identical info ops: an info op whose twin (an earlier-invoked info op with the same f
   * and input) is not yet linearized is no candidate — it is not even in the list: lifting an info op
   * links its next twin, unlifting unlinks it, so each class shows only its first unplaced op. Sound: take any completion from here that places it
   * next, and swap it with its twin — the twin goes here, it goes where the twin was (or nowhere if
   * the twin never took effect). The twin was invoked before it, so before now; it was invoked before
   * now, so before the twin's later place; neither has a return deadline; and the model's step of an
   * info op depends only on f and input (its output is undefined), so every state along the way is
   * the same (the model says so with `stepsByValue`). That is again a completion, and it places the twin next. For k pending `add 1`s of a
   * counter this turns 2^k subsets into k + 1 counts.
   */
  run(maxIterations: number): SearchStatus {
    if (this.finished !== undefined) return this.finished;
    const {
      next,
      prev,
      entryOp,
      isCall,
      returnEntry,
      isOk,
      isPure,
      twinAfter,
      callEntry,
      linearized,
      ops,
      model,
      memo,
    } = this;
    const zob = this.zobrist;
    let cursor = this.cursor;
    const maxSteps = this.limits.maxSteps;
    for (let iteration = 0; iteration < maxIterations; iteration++) {
      if (this.okLeft === 0) return this.finish('linearizable', cursor);
      if (!this.infoMode && cursor >= 0 && isCall[cursor] === 0) {
        // The first pending return: only ops invoked before it may go next. Now the info candidates.
        this.infoMode = true;
        this.limit = cursor;
        cursor = next[1] as number;
        continue;
      }
      if (cursor >= 0 && !(this.infoMode && cursor > this.limit)) {
        const opId = entryOp[cursor] as number;
        const nextState = model.step(this.state, ops[opId] as Operation);
        if (nextState !== undefined) {
          linearized.add(opId);
          const bitsHash = (this.bitsHash ^ (zob[opId] as number)) >>> 0;
          let fresh = true;
          if (memo !== undefined) {
            const stateId = this.internState(nextState);
            const length = linearized.encode(stateId);
            fresh = memo.add(
              mix32(bitsHash ^ Math.imul(stateId + 1, 0x27d4eb2f)),
              linearized.scratch,
              length,
            );
          }
          const forced = isPure[opId] === 1;
          if (fresh) {
            if (this.steps >= maxSteps) return this.finish('steps', cursor); // the set is never read again
            this.steps++;
            if (this.bestAgree > this.depth) this.bestAgree = this.depth;
            this.stackForced[this.depth] = forced ? 1 : 0;
            this.stackEntry[this.depth] = cursor;
            this.stackLimit[this.depth] = this.limit;
            this.stackState[this.depth] = this.state;
            this.depth++;
            this.state = nextState;
            this.bitsHash = bitsHash;
            this.okLeft -= isOk[opId] as number;
            // Lift: unlink the call entry, then its return entry (unlift relinks in reverse order).
            next[prev[cursor] as number] = next[cursor] as number;
            if ((next[cursor] as number) !== -1) prev[next[cursor] as number] = prev[cursor] as number;
            const ret = returnEntry[opId] as number;
            if (ret !== -1) {
              next[prev[ret] as number] = next[ret] as number;
              if ((next[ret] as number) !== -1) prev[next[ret] as number] = prev[ret] as number;
            }
            const after = twinAfter[opId] as number;
            if (after !== -1) {
              // Link its twin in time order: the lists stay sorted by entry number.
              const twinEntry = callEntry[after] as number;
              let at = prev[cursor] as number;
              while ((next[at] as number) !== -1 && (next[at] as number) < twinEntry) at = next[at] as number;
              next[twinEntry] = next[at] as number;
              prev[twinEntry] = at;
              if ((next[at] as number) !== -1) prev[next[at] as number] = twinEntry;
              next[at] = twinEntry;
            }
            if (this.depth > this.bestDepth) {
              this.bestDepth = this.depth;
              this.bestDirty = true; // recorded when the search first backs out of it, not per step
            }
            if (model.doomed !== undefined && this.frontierDoomed()) {
              cursor = -2; // some op that must still happen never can: this configuration fails
              continue;
            }
            if (memo !== undefined && this.overBudget(memo)) {
              return this.finish('memory', cursor);
            }
            this.infoMode = false;
            cursor = next[0] as number;
            continue;
          }
          linearized.remove(opId);
          if (forced)
            cursor = -2; // explored before with this read placed now: this configuration fails
          else cursor = next[cursor] as number;
        } else cursor = next[cursor] as number;
        if (cursor !== -2) continue;
      }
      // No candidate left here: the first pending return's op cannot take effect in time. Backtrack.
      if (this.bestDirty) this.recordBest();
      if (this.depth === 0) return this.finish('not-linearizable', cursor);
      this.depth--;
      const entry = this.stackEntry[this.depth] as number;
      const undoOp = entryOp[entry] as number;
      this.state = this.stackState[this.depth] as S;
      this.stackState[this.depth] = undefined as S; // let the state be collected
      linearized.remove(undoOp);
      this.bitsHash = (this.bitsHash ^ (zob[undoOp] as number)) >>> 0;
      this.okLeft += isOk[undoOp] as number;
      const after = twinAfter[undoOp] as number;
      if (after !== -1) {
        const twinEntry = callEntry[after] as number;
        next[prev[twinEntry] as number] = next[twinEntry] as number;
        if ((next[twinEntry] as number) !== -1) prev[next[twinEntry] as number] = prev[twinEntry] as number;
      }
      const ret = returnEntry[undoOp] as number;
      if (ret !== -1) {
        next[prev[ret] as number] = ret;
        if ((next[ret] as number) !== -1) prev[next[ret] as number] = ret;
      }
      next[prev[entry] as number] = entry;
      if ((next[entry] as number) !== -1) prev[next[entry] as number] = entry;
      // Resume after it, in the list it came from; after a greedily placed read there is nothing to try.
      this.infoMode = isOk[undoOp] === 0 && !this.timeOrder;
      this.limit = this.stackLimit[this.depth] as number;
      cursor = this.stackForced[this.depth] === 1 ? -2 : (next[entry] as number);
    }
    this.cursor = cursor;
    return 'paused';
  }

  /** The deepest configuration reached (meaningful once the search is over). */
  frontier(): SearchFrontier<S> {
    const linearized = Array.from(this.bestOps.subarray(0, this.bestDepth));
    const placed = new Uint8Array(this.ops.length);
    for (const op of linearized) placed[op] = 1;
    const unplaced: number[] = [];
    let blocking: number | undefined;
    for (const event of this.events) {
      const op = event >> 1;
      if (placed[op] === 1) continue;
      if ((event & 1) === 1) {
        blocking = op;
        break;
      }
      unplaced.push(op);
    }
    return { linearized, states: this.bestStates.slice(0, this.bestDepth), unplaced, blocking };
  }

  /**
   * True if the model says some pending ok op can never fit: it must still take effect, and states
   * only move forward, so the configuration fails. Checks the candidates, the first pending return,
   * and a bounded look-ahead past it (ops invoked later, e.g. the read that will expose an `info` op
   * placed too early).
   */
  private frontierDoomed(): boolean {
    const { next, isCall, entryOp, ops } = this;
    const doomed = this.model.doomed as NonNullable<Model<S>['doomed']>;
    let beyond = -1; // calls checked past the first pending return; -1 while still among the candidates
    for (
      let entry = next[0] as number;
      entry !== -1 && beyond < doomedLookahead;
      entry = next[entry] as number
    ) {
      if (isCall[entry] === 0) {
        if (beyond === -1) {
          beyond = 0;
          if (doomed(this.state, ops[entryOp[entry] as number] as Operation)) return true;
        }
        continue;
      }
      if (this.isOk[entryOp[entry] as number] === 0) continue; // an info op may never happen
      if (beyond >= 0) beyond++;
      if (doomed(this.state, ops[entryOp[entry] as number] as Operation)) return true;
    }
    return false;
  }

  private finish(status: SearchStatus, cursor: number): SearchStatus {
    this.cursor = cursor;
    this.finished = status;
    return status;
  }

  private internState(state: S): number {
    const key = this.model.key(state);
    let id = this.stateIds.get(key);
    if (id === undefined) {
      id = this.stateIds.size;
      this.stateIds.set(key, id);
      // The key (up to 2 bytes a char), the Map entry, and the state object the stacks hold.
      this.stateBytes += 128 + (typeof key === 'string' ? 2 * key.length : 8);
    }
    return id;
  }

  /**
   * Copies the stack past the frames it still shares with the last record: the total copied is at most
   * the steps taken, where copying the whole stack at every new depth would be quadratic.
   */
  private recordBest(): void {
    this.bestDirty = false;
    const { depth, bestOps, bestStates, stackEntry, stackState, entryOp } = this;
    for (let d = this.bestAgree; d < depth; d++) {
      bestOps[d] = entryOp[stackEntry[d] as number] as number;
      bestStates[d] = d + 1 < depth ? (stackState[d + 1] as S) : this.state;
    }
    this.bestAgree = depth;
  }
}
