import type { Operation } from '../../history/index.js';
import { cached, describeOperation, inputKey, type Model, requireF, shapeError, valueKey } from '../model.js';
import { itemsOf } from '../safety-support.js';

/** Sorted, distinct canonical keys of the elements. */
export type SetState = readonly string[];

/** The canonical keys of what a read returned (an array in any order, or a Set), sorted and distinct. */
const readKeys = cached((op: Operation): readonly string[] => {
  const elements = op.output === null || op.output === undefined ? [] : (itemsOf(op.output) ?? []);
  return [...new Set(elements.map(valueKey))].sort();
});

// Joined by ',' only to compare whole sets: keys are self-delimiting, so the join is injective. (Never
// split it again: an element's own key may contain ',', as `[1,2]` does.)
const readKey = cached((op: Operation) => readKeys(op).join(','));

const readSet = cached((op: Operation) => new Set(readKeys(op)));

/** A grow-only set: `add` v and `read` (invoke `null`) → ok `[elements…]` in any order, or a Set (EDN `#{…}`). */
export function setModel(): Model<SetState> {
  return {
    name: 'set',
    stepsByValue: true,
    init: () => [],
    step(state, op) {
      if (op.f === 'add') {
        const element = inputKey(op);
        let low = 0;
        let high = state.length;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if ((state[middle] as string) < element) low = middle + 1;
          else high = middle;
        }
        if (state[low] === element) return state;
        return [...state.slice(0, low), element, ...state.slice(low)];
      }
      if (op.type === 'info') return state;
      return readKey(op) === state.join(',') ? state : undefined;
    },
    key: (state) => state.join(','),
    // Sets only grow: a read missing an element already added cannot fit later either.
    doomed(state, op) {
      if (op.f !== 'read' || state.length === 0) return false;
      const read = readSet(op);
      return state.some((element) => !read.has(element));
    },
    readOnly: (op) => op.f === 'read',
    validate(op) {
      requireF(op, 'set', ['add', 'read']);
      if (op.f === 'read' && op.type === 'ok' && op.output !== null && itemsOf(op.output) === undefined) {
        shapeError(op, 'output', 'set', 'an array or set of the elements read');
      }
    },
    describe: describeOperation,
    show: (state) => `#{${state.join(',')}}`,
  };
}

export const set: Model<SetState> = setModel();
