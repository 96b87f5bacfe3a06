import type { Operation } from '../../history/index.js';
import { cached, describeOperation, keyedTuple, type Model, requireF, shapeError } from '../model.js';
import { emptyKeyedState, inputTupleKey, type KeyedState, withEntry } from './keyed-state.js';

// The state maps a key's canonical text to its value as a plain string (so `append` is a concat).
const text = cached((op: Operation) => (op.input as readonly unknown[])[1] as string);
const readText = cached((op: Operation) => ((op.output as readonly unknown[])[1] ?? '') as string);

/** Injective: canonical keys are self-delimiting and values are JSON-quoted. */
function stateKey(state: KeyedState): string {
  if (state.size === 0) return '';
  const keys = state.size === 1 ? [...state.keys()] : [...state.keys()].sort();
  return keys.map((key) => `${key}=${JSON.stringify(state.get(key))}`).join(';');
}

/**
 * A map of strings with `append`, as Porcupine's key-value model, in Jepsen's independent-tuple shape:
 * `get` `[k, null]` → ok `[k, "text"]`, `put` `[k, "text"]`, `append` `[k, "text"]` (the value becomes
 * the old value followed by the text). A missing key reads as `""`; a `get` may also return `null` for
 * it. Values are strings: any other value is refused, naming the op's line. Partitioned by key.
 */
export function kvAppendModel(): Model<KeyedState> {
  const model: Model<KeyedState> = {
    name: 'kv-append',
    stepsByValue: true,
    init: () => emptyKeyedState,
    step(state, op) {
      const key = inputTupleKey(op);
      const current = state.get(key) ?? '';
      switch (op.f) {
        case 'get':
          if (op.type === 'info') return state;
          return readText(op) === current ? state : undefined;
        case 'put':
          return text(op) === current ? state : withEntry(state, key, text(op));
        default:
          return text(op) === '' ? state : withEntry(state, key, current + text(op));
      }
    },
    key: stateKey,
    partition: inputTupleKey,
    readOnly: (op) => op.f === 'get',
    validate(op) {
      requireF(op, 'kv-append', ['get', 'put', 'append']);
      if (op.f === 'get') {
        keyedTuple(op, 'input', 'kv-append', 'null');
        if (op.type !== 'ok') return;
        const [, read] = keyedTuple(op, 'output', 'kv-append', 'the string read');
        if (read !== null && typeof read !== 'string') {
          shapeError(op, 'output', 'kv-append', '[key, a string] (or [key, null] for a missing key)');
        }
        return;
      }
      const [, value] = keyedTuple(op, 'input', 'kv-append', 'a string');
      if (typeof value !== 'string') shapeError(op, 'input', 'kv-append', '[key, a string]');
    },
    describe: describeOperation,
    show: (state) => `{${stateKey(state)}}`,
    forOps: (ops) => specialise(model, ops),
  };
  return model;
}

/**
 * The model knowing the partition's ops. Two rules, each sound on its own and together (the plain
 * model accepts a linearization iff this one does):
 *
 * 1. `step`: an `info` append whose text no `ok` get of its key contains, or an `info` put whose value
 *    starts no such get's text, never takes effect. Delete it from a linearization where it does: only
 *    the values up to the next put change, and no get read one of them (each would contain the text,
 *    or start with the put's value); appends and puts do not look at the value. "Never took effect"
 *    is always allowed for an `info` op, so nothing is lost.
 * 2. `doomed`: a key's later values all start with its current value (only appends from now on) or
 *    with the value of some `put` (the last one placed, then appends), so a `get` whose text starts
 *    with neither can never fit. With no put the value only grows, as in list-append.
 *
 * Both need every `ok` get and `put` of the partition among `ops` (more ops only weaken them).
 */
function specialise(model: Model<KeyedState>, ops: readonly Operation[]): Model<KeyedState> {
  const puts = new Map<string, Set<string>>();
  const reads = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, value: string) => {
    const values = map.get(key) ?? new Set<string>();
    values.add(value);
    map.set(key, values);
  };
  for (const op of ops) {
    if (op.type === 'fail') continue;
    if (op.f === 'put') add(puts, inputTupleKey(op), text(op));
    else if (op.f === 'get' && op.type === 'ok') add(reads, inputTupleKey(op), readText(op));
  }
  // Each key's distinct get texts, each after a NUL: one native `includes` answers "some get contains
  // t" (and, with the NUL, "some get starts with t"); a text that itself holds a NUL can only make a
  // match spurious, which keeps the op (sound).
  const seen = new Map([...reads].map(([key, texts]) => [key, [...texts].map((t) => `\0${t}`).join('')]));
  const unseen = cached((op: Operation) => {
    const all = seen.get(inputTupleKey(op)) ?? '';
    return !all.includes(op.f === 'put' ? `\0${text(op)}` : text(op));
  });
  // Whether some put's value starts the get's text: a property of the op alone, so computed once.
  const afterSomePut = cached((op: Operation) => {
    const read = readText(op);
    for (const value of puts.get(inputTupleKey(op)) ?? []) if (read.startsWith(value)) return true;
    return false;
  });
  const step = model.step;
  return {
    ...model,
    step(state, op) {
      if (op.type === 'info' && op.f !== 'get' && unseen(op)) return undefined;
      return step(state, op);
    },
    doomed(state, op) {
      if (op.f !== 'get' || op.type !== 'ok') return false;
      return !readText(op).startsWith(state.get(inputTupleKey(op)) ?? '') && !afterSomePut(op);
    },
  };
}

export const kvAppend: Model<KeyedState> = kvAppendModel();
