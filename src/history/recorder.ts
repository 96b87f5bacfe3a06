import { invalid, requireBoolean, requireNumber, requireString } from '../core/assert.js';
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { publish } from '../core/events.js';
import { clientErrors, FailError, isDefiniteFailure } from './client-errors.js';
import { isProcessId, type Op, type OpType, type ProcessId } from './op.js';

export { clientErrors, FailError, isDefiniteFailure };

/**
 * The `f`s whose `ok` records what the call returned — what the client observed: reads of a register or
 * a key, scans, a queue's dequeue and drain, and Elle's `txn` (its value is the transaction with its reads
 * filled in). Every other `f` (write, cas, add, append, enqueue, put, incr, transfer, …) echoes the value
 * it was invoked with, Jepsen's convention, and keeps what the call returned beside it as `result`.
 */
export const defaultReads: readonly string[] = ['read', 'get', 'scan', 'dequeue', 'drain', 'poll', 'txn'];

/** The most nodes (values, entries) and levels of a `result` kept as it is; a larger one is summarised. */
const maxResultNodes = 1000;
const maxResultDepth = 16;

export interface RecorderOptions {
  /**
   * Where op times come from: nanoseconds since the recorder was created. history/ reads no ambient
   * time, so the caller passes it (the public `Recorder` of `faultline/history` defaults to `realClock`).
   */
  readonly clock: Clock;
  /** Most ops the history may hold (default 1,000,000); a call that would exceed it is refused. */
  readonly maxOps?: number;
  /**
   * Extra rule for errors that definitely did not take effect (`fail`), besides `isDefiniteFailure`'s
   * (e.g. `clientErrors.pg`).
   */
  readonly definite?: (error: unknown) => boolean;
  /**
   * The `f`s that read: their `ok` records the call's return value. Any other `f` echoes its invocation's
   * value and keeps the return value (when not undefined) as `result`. Default: `defaultReads`.
   */
  readonly reads?: readonly string[];
}

export interface CallOptions {
  /** Abort the call and record `info` with `error: 'timed-out'` after this long. Default: no timeout. */
  readonly timeoutMs?: number;
  /** Per-call addition to the recorder's `definite` rule. */
  readonly definite?: (error: unknown) => boolean;
  /** True: this call reads (its `ok` records the return value); false: it echoes its value. Default: by `f`. */
  readonly read?: boolean;
}

/** How a recorded call ended; `attempt` returns it, `call` returns the value or throws the error. */
export type CallOutcome<T> =
  | { readonly type: 'ok'; readonly value: T; readonly op: Op }
  | { readonly type: 'fail'; readonly error: unknown; readonly op: Op }
  | { readonly type: 'info'; readonly error: unknown; readonly timedOut: boolean; readonly op: Op };

const DEFAULT_MAX_OPS = 1_000_000;

/**
 * Records a history of client calls in Jepsen's model. Each call is an `invoke` followed by `ok` (it
 * happened), `fail` (it definitely did not) or `info` (unknown: it timed out or the connection was lost
 * and it may have taken effect). A process has at most one open call, as in Jepsen. Every op it records is
 * also published as an `op` event (`faultline:op` on node:diagnostics_channel) — no I/O, no time of its own.
 */
export class Recorder {
  private readonly clock: Clock;
  private readonly startMs: number;
  private readonly maxOps: number;
  private readonly definite: ((error: unknown) => boolean) | undefined;
  private readonly reads: ReadonlySet<string>;
  private readonly ops: Op[] = [];
  private readonly open = new Map<ProcessId, Op>();

  constructor(options: RecorderOptions) {
    this.clock = options.clock;
    this.startMs = this.clock.now();
    this.maxOps = requireNumber(options.maxOps ?? DEFAULT_MAX_OPS, 'maxOps', { min: 2, integer: true });
    this.definite = options.definite;
    this.reads = new Set(checkReads(options.reads ?? defaultReads));
  }

  /** Nanoseconds since the recorder was created. */
  elapsedNs(): number {
    return Math.max(0, Math.round((this.clock.now() - this.startMs) * 1e6));
  }

