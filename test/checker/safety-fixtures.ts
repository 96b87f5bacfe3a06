/** Helpers for the safety checker tests: a history builder and a random-concurrency simulator. */
import fc from 'fast-check';
import type { Op, OpType, ProcessId } from '../../src/history/op.js';

/** Builds a history one op at a time: each op 1ms after the previous (unless `at` says otherwise), op i on line i + 1. */
export class HistoryBuilder {
  readonly ops: Op[] = [];
  private nextTime: number | undefined;

  /** Sets the time (ns) of the next op; later ops follow it 1ms apart. */
  at(timeNs: number): this {
    this.nextTime = timeNs;
    return this;
  }

  add(
    process: ProcessId,
    type: OpType,
    f: string,
    value: unknown,
    extra: Record<string, unknown> = {},
  ): this {
    const index = this.ops.length;
    const previous = this.ops.at(-1);
    const time = this.nextTime ?? (previous === undefined ? 0 : previous.time + 1_000_000);
    this.nextTime = undefined;
    this.ops.push({ process, type, f, value, time, index, line: index + 1, ...extra });
    return this;
  }

  invoke(process: ProcessId, f: string, value: unknown = null): this {
    return this.add(process, 'invoke', f, value);
  }
  ok(process: ProcessId, f: string, value: unknown = null): this {
    return this.add(process, 'ok', f, value);
  }
  fail(process: ProcessId, f: string, value: unknown = null): this {
    return this.add(process, 'fail', f, value);
  }
  info(process: ProcessId, f: string, value: unknown = null): this {
    return this.add(process, 'info', f, value);
  }
  /** An invocation immediately followed by its completion. */
  call(process: ProcessId, f: string, input: unknown, type: OpType, output: unknown = input): this {
    return this.invoke(process, f, input).add(process, type, f, output);
  }
}

/** Re-numbers indexes, lines and times after ops were inserted or removed. */
export function renumber(ops: readonly Op[]): Op[] {
  return ops.map((op, index) => ({ ...op, index, line: index + 1, time: index * 1_000_000 }));
}

/** A system under test for the simulator: its state and how each call changes it. */
export interface Model<S> {
  initial(): S;
  /** The next call a process makes; `n` is a fresh number unique in the run. */
  call(choice: number, n: number): { f: string; value: unknown };
  /** Applies a call at its linearization point; returns the completion's value. */
  apply(state: S, f: string, value: unknown): unknown;
}

export interface Step {
  readonly process: number;
  /** 0..99: what happens to the process's open call (fail, crash, linearize, complete). */
  readonly action: number;
  readonly choice: number;
}

export const stepsArbitrary = (processes: number, maxSteps = 80): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.record({
      process: fc.integer({ min: 0, max: processes - 1 }),
      action: fc.integer({ min: 0, max: 99 }),
      choice: fc.integer({ min: 0, max: 999 }),
    }),
    { maxLength: maxSteps },
  );

type Slot = { kind: 'idle' } | { kind: 'invoked' | 'applied'; f: string; value: unknown; result?: unknown };

export interface SimulateOptions {
  /** Allow `fail` and `info` outcomes (crashes). Default true. */
  readonly faults?: boolean;
}

/**
 * Runs `steps` against a correct, linearizable implementation: each call takes effect atomically
 * somewhere between its invocation and completion, failed calls never, and crashed (`info`) calls
 * before their completion or, sometimes, later. A crashed process comes back under a new id (Jepsen's rule).
 * Returns the history and the final state; calls open at the end crash (`info`), or without faults complete.
 */
export function simulate<S>(
  model: Model<S>,
  steps: readonly Step[],
  options: SimulateOptions = {},
): { history: HistoryBuilder; state: S } {
  const faults = options.faults ?? true;
  const builder = new HistoryBuilder();
  const state = model.initial();
  const slots = new Map<number, Slot>();
  const ids = new Map<number, number>();
  const ghosts: { f: string; value: unknown }[] = [];
  let n = 0;
  const idOf = (p: number) => ids.get(p) ?? p;
  for (const { process: p, action, choice } of steps) {
    const slot = slots.get(p) ?? { kind: 'idle' };
    const id = idOf(p);
    if (faults && action >= 95 && ghosts.length > 0) {
      const ghost = ghosts.shift() as { f: string; value: unknown };
      model.apply(state, ghost.f, ghost.value);
      continue;
    }
    if (slot.kind === 'idle') {
      const call = model.call(choice, n++);
      builder.invoke(id, call.f, call.value);
      slots.set(p, { kind: 'invoked', ...call });
    } else if (slot.kind === 'invoked') {
      if (faults && action < 8) {
        builder.fail(id, slot.f, slot.value);
        slots.set(p, { kind: 'idle' });
      } else if (faults && action < 14) {
        builder.info(id, slot.f, slot.value);
        if (action < 11) ghosts.push({ f: slot.f, value: slot.value }); // takes effect after the crash
        slots.set(p, { kind: 'idle' });
        ids.set(p, id + 1000);
      } else {
        slots.set(p, { ...slot, kind: 'applied', result: model.apply(state, slot.f, slot.value) });
      }
    } else if (faults && action < 6) {
      builder.info(id, slot.f, slot.value);
      slots.set(p, { kind: 'idle' });
      ids.set(p, id + 1000);
    } else {
      builder.ok(id, slot.f, slot.result);
      slots.set(p, { kind: 'idle' });
    }
  }
  for (const [p, slot] of slots) {
    if (slot.kind === 'applied') builder.ok(idOf(p), slot.f, slot.result);
    else if (slot.kind === 'invoked' && faults) builder.info(idOf(p), slot.f, slot.value);
    else if (slot.kind === 'invoked') builder.ok(idOf(p), slot.f, model.apply(state, slot.f, slot.value));
  }
  for (const ghost of ghosts) model.apply(state, ghost.f, ghost.value);
  return { history: builder, state };
}

/** Property-test settings: enough runs to matter, few enough to stay fast. */
export const propertyRuns = { numRuns: 150 };
