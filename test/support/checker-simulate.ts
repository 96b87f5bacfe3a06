/**
 * Histories from a real sequential object under random concurrency: each client invokes an op, the op
 * takes effect atomically at some later moment, and the client learns the result later still (or
 * crashes, recording `info`, and is replaced by a new process, as in Jepsen). Such histories are
 * linearizable by construction. Used by bench/checker and the checker's property tests.
 */
import type { Op } from '../../src/history/op.js';

/** The randomness the simulator needs (a `Random`, or a fast-check-driven stand-in). */
export interface Draw {
  int(n: number): number;
  chance(probability: number): boolean;
}

export interface Applied<S> {
  readonly state: S;
  readonly type: 'ok' | 'fail';
  /** The completion's value. */
  readonly value: unknown;
}

/** A sequential object and a client workload for it. */
export interface SimSpec<S> {
  readonly init: S;
  /** The next invocation (`f` and its value); `serial` counts invocations, for unique values. */
  invoke(draw: Draw, serial: number): { readonly f: string; readonly value: unknown };
  apply(state: S, f: string, value: unknown): Applied<S>;
}

export interface SimOptions {
  readonly processes: number;
  readonly ops: number;
  /** Chance that a completion is lost (recorded as `info`) — after the op took effect or before. */
  readonly infoProbability: number;
  /** Leave this many calls open at the end of the history (they become `info` when paired). */
  readonly leaveOpen?: number;
}

type Slot =
  | { readonly phase: 'idle'; readonly process: number }
  | { readonly phase: 'invoked'; readonly process: number; readonly f: string; readonly value: unknown }
  | {
      readonly phase: 'applied';
      readonly process: number;
      readonly f: string;
      readonly result: Applied<unknown>;
    };

export function simulate<S>(spec: SimSpec<S>, draw: Draw, options: SimOptions): Op[] {
  const history: Op[] = [];
  const leaveOpen = options.leaveOpen ?? 0;
  let state = spec.init;
  let time = 0;
  let invoked = 0;
  const slots: Slot[] = Array.from({ length: options.processes }, (_, process) => ({
    phase: 'idle',
    process,
  }));
  const emit = (process: number, type: Op['type'], f: string, value: unknown): void => {
    time += 1 + draw.int(3);
    history.push({ process, type, f, value, time, index: history.length });
  };
  // Every loop turn advances one slot; bounded by a few turns per op.
  for (let turn = 0; turn < options.ops * 50; turn++) {
    const done =
      invoked >= options.ops &&
      slots.every((slot, k) => slot.phase === 'idle' || (slot.phase === 'invoked' && k < leaveOpen));
    if (done) break;
    const k = draw.int(slots.length);
    const slot = slots[k] as Slot;
    if (slot.phase === 'idle') {
      if (invoked >= options.ops) continue;
      const { f, value } = spec.invoke(draw, invoked++);
      emit(slot.process, 'invoke', f, value);
      slots[k] = { phase: 'invoked', process: slot.process, f, value };
    } else if (slot.phase === 'invoked') {
      if (invoked >= options.ops && k < leaveOpen) continue; // stays open to the end
      if (draw.chance(options.infoProbability / 2)) {
        // crashed before taking effect
        emit(slot.process, 'info', slot.f, slot.value);
        slots[k] = { phase: 'idle', process: slot.process + options.processes };
        continue;
      }
      const result = spec.apply(state, slot.f, slot.value);
      state = result.state;
      slots[k] = { phase: 'applied', process: slot.process, f: slot.f, result };
    } else {
      if (draw.chance(options.infoProbability / 2)) {
        // took effect, but the client never heard back
        emit(slot.process, 'info', slot.f, null);
        slots[k] = { phase: 'idle', process: slot.process + options.processes };
        continue;
      }
      emit(slot.process, slot.result.type, slot.f, slot.result.value);
      slots[k] = { phase: 'idle', process: slot.process };
    }
  }
  return history;
}

const ok = <S>(state: S, value: unknown): Applied<S> => ({ state, type: 'ok', value });

/** Register: reads and writes of small values (so reads are ambiguous and the search has work). */
export function registerSpec(values = 5): SimSpec<unknown> {
  return {
    init: null,
    invoke: (draw) =>
      draw.chance(0.5) ? { f: 'read', value: null } : { f: 'write', value: draw.int(values) },
    apply: (state, f, value) => (f === 'read' ? ok(state, state) : ok(value, value)),
  };
}

