import type { Operation } from '../../history/index.js';
import { describeOperation, inputKey, type Model, outputKey, requireF, shapeError } from '../model.js';
import { compareCalls } from '../time-line.js';

/**
 * The queued elements' canonical keys, head first, and how many `info` dequeues have taken effect
 * (counted only by the model specialised with `forOps`, which places them in invocation order).
 */
export interface QueueState {
  readonly queue: readonly string[];
  readonly infoDequeues: number;
}

const empty: QueueState = { queue: [], infoDequeues: 0 };

/**
 * A FIFO queue: `enqueue` v (not `null`) and `dequeue` (invoke `null`) → ok v, the head, or ok `null`
 * when the queue was empty. An `info` dequeue, if it took effect, removed the head, whatever it was.
 */
export function fifoQueueModel(): Model<QueueState> {
  const model: Model<QueueState> = {
    name: 'fifo-queue',
    stepsByValue: true,
    init: () => empty,
    step(state, op) {
      const { queue, infoDequeues } = state;
      if (op.f === 'enqueue') return { queue: [...queue, inputKey(op)], infoDequeues };
      if (op.type === 'info') return queue.length === 0 ? undefined : { queue: queue.slice(1), infoDequeues };
      const got = outputKey(op);
      if (got === 'null') return queue.length === 0 ? state : undefined;
      return queue[0] === got ? { queue: queue.slice(1), infoDequeues } : undefined;
    },
    key: (state) => (state.infoDequeues === 0 ? '' : `${state.infoDequeues}|`) + state.queue.join(','),
    validate(op) {
      requireF(op, 'fifo-queue', ['enqueue', 'dequeue']);
      if (op.f === 'enqueue' && (op.input === null || op.input === undefined)) {
        shapeError(op, 'input', 'fifo-queue', 'a value other than null (null means "empty" to dequeue)');
      }
    },
    describe: describeOperation,
    show: (state) => `[${state.queue.join(',')}]`,
    forOps: (ops) => specialise(model, ops),
  };
  return model;
}

/**
 * The queue model knowing the partition's ops: how often each value is enqueued (`ok` or `info`), how
 * often an `ok` dequeue returns it, and the `info` dequeues in invocation order. Each rule below only
 * removes choices that some other choice covers, so the specialised model accepts a linearization of
 * the ops iff the plain one does (rules 1–3 compose: apply 1's deletions, then 3's renaming, to any
 * linearization; rule 2 never cuts a complete one):
 *
 * 1. An `info` enqueue of a value that no `ok` dequeue returns never takes effect. Take a linearization
 *    in which it does and delete it, with the `info` dequeue that removed its element (if any). While
 *    that element sat in the queue no `ok` dequeue saw it (none returns it, and a `null` dequeue needs
 *    an empty queue), so every other op sees the same head as before: still a linearization.
 * 2. A dequeue may not remove the head v when v is enqueued once and an `ok` dequeue of v would still
 *    be left after it (an `info` dequeue taking v while an `ok` dequeue returns v; an `ok` dequeue of v
 *    when two return v): v can never be the head again, yet that `ok` dequeue must still take effect.
 * 3. `info` dequeues take effect in invocation order (the state counts how many have). They are alike
 *    (each removes the head, whatever it is), so in a linearization using m of them, give the i-th
 *    used the i-th invoked: at least i of them were invoked before the i-th point, so the i-th invoked
 *    was too, and every op that returned before its invocation already precedes that point.
 * 4. (`doomed`) An `ok` dequeue of v can never fit if no op enqueues v, or if more elements that no
 *    `ok` dequeue returns sit ahead of v (all of the queue when v is not in it yet, or for a `null`
 *    dequeue) than `info` dequeues are left: only those can remove such an element, and the state
 *    counts how many have taken effect (rule 3).
 *
 * Rules 2 and 3 need exactly the ops the search steps: an `ok` or `info` dequeue among `ops` that the
 * search never steps would be waited for (an element kept for it, later `info` dequeues blocked).
 */
function specialise(model: Model<QueueState>, ops: readonly Operation[]): Model<QueueState> {
  const enqueued = new Map<string, number>();
  const returned = new Map<string, number>();
  const lostDequeues: Operation[] = [];
  for (const op of ops) {
    if (op.type === 'fail') continue;
    if (op.f === 'enqueue') count(enqueued, inputKey(op));
    else if (op.type === 'info') lostDequeues.push(op);
    else if (outputKey(op) !== 'null') count(returned, outputKey(op));
  }
  // By invocation, as the search orders calls (time, then the history's order); keyed by the invoke
  // event, which every pairing of the same history shares.
  lostDequeues.sort(compareCalls);
  const rank = new Map(lostDequeues.map((op, index) => [op.invoke, index]));
  const step = model.step;
  return {
    ...model,
    step(state, op) {
      if (op.f === 'enqueue') {
        return op.type === 'info' && !returned.has(inputKey(op)) ? undefined : step(state, op);
      }
      const head = state.queue[0];
      if (head !== undefined && enqueued.get(head) === 1) {
        const left = (returned.get(head) ?? 0) - (op.type === 'ok' ? 1 : 0);
        if (left > 0) return undefined;
      }
      if (op.type !== 'info') return step(state, op);
      const position = rank.get(op.invoke);
      if (position === undefined) return step(state, op); // not among the ops it was made for
      if (position !== state.infoDequeues) return undefined;
      const next = step(state, op);
      return next === undefined ? undefined : { queue: next.queue, infoDequeues: position + 1 };
    },
    doomed(state, op) {
      if (op.f !== 'dequeue' || op.type !== 'ok') return false;
      const got = outputKey(op);
      if (got !== 'null' && !enqueued.has(got)) return true;
      // Everything ahead of `got` (all of the queue for `null`, or if `got` is still to come) must go
      // first; an element no ok dequeue returns can only go by an info dequeue, and so many are left.
      const ahead = got === 'null' ? -1 : state.queue.indexOf(got);
      const end = ahead === -1 ? state.queue.length : ahead;
      let left = lostDequeues.length - state.infoDequeues;
      for (let i = 0; i < end; i++) {
        if (!returned.has(state.queue[i] as string) && --left < 0) return true;
      }
      return false;
    },
  };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export const fifoQueue: Model<QueueState> = fifoQueueModel();
