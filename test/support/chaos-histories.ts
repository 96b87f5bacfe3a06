/**
 * Histories shaped the way chaos makes them: clients of one store call it at a steady pace, and during
 * fault windows (a `timeout` toxic, a partition) most calls hang until the client gives up. A hung call
 * is recorded `info` and the client is replaced by a new process, as in Jepsen; the store may still apply
 * the hung request at any moment until the window ends, or never. So each window leaves 20–30 writes of
 * unknown outcome pending at once — the histories that the checker must decide. Linearizable by
 * construction; `falsifyRead` turns one into a history that is certainly not. Used by bench/checker and
 * the checker's tests.
 */
import { type Op, type Operation, pairOperations } from '../../src/history/op.js';

/** The randomness the generator needs (a `Random`). */
export interface ChaosDraw {
  int(n: number): number;
  chance(probability: number): boolean;
}

export type ChaosModel = 'register' | 'counter' | 'kv';

export interface ChaosOptions {
  readonly model: ChaosModel;
  /** Calls invoked in all (ok, fail and info together). */
  readonly ops: number;
  /** Concurrent clients (default 5). */
  readonly clients?: number;
  /** Keys for `kv` (default 50); register and counter have one. */
  readonly keys?: number;
  /** Fault windows, evenly spread over the history (default 4). */
  readonly windows?: number;
  /** Length of a window in ns (default 500 ms). */
  readonly windowNs?: number;
  /** Chance that a call invoked in a window hangs (default 0.7); the rest complete normally. */
  readonly hangProbability?: number;
  /** The client's timeout in ns (default 50 ms): how long a hung call stays open before `info`. */
  readonly timeoutNs?: number;
  /** Chance that a hung call was applied anyway (default 0.5). */
  readonly appliedProbability?: number;
  /** Chance that a call is a write (default 0.5; `add` for the counter). */
  readonly writeProbability?: number;
  /**
   * Register/kv writes write distinct values (default true, what chaos workloads generate); false draws
   * each from 0..4, so values repeat and the distinct-values algorithm does not apply.
   */
  readonly distinctValues?: boolean;
}

/** Where the fault windows of a generated history are, for placing a falsified read. */
export interface ChaosHistory {
  readonly ops: Op[];
  readonly windows: readonly { readonly startNs: number; readonly endNs: number }[];
}

interface Call {
  readonly process: number;
  readonly f: 'read' | 'write' | 'add';
  readonly key: number;
  readonly value: unknown;
  readonly invokeNs: number;
  /** When the store applies it; undefined: never. */
  readonly effectNs: number | undefined;
  readonly completeNs: number;
  readonly hung: boolean;
}

const msNs = 1_000_000;
/** Values a write draws from when `distinctValues` is false. */
const repeatedValues = 5;

