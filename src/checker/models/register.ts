import type { Operation } from '../../history/index.js';
import {
  describeOperation,
  inputKey,
  type Model,
  outputKey,
  type RegisterAccess,
  requireF,
  valueKey,
} from '../model.js';

/** The register's state is the canonical key of its value (see `valueKey`): cheap to compare and hash. */
export type RegisterState = string;

/** Shared by register and cas-register: `read` and `write`. */
export function stepReadWrite(state: RegisterState, op: Operation): RegisterState | undefined {
  if (op.f === 'write') return inputKey(op);
  if (op.type === 'info') return state; // a read of unknown outcome constrains nothing
  return outputKey(op) === state ? state : undefined;
}

/**
 * How plain `read` and `write` ops touch one register, for the distinct-values algorithm: the value a
 * write writes (`written`, default the input) and the value an ok read returned (`returned`, default
 * the output), as `valueKey`s. Anything else (a `cas`) is not a plain read or write.
 */
export function readWriteAccess(
  initial: string,
  written: (op: Operation) => string = inputKey,
  returned: (op: Operation) => string = outputKey,
): RegisterAccess {
  return {
    initial,
    access(op) {
      if (op.f === 'write') return { write: true, value: written(op) };
      if (op.f === 'read') return { write: false, value: op.type === 'ok' ? returned(op) : '' };
      return undefined;
    },
  };
}

/**
 * A read/write register. Ops: `read` (invoke `null`, ok value = what was read, `null` before any write)
 * and `write` (value = the value written). Values are compared deeply (`valueKey`).
 */
export function registerModel(options: { initial?: unknown } = {}): Model<RegisterState> {
  const initial = valueKey(options.initial ?? null);
  return {
    name: 'register',
    stepsByValue: true,
    init: () => initial,
    step: stepReadWrite,
    key: (state) => state,
    readOnly: (op) => op.f === 'read',
    validate: (op) => requireF(op, 'register', ['read', 'write']),
    describe: describeOperation,
    show: (state) => state,
    registerAccess: readWriteAccess(initial),
  };
}

export const register: Model<RegisterState> = registerModel();
