/** What crosses between the linearizability driver and its worker threads (see worker.ts). */
import type { ModelOptions, PartitionBudget, PartitionOutcome } from '../checker/index.js';
import { maxNestingDepth, type Op, type Operation } from '../history/index.js';

/** Marks the worker threads the driver starts. */
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
  /** A built-in model's registry name, and the options it was built with (`createModel`). */
  readonly model: string;
  readonly modelOptions: ModelOptions;
  readonly ops: readonly WireOperation[];
  readonly remainingMs: number;
  readonly budget: PartitionBudget;
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

/**
 * True when structured cloning keeps the value's identity (`valueKey`): primitives, arrays, plain
 * objects, Maps, Sets and Dates. A class instance (an `EdnSymbol`, say) would arrive as a plain object
 * and compare differently, so such a partition is checked in the main thread instead.
 */
export function clonesFaithfully(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null)
    return typeof value !== 'function' && typeof value !== 'symbol';
  if (depth > maxNestingDepth) return false; // deeper than any history value may be: the main thread refuses it
  if (value instanceof Date) return true;
  if (Array.isArray(value)) return value.every((item) => clonesFaithfully(item, depth + 1));
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (!clonesFaithfully(key, depth + 1) || !clonesFaithfully(item, depth + 1)) return false;
    }
    return true;
  }
  if (value instanceof Set) return [...value].every((item) => clonesFaithfully(item, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((item) => clonesFaithfully(item, depth + 1));
}
