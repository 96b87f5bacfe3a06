import type { Operation } from '../../history/index.js';
import { describeOperation, type Model, requireF, shapeError } from '../model.js';

/** A counter: `add` n (a finite number, may be negative) and `read` (invoke `null`) → ok n. Starts at 0. */
export function counterModel(options: { initial?: number } = {}): Model<number> {
  const initial = options.initial ?? 0;
  const model: Model<number> = {
    name: 'counter',
    stepsByValue: true,
    init: () => initial,
    step(state, op) {
      if (op.f === 'add') return state + (op.input as number);
      if (op.type === 'info') return state;
      return op.output === state ? state : undefined;
    },
    key: (state) => state,
    readOnly: (op) => op.f === 'read',
    forOps: (ops) => monotone(model, ops),
    validate(op) {
      requireF(op, 'counter', ['add', 'read']);
      if (op.f === 'add' && (typeof op.input !== 'number' || !Number.isFinite(op.input))) {
        shapeError(op, 'input', 'counter', 'a finite number');
      }
      if (op.f === 'read' && op.type === 'ok' && typeof op.output !== 'number') {
        shapeError(op, 'output', 'counter', 'a number');
      }
    },
    describe: describeOperation,
    show: (state) => String(state),
  };
  return model;
}

/**
 * When every add of the partition has one sign, the counter only moves one way, so a read of a value it
 * has already passed can never fit again: `doomed` says so, and a search stops exploring the orders of
 * the ops before such a read (with many adds of unknown outcome pending, that is most of the work).
 * Sound: from `state`, the reachable states are `state` plus sums of the remaining adds, all ≥ `state`
 * (non-negative adds) or all ≤ it (non-positive ones).
 */
function monotone(model: Model<number>, ops: readonly Operation[]): Model<number> {
  const amounts = ops.filter((op) => op.f === 'add').map((op) => op.input as number);
  const up = amounts.every((amount) => amount >= 0);
  const down = amounts.every((amount) => amount <= 0);
  if (!up && !down) return model;
  return {
    ...model,
    doomed: (state, op) =>
      op.f === 'read' &&
      op.type === 'ok' &&
      (up ? state > (op.output as number) : state < (op.output as number)),
  };
}

export const counter: Model<number> = counterModel();
