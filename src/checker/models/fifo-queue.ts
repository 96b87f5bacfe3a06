import type { Operation } from '../../history/index.js';
import { describeOperation, inputKey, type Model, outputKey, requireF, shapeError } from '../model.js';

/** Canonical keys of the queued elements, head first. */
export type QueueState = readonly string[];

/**
 * A FIFO queue: `enqueue` v (not `null`) and `dequeue` (invoke `null`) → ok v, the head, or ok `null`
 * when the queue was empty. An `info` dequeue, if it took effect, removed the head, whatever it was.
 */
export function fifoQueueModel(): Model<QueueState> {
  const model: Model<QueueState> = {
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
    forOps: (ops) => specialise(model, ops),
  };
  return model;
}

/**
 * The queue model knowing the partition's ops: how often each value is enqueued (`ok` or `info`) and
 * how often an `ok` dequeue returns it. Its `step` refuses two kinds of transition that no complete
 * linearization contains:
 *
 * 1. An `info` enqueue of a value that no `ok` dequeue returns. Soundness: take a linearization in
 *    which it takes effect and delete it, with the `info` dequeue that removed its element (if any).
 *    While that element sat in the queue no `ok` dequeue could see it (none returns it, and a `null`
 *    dequeue needs an empty queue), and only `info` dequeues remove a head that no `ok` dequeue
 *    returns; so every other op sees the same head as before, minus that element: still a
 *    linearization (real-time order is kept by deleting ops). "Never took effect" covers all of them.
 * 2. A dequeue removing the head v when v is enqueued once and an `ok` dequeue of v would still be
 *    left after it (an `info` dequeue taking v while some `ok` dequeue returns v, or an `ok` dequeue of
 *    v when two of them return v). Soundness: v entered the queue once and now leaves it, so it can
 *    never be the head again, yet an `ok` dequeue that must still take effect returns it.
 *
 * 3. (`doomed`) An `ok` dequeue returning a value that no op enqueues: nothing can put it at the head.
 *
 * So the specialised model accepts a linearization iff the plain one accepts some linearization; the
 * first rule turns the `info` enqueues lost with their values into "never happened" at once, the
 * second stops an `info` dequeue from taking an element a later read expects.
 */
function specialise(model: Model<QueueState>, ops: readonly Operation[]): Model<QueueState> {
  const enqueued = new Map<string, number>();
  const returned = new Map<string, number>();
  for (const op of ops) {
    if (op.f === 'enqueue' && op.type !== 'fail') count(enqueued, inputKey(op));
    else if (op.f === 'dequeue' && op.type === 'ok' && outputKey(op) !== 'null')
      count(returned, outputKey(op));
  }
  const step = model.step;
  const returnsUnqueued = (op: Operation) => {
    const got = outputKey(op);
    return got !== 'null' && !enqueued.has(got);
  };
  return {
    ...model,
    step(state, op) {
      if (op.f === 'enqueue') {
        return op.type === 'info' && !returned.has(inputKey(op)) ? undefined : step(state, op);
      }
      const head = state[0];
      if (head !== undefined && enqueued.get(head) === 1) {
        const left = (returned.get(head) ?? 0) - (op.type === 'ok' ? 1 : 0);
        if (left > 0) return undefined;
      }
      return step(state, op);
    },
    // 3. An `ok` dequeue of a value nothing enqueues can never fit, in any state.
    doomed: (_state, op) => op.f === 'dequeue' && returnsUnqueued(op),
  };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export const fifoQueue: Model<QueueState> = fifoQueueModel();
