import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';

/** Jepsen's op types: `info` means the outcome is unknown (it may or may not have taken effect). */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';
export const opTypes: readonly OpType[] = ['invoke', 'ok', 'fail', 'info'];

/**
 * The most arrays, objects, Maps and Sets an op may nest, counting the op itself: the readers refuse deeper
 * input (naming the line and column) and `pairOperations` deeper ops built in code, so checkers, which walk
 * values recursively, never exhaust the stack.
 */
export const maxNestingDepth = 512;

/**
 * True when `value` nests more than `limit` arrays, plain objects, Maps and Sets (the value itself counts
 * when it is one). Iterative, so any depth is safe to ask about; a cyclic value is deeper than any limit.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // Depth-first over the containers only, with their levels (1 for `value`); scalars are never pushed.
  const containers: object[] = [value];
  const levels: number[] = [1];
  while (containers.length > 0) {
    const item = containers.pop() as object;
    const level = levels.pop() as number;
    if (level > limit) return true;
    const next = level + 1;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const child: unknown = item[i];
        if (typeof child === 'object' && child !== null) {
          containers.push(child);
          levels.push(next);
        }
      }
    } else if (item instanceof Map || item instanceof Set) {
      for (const entry of item instanceof Map ? [...item.keys(), ...item.values()] : item) {
        if (typeof entry === 'object' && entry !== null) {
          containers.push(entry);
          levels.push(next);
        }
      }
    } else {
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue;
        const child: unknown = (item as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          containers.push(child);
          levels.push(next);
        }
      }
    }
  }
  return false;
}

/** A client process (Jepsen's integers) or a named actor such as `nemesis`. */
export type ProcessId = number | string;

/** A valid process id: a safe integer or a non-empty name. */
export function isProcessId(value: unknown): value is ProcessId {
  return (
    (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && value !== '')
  );
}

/** One event of a history, in Jepsen's model. */
export interface Op {
  readonly process: ProcessId;
  readonly type: OpType;
  /** The function, e.g. `read`, `write`, `cas`, `add`, `enqueue`. */
  readonly f: string;
  readonly value: unknown;
  /** Nanoseconds since the start of the history (monotonic). */
  readonly time: number;
  /** Position in the history, 0-based, dense. */
  readonly index: number;
  /** Where the op came from, for error messages (a line number in a history file). */
  readonly line?: number;
  /** Anything else the recorder or file carried (e.g. `error`, `node`). */
  readonly [extra: string]: unknown;
}

export type History = readonly Op[];

/**
 * An invocation paired with its completion. `type` is the completion's type, or `info` when the
 * history ended with the call still open (it may have taken effect).
 */
export interface Operation {
  readonly process: ProcessId;
  readonly f: string;
  readonly type: 'ok' | 'fail' | 'info';
  /** The invocation's value (the argument). */
  readonly input: unknown;
  /** The completion's value (the result); undefined for `info`. */
  readonly output: unknown;
  readonly invoke: Op;
  readonly complete: Op | undefined;
  /** Invocation time, ns. */
  readonly callTime: number;
  /** Completion time, ns; +Infinity for `info` (it may take effect any time after the call). */
  readonly returnTime: number;
}

/** Where an op is, for messages: `line 12` when it came from a file, else `op 11`. */
export function whereOf(op: Op): string {
  return op.line === undefined ? `op ${op.index}` : `line ${op.line}`;
}

/** A history that does not follow the invoke/complete discipline: names the op and its line. */
export function historyError(op: Op, message: string, expected?: string): FaultlineError {
  return new FaultlineError(codes.invalidArgument, `${whereOf(op)}: ${message}`, {
    details: {
      field: `history[${op.index}]`,
      ...(op.line === undefined ? {} : { line: op.line }),
      ...(expected === undefined ? {} : { expected }),
    },
  });
}

/**
 * Pairs each invocation with the completion of the same process. Throws on a completion with no open
 * call, on a second invocation while one is open, and on a completion whose `f` differs from its
 * invocation. Calls still open at the end become `info`. Ops of non-numeric processes that are not
 * invoke/complete pairs (e.g. nemesis `info` notes) are ignored only when `ignoreProcesses` names them.
 * Throws, too, on an op nested deeper than `maxNestingDepth` (or cyclic).
 */
export function pairOperations(
  history: History,
  options: { ignoreProcesses?: readonly ProcessId[] } = {},
): Operation[] {
  const ignored = new Set(options.ignoreProcesses ?? ['nemesis']);
  const open = new Map<ProcessId, Op>();
  const pairs: { invoke: Op; complete: Op | undefined }[] = [];
  const slotOf = new Map<ProcessId, number>();
  for (const op of history) {
    if (nestedDeeperThan(op, maxNestingDepth)) {
      throw historyError(
        op,
        `value nested deeper than ${maxNestingDepth} levels (counting the op itself), or cyclic`,
        `at most ${maxNestingDepth} nested arrays, objects, Maps and Sets`,
      );
    }
    if (ignored.has(op.process)) continue;
    if (op.type === 'invoke') {
      const pending = open.get(op.process);
      if (pending !== undefined) {
        throw historyError(
          op,
          `process ${String(op.process)} invokes ${op.f} while its ${pending.f} (${whereOf(pending)}) is still open`,
          'a completion (ok, fail or info) before the next invocation',
        );
      }
      open.set(op.process, op);
      slotOf.set(op.process, pairs.length);
      pairs.push({ invoke: op, complete: undefined });
      continue;
    }
    const invoke = open.get(op.process);
    if (invoke === undefined) {
      throw historyError(
        op,
        `${op.type} for process ${String(op.process)}, which has no open call`,
        'an invoke first',
      );
    }
    if (invoke.f !== op.f) {
      throw historyError(
        op,
        `completion f ${JSON.stringify(op.f)} does not match its invocation's ${JSON.stringify(invoke.f)}`,
      );
    }
    open.delete(op.process);
    (pairs[slotOf.get(op.process) as number] as { complete: Op | undefined }).complete = op;
  }
  return pairs.map(({ invoke, complete }) => {
    const type = complete === undefined ? 'info' : (complete.type as 'ok' | 'fail' | 'info');
    return {
      process: invoke.process,
      f: invoke.f,
      type,
      input: invoke.value,
      output: type === 'ok' ? complete?.value : undefined,
      invoke,
      complete,
      callTime: invoke.time,
      returnTime: type === 'info' ? Number.POSITIVE_INFINITY : (complete as Op).time,
    };
  });
}
