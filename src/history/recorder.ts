import { requireNumber } from '../core/assert.js';
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { publish } from '../core/events.js';
import { isProcessId, type Op, type OpType, type ProcessId } from './op.js';

/**
 * Thrown by a client call to say the operation definitely did not take effect (recorded as `fail`).
 * It is a marker for user code to throw, not an error faultline raises.
 */
export class FailError extends Error {
  override readonly name = 'FailError';
}

/** Error codes that prove the request never reached the server. */
const DEFINITE_CODES = new Set(['ECONNREFUSED']);

/** The default classification: FailError, or ECONNREFUSED anywhere in the cause chain. */
export function isDefiniteFailure(error: unknown): boolean {
  // The depth bound also ends cause cycles.
  const visit = (e: unknown, depth: number): boolean => {
    if (depth > 8 || typeof e !== 'object' || e === null) return false;
    if (e instanceof FailError) return true;
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && DEFINITE_CODES.has(code)) return true;
    // net.connect with several addresses fails with an AggregateError of the attempts.
    if (Array.isArray(errors) && errors.length > 0 && errors.every((inner) => visit(inner, depth + 1)))
      return true;
    return visit(cause, depth + 1);
  };
  return visit(error, 0);
}

export interface RecorderOptions {
  /**
   * Where op times come from: nanoseconds since the recorder was created. history/ reads no ambient
   * time, so the caller passes it (the public `Recorder` of `faultline/history` defaults to `realClock`).
   */
  readonly clock: Clock;
  /** Most ops the history may hold (default 1,000,000); a call that would exceed it is refused. */
  readonly maxOps?: number;
  /** Extra rule for errors that definitely did not take effect (`fail`); FailError and ECONNREFUSED always are. */
  readonly definite?: (error: unknown) => boolean;
}

export interface CallOptions {
  /** Abort the call and record `info` with `error: 'timed-out'` after this long. Default: no timeout. */
  readonly timeoutMs?: number;
  /** Per-call addition to the recorder's `definite` rule. */
  readonly definite?: (error: unknown) => boolean;
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
  private readonly ops: Op[] = [];
  private readonly open = new Map<ProcessId, Op>();

  constructor(options: RecorderOptions) {
    this.clock = options.clock;
    this.startMs = this.clock.now();
    this.maxOps = requireNumber(options.maxOps ?? DEFAULT_MAX_OPS, 'maxOps', { min: 2, integer: true });
    this.definite = options.definite;
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
      // Jepsen's convention: a write's completion carries the written value.
      const op = this.record(process, 'ok', f, winner.value === undefined ? value : winner.value);
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