/** CAS register: read, write, cas [old, new] with old drawn near the current value range. */
export function casRegisterSpec(values = 5): SimSpec<unknown> {
  return {
    init: null,
    invoke(draw) {
      const choice = draw.int(3);
      if (choice === 0) return { f: 'read', value: null };
      if (choice === 1) return { f: 'write', value: draw.int(values) };
      return { f: 'cas', value: [draw.int(values), draw.int(values)] };
    },
    apply(state, f, value) {
      if (f === 'read') return ok(state, state);
      if (f === 'write') return ok(value, value);
      const [from, to] = value as [unknown, unknown];
      return from === state ? ok(to, value) : { state, type: 'fail', value };
    },
  };
}

/** Key-value registers in Jepsen's `[key, value]` tuples. */
export function kvSpec(keys = 3, values = 5): SimSpec<ReadonlyMap<number, unknown>> {
  return {
    init: new Map(),
    invoke(draw) {
      const key = draw.int(keys);
      const choice = draw.int(3);
      if (choice === 0) return { f: 'read', value: [key, null] };
      if (choice === 1) return { f: 'write', value: [key, draw.int(values)] };
      return { f: 'cas', value: [key, [draw.int(values), draw.int(values)]] };
    },
    apply(state, f, value) {
      const [key, arg] = value as [number, unknown];
      const current = state.get(key) ?? null;
      if (f === 'read') return ok(state, [key, current]);
      const set = (to: unknown) => new Map(state).set(key, to);
      if (f === 'write') return ok(set(arg), value);
      const [from, to] = arg as [unknown, unknown];
      return from === current ? ok(set(to), value) : { state, type: 'fail', value };
    },
  };
}

/** Append-only lists per key: unique appended values, reads return the whole list. */
export function listAppendSpec(
  keys = 3,
  readProbability = 0.5,
): SimSpec<ReadonlyMap<number, readonly number[]>> {
  return {
    init: new Map(),
    invoke: (draw, serial) => {
      const key = draw.int(keys);
      return draw.chance(readProbability)
        ? { f: 'read', value: [key, null] }
        : { f: 'append', value: [key, serial] };
    },
    apply(state, f, value) {
      const [key, element] = value as [number, number];
      const list = state.get(key) ?? [];
      if (f === 'read') return ok(state, [key, list]);
      return ok(new Map(state).set(key, [...list, element]), value);
    },
  };
}

export function setSpec(): SimSpec<readonly number[]> {
  return {
    init: [],
    invoke: (draw, serial) => (draw.chance(0.4) ? { f: 'read', value: null } : { f: 'add', value: serial }),
    apply: (state, f, value) =>
      f === 'read' ? ok(state, [...state].reverse()) : ok([...state, value as number], value),
  };
}

export function counterSpec(): SimSpec<number> {
  return {
    init: 0,
    invoke: (draw) => (draw.chance(0.4) ? { f: 'read', value: null } : { f: 'add', value: 1 + draw.int(3) }),
    apply: (state, f, value) => (f === 'read' ? ok(state, state) : ok(state + (value as number), value)),
  };
}

export function fifoQueueSpec(): SimSpec<readonly number[]> {
  return {
    init: [],
    invoke: (draw, serial) =>
      draw.chance(0.5) ? { f: 'dequeue', value: null } : { f: 'enqueue', value: serial },
    apply(state, f, value) {
      if (f === 'enqueue') return ok([...state, value as number], value);
      return state.length === 0 ? ok(state, null) : ok(state.slice(1), state[0]);
    },
  };
}

export function mutexSpec(): SimSpec<boolean> {
  return {
    init: false,
    invoke: (draw) => (draw.chance(0.5) ? { f: 'acquire', value: null } : { f: 'release', value: null }),
    apply(locked, f, value) {
      if (f === 'acquire') return locked ? { state: locked, type: 'fail', value } : ok(true, value);
      return locked ? ok(false, value) : { state: locked, type: 'fail', value };
    },
  };
}

/**
 * Porcupine's key-value store with string `append`: get / put / append of short texts per key (a
 * missing key reads as ""). Puts are rarer than appends, so values grow and gets see long texts.
 */
export function kvAppendSpec(keys = 3, putProbability = 0.15): SimSpec<ReadonlyMap<number, string>> {
  return {
    init: new Map(),
    invoke(draw, serial) {
      const key = draw.int(keys);
      if (draw.chance(0.4)) return { f: 'get', value: [key, null] };
      const f = draw.chance(putProbability) ? 'put' : 'append';
      return { f, value: [key, `${serial.toString(36)}.`] };
    },
    apply(state, f, value) {
      const [key, arg] = value as [number, string | null];
      const current = state.get(key) ?? '';
      if (f === 'get') return ok(state, [key, current]);
      const next = f === 'put' ? (arg as string) : current + (arg as string);
      return ok(new Map(state).set(key, next), value);
    },
  };
}
