import { describeOperation, inputKey, type Model, outputKey, requireF, shapeError } from '../model.js';

/** Canonical keys of the queued elements, head first. */
export type QueueState = readonly string[];

/**
 * A FIFO queue: `enqueue` v (not `null`) and `dequeue` (invoke `null`) → ok v, the head, or ok `null`
 * when the queue was empty. An `info` dequeue, if it took effect, removed the head, whatever it was.
 */
export function fifoQueueModel(): Model<QueueState> {
  return {
    name: 'fifo-queue',
    init: () => [],
    step(state, op) {
      if (op.f === 'enqueue') return [...state, inputKey(op)];
      if (op.type === 'info') return state.length === 0 ? undefined : state.slice(1);
      const got = outputKey(op);
      if (got === 'null') return state.length === 0 ? state : undefined;
      return state[0] === got ? state.slice(1) : undefined;
    },
    key: (state) => state.join(','),
    validate(op) {
      requireF(op, 'fifo-queue', ['enqueue', 'dequeue']);
      if (op.f === 'enqueue' && (op.input === null || op.input === undefined)) {
        shapeError(op, 'input', 'fifo-queue', 'a value other than null (null means "empty" to dequeue)');
      }
    },
    describe: describeOperation,
    show: (state) => `[${state.join(',')}]`,
  };
}

export const fifoQueue: Model<QueueState> = fifoQueueModel();
