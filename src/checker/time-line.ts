import type { Operation } from '../history/index.js';

/**
 * Every call and return of `ops` on one time line, as `op << 1 | isReturn`: sorted by time, the history's
 * own order breaking ties (the order events were recorded). Only `ok` ops return; an `info` op's call has
 * no return. The one ordering the search and the distinct-values algorithm share, so "x precedes y" means
 * the same to both.
 */
export function timeOrderedEvents(ops: readonly Operation[]): Int32Array {
  const times: number[] = [];
  const order: number[] = [];
  const events: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation;
    events.push(i << 1);
    times.push(op.callTime);
    order.push(op.invoke.index);
    if (op.type === 'ok') {
      events.push((i << 1) | 1);
      times.push(op.returnTime);
      order.push((op.complete as { index: number }).index);
    }
  }
  const sorted =
    byIndexWhenTimed(times, order) ??
    Array.from({ length: events.length }, (_, k) => k).sort(
      (a, b) => (times[a] as number) - (times[b] as number) || (order[a] as number) - (order[b] as number),
    );
  return Int32Array.from(sorted, (k) => events[k] as number);
}

/**
 * The events in history order, in O(n), when that order is also time order (as recorded histories are):
 * then it is exactly the (time, index) order. Undefined when some time goes backwards.
 */
function byIndexWhenTimed(times: readonly number[], order: readonly number[]): number[] | undefined {
  let max = -1;
  for (const index of order) if (index > max) max = index;
  if (max > 4 * order.length + 1024) return undefined; // sparse indexes: not worth a table
  const slot = new Int32Array(max + 1).fill(-1);
  for (let k = 0; k < order.length; k++) slot[order[k] as number] = k;
  const sorted: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const k of slot) {
    if (k === -1) continue;
    const time = times[k] as number;
    if (time < last) return undefined;
    last = time;
    sorted.push(k);
  }
  return sorted.length === order.length ? sorted : undefined;
}

/** Orders operations by their calls on the same time line (time, then the history's order). */
export function compareCalls(a: Operation, b: Operation): number {
  return a.callTime - b.callTime || a.invoke.index - b.invoke.index;
}