  /** A copy of the ops recorded so far. */
  history(): Op[] {
    return [...this.ops];
  }

  /** Processes with a call in flight. */
  openProcesses(): ProcessId[] {
    return [...this.open.keys()];
  }

  /**
   * Records a call: returns fn's result (recorded `ok`), or throws what fn threw after recording `fail`
   * or `info`. On timeout the signal is aborted, `info` is recorded at once and a FaultlineError
   * (FL_ERR_ABORTED, details.timedOut) is thrown; fn's eventual result is ignored.
   */
  async call<T>(
    process: ProcessId,
    f: string,
    value: unknown,
    fn: (signal: AbortSignal) => Promise<T> | T,
    options: CallOptions = {},
  ): Promise<T> {
    const outcome = await this.attempt(process, f, value, fn, options);
    if (outcome.type === 'ok') return outcome.value;
    throw outcome.error;
  }

  /** Like `call`, but returns the outcome instead of throwing fn's error (misuse still throws). */
  async attempt<T>(
    process: ProcessId,
    f: string,
    value: unknown,
    fn: (signal: AbortSignal) => Promise<T> | T,
    options: CallOptions = {},
  ): Promise<CallOutcome<T>> {
    checkProcess(process);
    checkF(f);
    const timeoutMs =
      options.timeoutMs === undefined ? undefined : requireNumber(options.timeoutMs, 'timeoutMs', { min: 0 });
    const reads = options.read === undefined ? this.reads.has(f) : requireBoolean(options.read, 'read');
    const pending = this.open.get(process);
    if (pending !== undefined) {
      throw new FaultlineError(
        codes.invalidArgument,
        `process ${String(process)} already has an open call (${pending.f}, op ${pending.index}); a process makes one call at a time`,
        { details: { field: 'process', expected: 'a process with no open call' } },
      );
    }
    this.reserve(2);
    const invoke = this.record(process, 'invoke', f, value);
    this.open.set(process, invoke);

    const controller = new AbortController();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      if (timeoutMs !== undefined) timer = this.clock.setTimeout(() => resolve('timed-out'), timeoutMs);
    });
    const running = new Promise<T>((resolve) => resolve(fn(controller.signal)));
    type Settled = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };
    const settled = running.then(
      (result): Settled => ({ ok: true, value: result }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
    const winner = await Promise.race([settled, timedOut]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    this.open.delete(process);

    if (winner === 'timed-out') {
      const error = new FaultlineError(
        codes.aborted,
        `${f} by process ${String(process)} timed out after ${timeoutMs}ms`,
        {
          details: { timedOut: true, timeoutMs },
        },
      );
      controller.abort(error);
      const op = this.record(process, 'info', f, value, 'timed-out');
      return { type: 'info', error, timedOut: true, op };
    }
    if (winner.ok) {
      // A read records what it saw; anything else the value it wrote (Jepsen's convention), with what
      // the client returned beside it.
      let op: Op;
      if (reads) op = this.record(process, 'ok', f, winner.value);
      else if (winner.value === undefined) op = this.record(process, 'ok', f, value);
      else {
        op = { ...this.base(process, 'ok', f, value), result: jsonSafe(winner.value) };
        this.push(op);
      }
      return { type: 'ok', value: winner.value, op };
    }
    const { error } = winner;
    const definite =
      isDefiniteFailure(error) || this.definite?.(error) === true || options.definite?.(error) === true;
    const op = this.record(process, definite ? 'fail' : 'info', f, value, errorText(error));
    return definite ? { type: 'fail', error, op } : { type: 'info', error, timedOut: false, op };
  }

  /** Records an `info` event for an actor that is not a client, such as the nemesis. */
  note(
    process: ProcessId,
    f: string,
    value: unknown = null,
    extra: Readonly<Record<string, unknown>> = {},
  ): Op {
    checkProcess(process);
    checkF(f);
    if (this.open.has(process)) {
      throw new FaultlineError(
        codes.invalidArgument,
        `process ${String(process)} has an open call; note events for other actors`,
        {
          details: { field: 'process', expected: 'an actor with no open call, such as "nemesis"' },
        },
      );
    }
    this.reserve(1);
    const op = { ...extra, ...this.base(process, 'info', f, value) };
    this.push(op);
    return op;
  }

  private reserve(count: number): void {
    // Every open call still needs room for its completion.
    if (this.ops.length + this.open.size + count > this.maxOps) {
      throw new FaultlineError(
        codes.invalidArgument,
        `history is full: maxOps is ${this.maxOps} (${this.ops.length} recorded, ${this.open.size} calls open)`,
        { details: { field: 'maxOps', expected: 'a larger maxOps, or a shorter workload' } },
      );
    }
  }

  private base(process: ProcessId, type: OpType, f: string, value: unknown): Op {
    return {
      process,
      type,
      f,
      value: value === undefined ? null : value,
      time: this.elapsedNs(),
      index: this.ops.length,
    };
  }

  private record(process: ProcessId, type: OpType, f: string, value: unknown, error?: string): Op {
    const op: Op =
      error === undefined
        ? this.base(process, type, f, value)
        : { ...this.base(process, type, f, value), error };
    this.push(op);
    return op;
  }

  /** Appends `op` to the history and announces it. */
  private push(op: Op): void {
    this.ops.push(op);
    publish({ type: 'op', op });
  }
}

function errorText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  if (typeof code === 'string' && !message.includes(code))
    return message === '' ? code : `${code}: ${message}`;
  return message === '' ? 'error' : message;
}

