import { invalid } from '../core/assert.js';
import { Random } from '../core/random.js';
import type { FaultChoice, ScheduledFault } from './format.js';

/** One injection the schedule will make: when, which fault, and when it heals. Pure data. */
export interface PlannedInjection {
  /** Index of its entry in `faults`, and which tick of that entry. */
  readonly entry: number;
  readonly tick: number;
  readonly atMs: number;
  /** When it heals; absent: at the end of the method. */
  readonly healAtMs?: number;
  readonly kind: string;
  readonly params: FaultChoice['params'];
}

/** A schedule resolves to at most this many injections: the runner holds them all. */
export const maxPlannedInjections = 10_000;

/**
 * Resolves a fault schedule into the injections it makes, from the seed alone: the same seed gives the
 * same instants, choices (`oneOf`) and draws (`probability`), another seed others. Each entry draws from its
 * own stream (`schedule/faults[i]`), so adding an entry leaves the others' draws as they were. Sorted by
 * time, then entry, then tick. Pure: no clock, no I/O.
 */
export function resolveSchedule(
  faults: readonly ScheduledFault[],
  options: { readonly seed: number; readonly limitMs: number },
): PlannedInjection[] {
  const planned: PlannedInjection[] = [];
  const schedule = new Random(options.seed, 'schedule');
  for (const [entry, fault] of faults.entries()) {
    const field = `faults[${entry}]`;
    if (fault.at >= options.limitMs) {
      throw invalid(
        `${field}.at`,
        `${fault.at} ms is not before the time limit (${options.limitMs} ms)`,
        'an earlier time',
      );
    }
    const random = schedule.fork(field);
    const end = Math.min(fault.until ?? options.limitMs, options.limitMs);
    const ticks =
      fault.every === undefined
        ? 1
        : Math.min(fault.times ?? Number.POSITIVE_INFINITY, Math.ceil((end - fault.at) / fault.every));
    if (ticks > maxPlannedInjections) {
      throw invalid(
        `${field}.every`,
        `would tick ${ticks} times; a schedule makes at most ${maxPlannedInjections} injections`,
        'a longer interval, times or until',
      );
    }
    for (let tick = 0; tick < ticks; tick++) {
      const atMs = fault.at + tick * (fault.every ?? 0);
      // Both draws are made on every tick, so one tick's outcome never shifts the next one's.
      const choice = fault.choices[
        fault.choices.length > 1 ? random.int(fault.choices.length) : 0
      ] as FaultChoice;
      const fires = fault.probability === undefined ? true : random.chance(fault.probability);
      if (!fires) continue;
      planned.push({
        entry,
        tick,
        atMs,
        ...(fault.for === undefined ? {} : { healAtMs: atMs + fault.for }),
        kind: choice.kind,
        params: choice.params,
      });
      if (planned.length > maxPlannedInjections) {
        throw invalid(
          'faults',
          `the schedule makes more than ${maxPlannedInjections} injections`,
          'fewer ticks',
        );
      }
    }
  }
  return planned.sort((a, b) => a.atMs - b.atMs || a.entry - b.entry || a.tick - b.tick);
}
