import { historyError, type Operation, valueKey } from '../history/index.js';

/**
 * A sequential specification for the linearizability checker: the object as it would behave if every
 * operation took effect atomically, one at a time.
 *
 * States must be immutable: `step` returns a new state (or the same one when nothing changes) and never
 * mutates its argument, because the search keeps earlier states to backtrack to.
 *
 * How operations reach `step`:
 * - `ok` ops: `op.input` is the invocation's value, `op.output` the completion's value (what was read).
 * - `info` ops (outcome unknown): `op.output` is `undefined`. The search may apply the op at any point
 *   after its invocation, or never; `step` only says what happens *if* it takes effect. So a read `info`
 *   constrains nothing (declare it `readOnly` and it is dropped) and a write `info` returns the written
 *   state. An op that would have had no effect if it ran (a `cas` whose old value does not match) may
 *   return `undefined`: "it never took effect" is always an option for `info` ops.
 * - `fail` ops did not take effect and never reach the model (they are validated, then dropped).
 */
export interface Model<S> {
  /** The name the registry and reports use (`register`, `kv`, …). */
  readonly name: string;
  /** The initial state. */
  init(): S;
  /** The state after `op` takes effect in `state`, or `undefined` if `op` cannot happen there. */
  step(state: S, op: Operation): S | undefined;
  /**
   * The memo key of a state: equal states must give equal keys and different states different keys
   * (a collision would let the search skip a state it never explored).
   */
  key(state: S): string | number;
  /**
   * P-compositionality: the independent object this op touches (e.g. the key of a key-value op). Ops of
   * different partitions are checked separately. If any op returns `undefined` the history is checked
   * as one partition.
   */
  partition?(op: Operation): string | undefined;
  /**
   * True if the op never changes the state (a read): `step` returns the state itself or `undefined`.
   * Its `info` instances constrain nothing and are dropped, and an `ok` one that fits is placed at once.
   */
  readOnly?(op: Operation): boolean;
  /**
   * Optional pruning: true if the `ok` op fits no state reachable from `state` (e.g. an append-only
   * list already longer than, or diverged from, what a read returned). Must never say true wrongly.
   */
  doomed?(state: S, op: Operation): boolean;
  /** Throws `historyError` naming the op's line and the expected shape if `f` or a value is malformed. */
  validate?(op: Operation): void;
  /** A short text for the op in explanations, e.g. `write 3`, `read → 3`, `cas 1→2`. */
  describe?(op: Operation): string;
  /** A short text for a state in explanations; defaults to `String(key(state))`. */
  show?(state: S): string;
  /**
   * True if `step` reads nothing of an op but `f`, the input and output by value (`valueKey`) — not its
   * process, time or identity. Then two pending `info` ops with the same `f` and input are
   * interchangeable, and the search tries only the earliest invoked of them (a symmetry reduction that
   * turns 2^k subsets of k pending `add 1`s into k + 1 counts). Every built-in model says so; leave it
   * unset if your `step` looks at anything else.
   */
  readonly stepsByValue?: boolean;
  /**
   * Optional: the model is a register per partition (register, cas-register, kv per key), and this says
   * how each op reads or writes it. When every value some read returned is written at most once, the
   * checker then decides the partition in O(n log n) (src/checker/read-mapped.ts) instead of searching.
   */
  readonly registerAccess?: RegisterAccess;
  /**
   * Optional: this model specialised to one partition's ops, called once before that partition's search
   * with exactly the ops the search will step (no `fail`s, no dropped read-only `info` ops). It must
   * accept a linearization of those ops iff this model does, but its `step` and `doomed` may use facts
   * about the whole partition to cut dead ends sooner (e.g. the fifo-queue model knows which values
   * some `ok` dequeue still has to return). `init`, `key` and `show` must agree with this model's.
   */
  forOps?(ops: readonly Operation[]): Model<S>;
}

/** How the ops of a register model read and write their one register (per partition). */
export interface RegisterAccess {
  /** `valueKey` of the initial value (of every partition: kv keys all start at `null`). */
  readonly initial: string;
  /**
   * A plain write of `value` or a plain read returning `value` (`valueKey`; for an `info` read, any),
   * or `undefined` for anything else (a `cas`): then the partition is searched instead.
   */
  access(op: Operation): { readonly write: boolean; readonly value: string } | undefined;
}

export { valueKey } from '../history/index.js';

/** A readable form of a state for explanations: `model.show`, else its key. */
export function showState<S>(model: Model<S>, state: S): string {
  return model.show === undefined ? String(model.key(state)) : model.show(state);
}

/** A readable form of a value for explanations. */
export function showValue(value: unknown): string {
  return valueKey(value);
}

/** ` (outcome unknown)` for an `info` op, ` (failed)` for a `fail` op, else empty: appended to op descriptions. */
export function outcomeSuffix(op: Operation): string {
  return op.type === 'info' ? ' (outcome unknown)' : op.type === 'fail' ? ' (failed)' : '';
}

/** `write 3`, `read → 3`, `read (outcome unknown)`: the default description of an op. */
export function describeOperation(op: Operation): string {
  const input = op.input === null || op.input === undefined ? '' : ` ${showValue(op.input)}`;
  const suffix = outcomeSuffix(op);
  if (suffix !== '') return `${op.f}${input}${suffix}`;
  const echoed = op.output === undefined || op.output === null || valueKey(op.output) === valueKey(op.input);
  const output = echoed ? '' : ` → ${showValue(op.output)}`;
  return `${op.f}${input}${output}`;
}

/** Throws unless `op.f` is one of `fs`. */
export function requireF(op: Operation, model: string, fs: readonly string[]): void {
  if (!fs.includes(op.f)) {
    throw historyError(
      op.invoke,
      `the ${model} model has no operation ${JSON.stringify(op.f)}`,
      `f one of ${fs.map((f) => JSON.stringify(f)).join(', ')}`,
    );
  }
}

/** Throws a history error for a malformed value, naming the op (completion for outputs) and the expected shape. */
export function shapeError(op: Operation, which: 'input' | 'output', model: string, expected: string): never {
  const at = which === 'output' && op.complete !== undefined ? op.complete : op.invoke;
  const value = which === 'input' ? op.input : op.output;
  throw historyError(
    at,
    `${model} ${op.f} ${which === 'input' ? 'invoke' : 'ok'} value ${showValue(value)} is not ${expected}`,
    expected,
  );
}

/** A Jepsen independent tuple `[key, value]`, or throws naming the expected shape. */
export function keyedTuple(
  op: Operation,
  which: 'input' | 'output',
  model: string,
  inner: string,
): readonly [unknown, unknown] {
  const value = which === 'input' ? op.input : op.output;
  if (!Array.isArray(value) || value.length !== 2) shapeError(op, which, model, `[key, ${inner}]`);
  return value as unknown as readonly [unknown, unknown];
}

/** Per-op memo of a derived value (e.g. a parsed key), so `step` does not redo it on every visit. */
export function cached<T>(compute: (op: Operation) => T): (op: Operation) => T {
  const cache = new WeakMap<Operation, { value: T }>();
  return (op) => {
    const hit = cache.get(op);
    if (hit !== undefined) return hit.value;
    const value = compute(op);
    cache.set(op, { value });
    return value;
  };
}

/** `valueKey` of the op's input (the invocation's value), memoized per op. */
export const inputKey: (op: Operation) => string = cached((op) => valueKey(op.input));

/** `valueKey` of the op's output (the completion's value), memoized per op. */
export const outputKey: (op: Operation) => string = cached((op) => valueKey(op.output));
