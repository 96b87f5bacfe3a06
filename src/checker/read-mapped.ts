import type { Operation } from '../history/index.js';
import type { FrontierSummary } from './linearizability-core.js';
import { type Model, showState } from './model.js';
import { timeOrderedEvents } from './time-line.js';
import { WglSearch } from './wgl-search.js';

/**
 * Linearizability of a register whose written values are distinct, in O(n log n): with every value
 * written once, each read maps to the one write it saw, and the question is whether the order
 * constraints of those pairs can all hold (Gibbons & Korach, "Testing shared memories", SIAM J.
 * Comput. 1997: polynomial for read-mapped histories; the "zones" below are the formulation of Golab,
 * Li & Shah, "Analyzing consistency properties for fun and profit", PODC 2011). Written for faultline
 * from those papers.
 *
 * Every call and return sits on one ranked time line, sorted by (time, history index) exactly as
 * `WglSearch` does, so "x precedes y" (rank of x's return < rank of y's call) means the same in both
 * checkers. A *cluster* is a write of v with every ok read that returned v; the initial value is a
 * virtual write at −∞. `info` writes never return (return rank +∞); one whose value no read returned
 * is dropped, since never taking effect is allowed and a write nobody read never helps. Over a
 * cluster's ops, f = the first return and s = the last call: if f < s the value must be held through
 * [f, s] (a *forward zone*); else the whole cluster fits at one instant in [s, f] (a *backward zone*).
 * The history is linearizable iff every read's value was written (or is the initial value), no read
 * returned before its write was called, no two forward zones overlap, and no backward zone lies inside
 * a forward zone. Two writes of a value nobody read are no repetition (renaming one changes nothing);
 * a value read and written twice (or written and initial) is: then the caller searches instead.
 *
 * Pure: no clock, no I/O; the result depends only on the ops and the model.
 */

/** Why the distinct-values algorithm does not apply to a partition (then the search decides). */
export type ReadMappedFallback =
  | { readonly reason: 'no-register-access' }
  | { readonly reason: 'several-partitions' }
  /** `op` (a position in the partition's search ops) is neither a plain read nor a plain write. */
  | { readonly reason: 'not-read-write'; readonly op: number }
  /** `op` returns before it was called (times out of order): the zones assume every call precedes its return. */
  | { readonly reason: 'returns-before-call'; readonly op: number }
  /** Value `value`, which some read returned, is written by both ops (`first` is null: the initial value). */
  | {
      readonly reason: 'repeated-value';
      readonly value: string;
      readonly first: number | null;
      readonly second: number;
    };

/**
 * A cluster in a violation: its value, its write (`null`: the initial value), the op whose return
 * came first (`returned`; null for the initial value, which holds from the start) and the op called
 * last (`called`), by position in the partition's search ops.
 */
export interface ClusterWitness {
  readonly value: string;
  readonly write: number | null;
  readonly returned: number | null;
  readonly called: number;
}

export type ReadMappedViolation =
  /** `read` returned `value`, which no op wrote and which is not the initial value. */
  | { readonly kind: 'unwritten'; readonly read: number; readonly value: string; readonly initial: string }
  /** `read` returned `value` before `write`, its only write, was called. */
  | {
      readonly kind: 'read-before-write';
      readonly read: number;
      readonly write: number;
      readonly value: string;
    }
  /** Both values must be held over spans that overlap (`first`'s span starts first). */
  | { readonly kind: 'overlap'; readonly first: ClusterWitness; readonly second: ClusterWitness }
  /** `inner`'s ops must all take effect within the span over which `outer`'s value must be held. */
  | { readonly kind: 'inside'; readonly outer: ClusterWitness; readonly inner: ClusterWitness };

export type ReadMappedResult =
  | { readonly status: 'linearizable' }
  | {
      readonly status: 'not-linearizable';
      readonly violation: ReadMappedViolation;
      /** The read the violation is about. */
      readonly read: number;
      /** Every op the violation names, the read first, no repeats: a sub-history that fails on its own. */
      readonly ops: readonly number[];
    }
  | { readonly status: 'not-applicable'; readonly fallback: ReadMappedFallback };

