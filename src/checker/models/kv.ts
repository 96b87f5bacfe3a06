import type { Operation } from '../../history/index.js';
import {
  cached,
  describeOperation,
  keyedTuple,
  type Model,
  outcomeSuffix,
  requireF,
  shapeError,
  showValue,
  valueKey,
} from '../model.js';
import {
  emptyKeyedState,
  inputTupleKey,
  inputTupleValueKey,
  type KeyedState,
  keyedStateKey,
  withEntry,
} from './keyed-state.js';
import { readWriteAccess } from './register.js';

const readKey = cached((op: Operation) => valueKey((op.output as readonly unknown[])[1]));
const casKeys = cached((op: Operation): readonly [string, string] => {
  const [from, to] = (op.input as readonly unknown[])[1] as readonly [unknown, unknown];
  return [valueKey(from), valueKey(to)];
});

/**
 * A map of independent cas registers, in Jepsen's independent-tuple shape: `read` `[k, null]` → ok
 * `[k, v]`, `write` `[k, v]`, `cas` `[k, [old, new]]`. Every key starts at `initial` (default `null`).
 * Partitioned by key.
 */
export function kvModel(options: { initial?: unknown } = {}): Model<KeyedState> {
  const initial = valueKey(options.initial ?? null);
  return {
    name: 'kv',
    stepsByValue: true,
    init: () => emptyKeyedState,
    step(state, op) {
      const key = inputTupleKey(op);
      const current = state.get(key) ?? initial;
      switch (op.f) {
        case 'read':
          if (op.type === 'info') return state;
          return readKey(op) === current ? state : undefined;
        case 'write': {
          const value = inputTupleValueKey(op);
          return value === current ? state : withEntry(state, key, value);
        }
        default: {
          const [from, to] = casKeys(op);
          if (from !== current) return undefined;
          return to === current ? state : withEntry(state, key, to);
        }
      }
    },
    key: keyedStateKey,
    partition: inputTupleKey,
    readOnly: (op) => op.f === 'read',
    validate(op) {
      requireF(op, 'kv', ['read', 'write', 'cas']);
      const [, arg] = keyedTuple(op, 'input', 'kv', op.f === 'cas' ? '[old, new]' : 'value');
      if (op.f === 'cas' && (!Array.isArray(arg) || arg.length !== 2)) {
        shapeError(op, 'input', 'kv', '[key, [old, new]]');
      }
      if (op.f === 'read' && op.type === 'ok') keyedTuple(op, 'output', 'kv', 'value read');
    },
    describe(op) {
      if (op.f !== 'cas') return describeOperation(op);
      const [key, [from, to]] = op.input as readonly [unknown, readonly [unknown, unknown]];
      return `cas ${showValue(key)} ${showValue(from)}→${showValue(to)}${outcomeSuffix(op)}`;
    },
    show: (state) => (state.size === 0 ? '{}' : `{${keyedStateKey(state)}}`),
    // One register per key (partition), every key starting at null; a `cas` is neither a read nor a write.
    registerAccess: readWriteAccess(initial, inputTupleValueKey, readKey),
  };
}

export const kv: Model<KeyedState> = kvModel();
