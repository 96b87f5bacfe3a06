import type { Operation } from '../../history/index.js';
import {
  cached,
  describeOperation,
  type Model,
  outcomeSuffix,
  requireF,
  shapeError,
  showValue,
  valueKey,
} from '../model.js';
import { type RegisterState, readWriteAccess, stepReadWrite } from './register.js';

const casKeys = cached((op: Operation): readonly [string, string] => {
  const [from, to] = op.input as readonly [unknown, unknown];
  return [valueKey(from), valueKey(to)];
});

/**
 * A compare-and-set register. Ops: `read` (invoke `null`, ok value = what was read), `write` (value v)
 * and `cas` (value `[old, new]`: sets `new` if the register holds `old`). A `cas` that found another
 * value should complete as `fail` (it did not take effect); an `ok` cas asserts the register held `old`.
 */
export function casRegisterModel(options: { initial?: unknown } = {}): Model<RegisterState> {
  const initial = valueKey(options.initial ?? null);
  return {
    name: 'cas-register',
    stepsByValue: true,
    init: () => initial,
    step(state, op) {
      if (op.f !== 'cas') return stepReadWrite(state, op);
      const [from, to] = casKeys(op);
      // An `info` cas that found another value had no effect: the same as never taking effect.
      return from === state ? to : undefined;
    },
    key: (state) => state,
    readOnly: (op) => op.f === 'read',
    validate(op) {
      requireF(op, 'cas-register', ['read', 'write', 'cas']);
      if (op.f === 'cas' && (!Array.isArray(op.input) || op.input.length !== 2)) {
        shapeError(op, 'input', 'cas-register', '[old, new]');
      }
    },
    describe(op) {
      if (op.f !== 'cas') return describeOperation(op);
      const [from, to] = op.input as readonly [unknown, unknown];
      return `cas ${showValue(from)}→${showValue(to)}${outcomeSuffix(op)}`;
    },
    show: (state) => state,
    // Plain reads and writes only: a partition with a `cas` is searched (see docs/linearizability.md).
    registerAccess: readWriteAccess(initial),
  };
}

export const casRegister: Model<RegisterState> = casRegisterModel();
