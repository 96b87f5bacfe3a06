import type { Operation } from '../../history/index.js';
import { cached, valueKey } from '../model.js';

/**
 * The state of a keyed model (kv, list-append): canonical key → canonical value text. Immutable; `set`
 * copies (key-value histories touch few keys, and partitioning leaves one key per check).
 */
export type KeyedState = ReadonlyMap<string, string>;

export const emptyKeyedState: KeyedState = new Map();

export function withEntry(state: KeyedState, key: string, value: string): KeyedState {
  const next = new Map(state);
  next.set(key, value);
  return next;
}

/** Injective: canonical keys and values are self-delimiting (quoted strings, numbers, brackets). */
export function keyedStateKey(state: KeyedState): string {
  if (state.size === 0) return '';
  if (state.size === 1) {
    for (const [key, value] of state) return `${key}=${value}`;
  }
  return [...state.keys()]
    .sort()
    .map((key) => `${key}=${state.get(key)};`)
    .join('');
}

/** `valueKey` of the key of an independent-tuple input `[k, v]`, memoized per op. */
export const inputTupleKey: (op: Operation) => string = cached((op) =>
  valueKey((op.input as readonly unknown[])[0]),
);

/** `valueKey` of the value of an independent-tuple input `[k, v]`, memoized per op. */
export const inputTupleValueKey: (op: Operation) => string = cached((op) =>
  valueKey((op.input as readonly unknown[])[1]),
);