interface Cluster {
  readonly value: string;
  /** Position of its write, or -1 for the initial value's virtual write. */
  readonly write: number;
  /** Rank of the first return (−∞ for the initial value) and that op (-1: none). */
  first: number;
  firstOp: number;
  /** Rank of the last call and that op. */
  last: number;
  lastOp: number;
}

/**
 * Decides `ops` (one partition's search ops: no `fail`s, no `info` reads need to be kept) when `model`
 * has `registerAccess` and values do not repeat; otherwise says why not.
 */
export function checkReadMapped<S>(ops: readonly Operation[], model: Model<S>): ReadMappedResult {
  const access = model.registerAccess;
  if (access === undefined) return notApplicable({ reason: 'no-register-access' });
  const n = ops.length;
  if (model.partition !== undefined && n > 0) {
    const key = model.partition(ops[0] as Operation);
    for (const op of ops) {
      if (model.partition(op) !== key) return notApplicable({ reason: 'several-partitions' });
    }
  }
  const isWrite = new Uint8Array(n);
  const values: string[] = new Array<string>(n);
  const read = new Set<string>();
  for (let i = 0; i < n; i++) {
    const op = ops[i] as Operation;
    const a = access.access(op);
    if (a === undefined) return notApplicable({ reason: 'not-read-write', op: i });
    values[i] = a.value;
    if (a.write) isWrite[i] = 1;
    else if (op.type === 'ok') read.add(a.value);
  }

  const { callRank, returnRank } = rankEvents(ops);
  for (let i = 0; i < n; i++) {
    if ((returnRank[i] as number) < (callRank[i] as number))
      return notApplicable({ reason: 'returns-before-call', op: i });
  }

  // One cluster per value some read returned: its write (or the initial value) and its reads.
  const clusters = new Map<string, Cluster>();
  const lone: Cluster[] = []; // writes nobody read: clusters of one op
  if (read.has(access.initial)) {
    const inf = Number.NEGATIVE_INFINITY; // held from the start; its reads set `last`
    clusters.set(access.initial, {
      value: access.initial,
      write: -1,
      first: inf,
      firstOp: -1,
      last: inf,
      lastOp: -1,
    });
  }
  for (let i = 0; i < n; i++) {
    if (isWrite[i] === 0) continue;
    const value = values[i] as string;
    const op = ops[i] as Operation;
    if (!read.has(value)) {
      // Unread: an `info` write may simply never have happened; an `ok` one still has to fit somewhere.
      if (op.type === 'ok') lone.push(writeCluster(value, i, callRank, returnRank));
      continue;
    }
    const seen = clusters.get(value);
    if (seen !== undefined) {
      return notApplicable({
        reason: 'repeated-value',
        value,
        first: seen.write === -1 ? null : seen.write,
        second: i,
      });
    }
    clusters.set(value, writeCluster(value, i, callRank, returnRank));
  }

  // Reads: each joins its value's cluster; the first violation in op order is reported.
  for (let i = 0; i < n; i++) {
    if (isWrite[i] === 1 || (ops[i] as Operation).type !== 'ok') continue;
    const value = values[i] as string;
    const c = clusters.get(value);
    if (c === undefined) return violation({ kind: 'unwritten', read: i, value, initial: access.initial });
    if (c.write >= 0 && (returnRank[i] as number) < (callRank[c.write] as number)) {
      return violation({ kind: 'read-before-write', read: i, write: c.write, value });
    }
    const r = returnRank[i] as number;
    if (r < c.first) {
      c.first = r;
      c.firstOp = i;
    }
    const k = callRank[i] as number;
    if (k > c.last) {
      c.last = k;
      c.lastOp = i;
    }
  }

  // Forward zones [first, last] must be disjoint: sorted by start, each must start after every
  // earlier one ended. (Ranks are distinct, so no two zone ends tie.)
  const forward: Cluster[] = [];
  const backward: Cluster[] = [...lone];
  for (const c of clusters.values()) (c.first < c.last ? forward : backward).push(c);
  forward.sort((a, b) => a.first - b.first);
  let reach: Cluster | undefined; // the zone seen so far that ends last
  for (const c of forward) {
    if (reach !== undefined && c.first < reach.last) {
      // reach's value is read (at reach.last) after c's value was in place (c.first): they overlap.
      const first = witness(reach);
      const second = witness(c);
      return violation({ kind: 'overlap', first, second });
    }
    if (reach === undefined || c.last > reach.last) reach = c;
  }
  // Disjoint forward zones sorted by start are sorted by end too: only the last one starting before a
  // backward zone can contain it.
  for (const c of backward) {
    let low = 0;
    let high = forward.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((forward[middle] as Cluster).first < c.last) low = middle + 1;
      else high = middle;
    }
    const outer = forward[low - 1];
    if (outer !== undefined && c.first < outer.last) {
      const o = witness(outer);
      const inner = witness(c);
      return violation({ kind: 'inside', outer: o, inner });
    }
  }
  return { status: 'linearizable' };
}