function checkReads(reads: readonly string[]): readonly string[] {
  if (!Array.isArray(reads)) throw invalid('reads', `expected an array of f names, got ${String(reads)}`);
  for (const [i, f] of reads.entries()) requireString(f, `reads[${i}]`, { nonEmpty: true });
  return reads;
}

/**
 * `value` as JSON can carry it, for an op's `result`: strings, finite numbers, booleans, null, and arrays
 * and plain objects of them, as they are; a bigint as its digits; anything else — a class instance (a
 * driver's result object), a function, a value nested deeper than 16 levels or of more than 1,000 nodes —
 * summarised by its kind, e.g. "[QueryResult]", since the op's value, not its result, is what checkers read.
 */
function jsonSafe(value: unknown): unknown {
  let nodes = 0;
  const copy = (v: unknown, depth: number): unknown => {
    if (++nodes > maxResultNodes || depth > maxResultDepth) throw tooLarge;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : String(v); // -0 + 0 is 0
    if (typeof v === 'bigint') return v.toString();
    if (v === undefined) return null;
    if (Array.isArray(v)) {
      if (v.length > maxResultNodes) throw tooLarge;
      return Array.from(v, (item) => copy(item, depth + 1));
    }
    const prototype = typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
    if (prototype === Object.prototype || prototype === null) {
      const out: Record<string, unknown> = {};
      for (const key in v as object) {
        const item = (v as Record<string, unknown>)[key];
        // defineProperty: a key "__proto__" stays a key, not the copy's prototype.
        if (Object.hasOwn(v as object, key) && item !== undefined)
          Object.defineProperty(out, key, {
            value: copy(item, depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return out;
    }
    return kindOf(v);
  };
  try {
    return copy(value, 1);
  } catch (error) {
    if (error === tooLarge) return kindOf(value);
    throw error;
  }
}

const tooLarge = new Error('result too large');

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return `[Array(${value.length})]`;
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `[${typeof name === 'string' && name !== '' ? name : 'object'}]`;
  }
  return `[${typeof value}]`;
}

function checkProcess(process: ProcessId): void {
  if (!isProcessId(process)) {
    throw new FaultlineError(
      codes.invalidArgument,
      `process: expected an integer or a name, got ${String(process)}`,
      {
        details: { field: 'process', expected: 'an integer or a non-empty string' },
      },
    );
  }
}

function checkF(f: string): void {
  if (typeof f !== 'string' || f === '') {
    throw new FaultlineError(
      codes.invalidArgument,
      `f: expected a non-empty string such as "read", got ${String(f)}`,
      {
        details: { field: 'f', expected: 'a non-empty string' },
      },
    );
  }
}
