import type { Operation } from '../../history/index.js';
import {
  cached,
  describeOperation,
  keyedTuple,
  type Model,
  requireF,
  shapeError,
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

// A list's text is its elements' canonical keys joined by ',' (no brackets), so appending is a concat.
const readListKey = cached((op: Operation) => {
  const list = (op.output as readonly unknown[])[1];
  return list === null || list === undefined ? '' : (list as readonly unknown[]).map(valueKey).join(',');
});

/**
 * An append-only list per key, in Jepsen's independent-tuple shape: `append` `[k, v]` and `read`
 * `[k, null]` → ok `[k, [v1, v2, …]]` (the whole list, oldest first; `null` or `[]` when empty).
 * Partitioned by key.
 */
export function listAppendModel(): Model<KeyedState> {
  return {
    name: 'list-append',
    stepsByValue: true,
    init: () => emptyKeyedState,
    step(state, op) {
      const key = inputTupleKey(op);
      const current = state.get(key) ?? '';
      if (op.f === 'append') {
        const element = inputTupleValueKey(op);
        return withEntry(state, key, current === '' ? element : `${current},${element}`);
      }
      if (op.type === 'info') return state;
      return readListKey(op) === current ? state : undefined;
    },
    key: keyedStateKey,
    // Lists only grow: once the state is not a prefix of what a read returned, that read cannot fit.
    doomed(state, op) {
      if (op.f !== 'read') return false;
      const current = state.get(inputTupleKey(op)) ?? '';
      const read = readListKey(op);
      return current !== '' && current !== read && !read.startsWith(`${current},`);
    },
    partition: inputTupleKey,
    readOnly: (op) => op.f === 'read',
    validate(op) {
      requireF(op, 'list-append', ['append', 'read']);
      keyedTuple(op, 'input', 'list-append', op.f === 'append' ? 'element' : 'null');
      if (op.f === 'read' && op.type === 'ok') {
        const [, list] = keyedTuple(op, 'output', 'list-append', '[elements…]');
        if (list !== null && list !== undefined && !Array.isArray(list)) {
          shapeError(op, 'output', 'list-append', '[key, [elements…]]');
        }
      }
    },
    describe: describeOperation,
    show: (state) => {
      if (state.size === 0) return '{}';
      const keys = [...state.keys()].sort();
      return `{${keys.map((key) => `${key}=[${state.get(key)}]`).join(';')}}`;
    },
  };
}

export const listAppend: Model<KeyedState> = listAppendModel();