/** A linearizable history of `options.ops` calls with fault windows (see the module comment). */
export function chaosHistory(draw: ChaosDraw, options: ChaosOptions): ChaosHistory {
  const clients = options.clients ?? 5;
  const keys = options.model === 'kv' ? (options.keys ?? 50) : 1;
  const windowCount = options.windows ?? 4;
  const windowNs = options.windowNs ?? 500 * msNs;
  const hangProbability = options.hangProbability ?? 0.7;
  const timeoutNs = options.timeoutNs ?? 50 * msNs;
  const appliedProbability = options.appliedProbability ?? 0.5;
  const writeProbability = options.writeProbability ?? 0.5;
  const distinctValues = options.distinctValues ?? true;
  // A healthy call takes 0.2–2 ms, so the history lasts about ops × 1.1 ms / clients, plus the windows.
  const healthyNs = (options.ops * 1.1 * msNs) / clients;
  const windows = Array.from({ length: windowCount }, (_, w) => {
    const startNs = Math.round(((w + 1) * healthyNs) / (windowCount + 1) + w * windowNs);
    return { startNs, endNs: startNs + windowNs };
  });
  const windowAt = (ns: number) => windows.find((window) => ns >= window.startNs && ns < window.endNs);

  let serial = 0;
  let invoked = 0;
  const processes = Array.from({ length: clients }, (_, k) => k);
  const nextInvoke = Array.from({ length: clients }, () => draw.int(msNs));
  const inFlight: (Call | undefined)[] = new Array(clients).fill(undefined);
  /** Calls whose effect is still to come (a hung call's may come after its client gave up). */
  const effects: Call[] = [];
  const readResults = new Map<Call, unknown>();
  const initial = options.model === 'counter' ? 0 : null;
  const state = new Map<number, unknown>();
  const ops: Op[] = [];
  const emit = (process: number, type: Op['type'], f: string, value: unknown, time: number): void => {
    ops.push({ process, type, f, value, time, index: ops.length });
  };
  const tuple = (call: Call, value: unknown): unknown => (options.model === 'kv' ? [call.key, value] : value);

  // Each turn handles the earliest event: an effect, then a completion, then an invocation.
  for (let guard = 0; guard < options.ops * 10; guard++) {
    let effectAt = -1;
    for (let i = 0; i < effects.length; i++) {
      if (effectAt < 0 || (effects[i] as Call).effectNs! < (effects[effectAt] as Call).effectNs!)
        effectAt = i;
    }
    let client = -1;
    let clientNs = Number.POSITIVE_INFINITY;
    for (let k = 0; k < clients; k++) {
      const call = inFlight[k];
      const at =
        call === undefined ? (invoked < options.ops ? (nextInvoke[k] as number) : Infinity) : call.completeNs;
      if (at < clientNs) {
        clientNs = at;
        client = k;
      }
    }
    const effect = effectAt < 0 ? undefined : (effects[effectAt] as Call);
    if (effect !== undefined && (effect.effectNs as number) <= clientNs) {
      effects.splice(effectAt, 1);
      const current = state.get(effect.key) ?? initial;
      if (effect.f === 'read') readResults.set(effect, current);
      else state.set(effect.key, effect.f === 'add' ? (current as number) + 1 : effect.value);
      continue;
    }
    if (client < 0) break;
    const call = inFlight[client];
    if (call === undefined) {
      const next = makeCall(client, clientNs);
      invoked++;
      inFlight[client] = next;
      if (next.effectNs !== undefined) effects.push(next);
      emit(next.process, 'invoke', next.f, tuple(next, next.value), clientNs);
      continue;
    }
    inFlight[client] = undefined;
    nextInvoke[client] = clientNs + draw.int(200_000);
    if (call.hung) {
      emit(call.process, 'info', call.f, tuple(call, call.value), clientNs);
      processes[client] = (processes[client] as number) + clients; // a crashed client is replaced
      readResults.delete(call);
    } else {
      emit(
        call.process,
        'ok',
        call.f,
        tuple(call, call.f === 'read' ? readResults.get(call) : call.value),
        clientNs,
      );
      readResults.delete(call);
    }
  }
  return { ops, windows };

  function makeCall(client: number, now: number): Call {
    const key = draw.int(keys);
    const write = draw.chance(writeProbability);
    const f = write ? (options.model === 'counter' ? 'add' : 'write') : 'read';
    const value = !write
      ? null
      : options.model === 'counter'
        ? 1
        : distinctValues
          ? ++serial
          : draw.int(repeatedValues);
    const process = processes[client] as number;
    const window = windowAt(now);
    if (window !== undefined && draw.chance(hangProbability)) {
      // Hung: the store applies it before the window ends, or never; the client gives up at its timeout.
      const effectNs = draw.chance(appliedProbability)
        ? now + draw.int(Math.max(1, window.endNs - now))
        : undefined;
      return { process, f, key, value, invokeNs: now, effectNs, completeNs: now + timeoutNs, hung: true };
    }
    const latency = 200_000 + draw.int(1_800_000);
    return {
      process,
      f,
      key,
      value,
      invokeNs: now,
      effectNs: now + draw.int(latency),
      completeNs: now + latency,
      hung: false,
    };
  }
}

const keyOf = (model: ChaosModel, value: unknown): unknown =>
  model === 'kv' ? (value as readonly unknown[])[0] : undefined;

/**
 * The history with one ok read made impossible, placed in the middle fault window after
 * `afterTimeouts` of its writes (adds) have timed out: the first ok read invoked after that whose result
 * can be made stale. A register/kv read returns a value overwritten before the read began (w1 completed
 * before w2 was invoked, w2 completed before the read was invoked); a counter read returns one less than
 * the adds completed before it began. Either is impossible whatever the pending writes did.
 */
export function falsifyRead(history: ChaosHistory, model: ChaosModel, afterTimeouts: number): Op[] {
  const window = history.windows[history.windows.length >> 1] as { startNs: number; endNs: number };
  const pairs = pairOperations(history.ops);
  const timedOut = pairs.filter(
    (pair) =>
      pair.type === 'info' &&
      pair.f !== 'read' &&
      pair.callTime >= window.startNs &&
      pair.callTime < window.endNs,
  );
  const from = afterTimeouts === 0 ? window.startNs : (timedOut[afterTimeouts - 1]?.callTime ?? window.endNs);
  for (const read of pairs) {
    if (read.f !== 'read' || read.type !== 'ok' || read.callTime <= from) continue;
    const key = keyOf(model, read.input);
    const before = (pair: Operation, ns: number): boolean =>
      pair.f !== 'read' && pair.type === 'ok' && pair.returnTime < ns && keyOf(model, pair.input) === key;
    let stale: unknown;
    if (model === 'counter') {
      const done = pairs.filter((pair) => before(pair, read.callTime)).length;
      if (done === 0) continue;
      stale = done - 1;
    } else {
      const w2 = pairs.findLast((pair) => before(pair, read.callTime));
      const w1 = w2 === undefined ? undefined : pairs.findLast((pair) => before(pair, w2.callTime));
      if (w1 === undefined) continue;
      stale = model === 'kv' ? [key, (w1.input as readonly unknown[])[1]] : w1.input;
    }
    const victim = read.complete;
    return history.ops.map((op) => (op === victim ? { ...op, value: stale } : op));
  }
  throw new Error(`no read to falsify after ${afterTimeouts} timeouts in the middle window`);
}

/** Most writes (adds) of unknown outcome invoked in one fault window: the pending timeouts a check faces. */
export function pendingTimeouts(history: ChaosHistory): number {
  const infos = history.ops.filter((op) => op.type === 'info' && op.f !== 'read');
  return Math.max(
    ...history.windows.map(
      (window) =>
        infos.filter((op) => op.time >= window.startNs && op.time < window.endNs + 60 * msNs).length,
    ),
  );
}