/** A cluster of just the write at position `write` (its reads join later). */
function writeCluster(
  value: string,
  write: number,
  callRank: Float64Array,
  returnRank: Float64Array,
): Cluster {
  const first = returnRank[write] as number;
  return { value, write, first, firstOp: write, last: callRank[write] as number, lastOp: write };
}

function witness(c: Cluster): ClusterWitness {
  return {
    value: c.value,
    write: c.write === -1 ? null : c.write,
    returned: c.firstOp === -1 ? null : c.firstOp,
    called: c.lastOp,
  };
}

/**
 * Every op a violation names, by position, the read first (for zones: the first cluster's last call),
 * then each cluster's write, first return and last call; no repeats.
 */
export function violationOps(v: ReadMappedViolation): number[] {
  switch (v.kind) {
    case 'unwritten':
      return [v.read];
    case 'read-before-write':
      return [v.read, v.write];
    case 'overlap':
    case 'inside': {
      const [a, b] = v.kind === 'overlap' ? [v.first, v.second] : [v.outer, v.inner];
      const ops = [a.called, a.write, a.returned, b.write, b.returned, b.called];
      return [...new Set(ops.filter((op): op is number => op !== null))];
    }
  }
}

function notApplicable(fallback: ReadMappedFallback): ReadMappedResult {
  return { status: 'not-applicable', fallback };
}

function violation(v: ReadMappedViolation): ReadMappedResult {
  const ops = violationOps(v);
  return { status: 'not-linearizable', violation: v, read: ops[0] as number, ops };
}

/** Ranks of every call and return on the shared time line; an op that never returned (`info`) has return rank +∞. */
function rankEvents(ops: readonly Operation[]): { callRank: Float64Array; returnRank: Float64Array } {
  const callRank = new Float64Array(ops.length);
  const returnRank = new Float64Array(ops.length).fill(Number.POSITIVE_INFINITY);
  timeOrderedEvents(ops).forEach((event, rank) => {
    ((event & 1) === 0 ? callRank : returnRank)[event >> 1] = rank;
  });
  return { callRank, returnRank };
}

/**
 * The explanation's frontier for a violation: the search run on just the ops the violation names (a
 * handful, non-linearizable on their own), mapped back to positions in `ops`. `unplaced` lists the
 * violation's ops that the sub-search did not place, the read first; `blocking` is the read (or, if the
 * sub-search placed it, the op it found blocking). Undefined if the sub-history linearizes after all
 * (a defect: the caller then searches the whole partition).
 */
