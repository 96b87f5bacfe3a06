import { describeOperation, type Model, requireF, shapeError } from '../model.js';

/** A counter: `add` n (a finite number, may be negative) and `read` (invoke `null`) → ok n. Starts at 0. */
export function counterModel(options: { initial?: number } = {}): Model<number> {
  const initial = options.initial ?? 0;
  return {
    name: 'counter',
    init: () => initial,
    step(state, op) {
      if (op.f === 'add') return state + (op.input as number);
      if (op.type === 'info') return state;
      return op.output === state ? state : undefined;
    },
    key: (state) => state,
    readOnly: (op) => op.f === 'read',
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
}

export const counter: Model<number> = counterModel();