export function violationFrontier<S>(
  ops: readonly Operation[],
  model: Model<S>,
  result: Extract<ReadMappedResult, { status: 'not-linearizable' }>,
): FrontierSummary | undefined {
  const involved = [...result.ops].sort((a, b) => a - b); // the search wants invocation order
  const sub = involved.map((position) => ops[position] as Operation);
  const search = new WglSearch(sub, model, {
    memoise: true,
    maxCacheEntries: Number.POSITIVE_INFINITY,
    maxMemoryBytes: Number.POSITIVE_INFINITY,
    maxSteps: Number.POSITIVE_INFINITY,
  });
  // At most 6 ops: 6! orders bound the loop many times over.
  if (search.run(1_000_000) !== 'not-linearizable') return undefined;
  const frontier = search.frontier();
  const show = (state: S): string => showState(model, state);
  const initial = model.init();
  const last = frontier.states.length === 0 ? initial : (frontier.states.at(-1) as S);
  const linearized = frontier.linearized.map((k) => involved[k] as number);
  const placed = new Set(linearized);
  const unplaced = result.ops
    .filter((position) => !placed.has(position))
    .map((op) => ({ op, fits: model.step(last, ops[op] as Operation) !== undefined }));
  const blocking = placed.has(result.read)
    ? frontier.blocking === undefined
      ? undefined
      : involved[frontier.blocking]
    : result.read;
  return {
    linearized,
    states: frontier.states.map(show),
    initialState: show(initial),
    unplaced,
    blocking,
  };
}

/** Names an op (a position in the partition's search ops) for messages, e.g. `write 3 by process 0 (line 4)`. */
export type OpLabel = (position: number) => string;

/** The violation in words: which read, which writes, what order real time forces and why it cannot be. */
export function describeViolation(v: ReadMappedViolation, label: OpLabel): string {
  const name = once(label);
  switch (v.kind) {
    case 'unwritten':
      return `${name(v.read)} returned ${v.value}, which no operation wrote (and the initial value is ${v.initial})`;
    case 'read-before-write':
      return `${name(v.read)} returned ${v.value} before ${name(v.write)}, the only write of ${v.value}, was called`;
    case 'overlap':
      return (
        `${span(v.first, name)}; ${span(v.second, name)}; the second span begins before the first ends, ` +
        `but the register holds one value at a time and each value is written once`
      );
    case 'inside': {
      const { inner, outer } = v;
      const where =
        inner.returned === inner.write && inner.called === inner.write
          ? `${name(inner.write as number)} must have taken effect between its call and its return`
          : `${inner.value}, written by ${name(inner.write as number)}, must have been in place at some instant ` +
            `between the call of ${name(inner.called)} and the return of ${name(inner.returned as number)}`;
      return `${span(outer, name)}; yet ${where}, inside that span: ${inner.value} would replace ${outer.value} while ${outer.value} must still hold, and each value is written once`;
    }
  }
}

/** Why the search decides instead, in words (`undefined` when there is nothing worth saying). */
export function describeFallback(fallback: ReadMappedFallback, label: OpLabel): string | undefined {
  switch (fallback.reason) {
    case 'no-register-access':
      return undefined;
    case 'several-partitions':
      return 'several keys checked as one partition';
    case 'not-read-write':
      return `${label(fallback.op)} is not a plain read or write`;
    case 'returns-before-call':
      return `${label(fallback.op)} returns before it was called`;
    case 'repeated-value':
      return fallback.first === null
        ? `values repeat: ${label(fallback.second)} writes the initial value ${fallback.value}, and a read returned it`
        : `values repeat: ${fallback.value} is written by ${label(fallback.first)} and by ${label(fallback.second)}`;
  }
}

/** The span over which a forward zone's value must hold, in words. */
function span(c: ClusterWitness, name: (position: number) => string): string {
  const until = `until after ${name(c.called)} was called (it read ${c.value})`;
  if (c.write === null) return `the initial value ${c.value} must hold from the start ${until}`;
  const written = c.returned === c.write ? '' : `, written by ${name(c.write)},`;
  return `${c.value}${written} must hold from before ${name(c.returned as number)} returned ${until}`;
}

/** A label the first time an op is named, its bare description after that: each op named once. */
function once(label: OpLabel): (position: number) => string {
  const named = new Map<number, string>();
  return (position) => {
    const seen = named.get(position);
    if (seen !== undefined) return seen;
    const full = label(position);
    const by = full.lastIndexOf(' by process '); // the last: a value may contain the words too
    named.set(position, `that ${by < 0 ? full : full.slice(0, by)}`);
    return full;
  };
}
