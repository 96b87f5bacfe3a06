import { invalid } from '../core/assert.js';
import { Random } from '../core/random.js';
import type { FaultChoice, ScheduledFault } from './format.js';

/**
 * What an entry waits for before its clock starts; every condition given must come true, the probe last
 * (it must pass after the others have). Known only at run time, so the schedule keeps it as data.
 */
export interface FaultStart {
  /** The workload has completed this many ops. */
  readonly afterOps?: number;
  /** The entry of this name has healed its last injection. */
  readonly after?: string;
  /** This steady-state probe passes again. */
  readonly whenGreen?: string;
}

/** One injection the schedule will make: when, which fault, and when it heals. Pure data. */
export interface PlannedInjection {
  /** Index of its entry in `faults`, and which tick of that entry. */
  readonly entry: number;
  /** Its entry's name, when it has one. */
  readonly name?: string;
  readonly tick: number;
  /** From the start of the method, or — when `start` is given — from the moment its conditions came true. */
  readonly atMs: number;
  /** The entry's conditions; absent: it starts with the method. */
  readonly start?: FaultStart;
  /** When it heals; absent: at the end of the method. */
  readonly healAtMs?: number;
  readonly kind: string;
  readonly params: FaultChoice['params'];
}

/** A schedule resolves to at most this many injections: the runner holds them all. */
export const maxPlannedInjections = 10_000;

/** One schedule entry as resolved: its conditions, and when its last tick is due (from its start). */
export interface EntryPlan {
  readonly entry: number;
  readonly name?: string;
  readonly start?: FaultStart;
  readonly lastTickMs: number;
}

/** The whole schedule: every entry, and the injections they make. */
export interface ResolvedSchedule {
  readonly entries: readonly EntryPlan[];
  readonly injections: readonly PlannedInjection[];
}

/** The conditions in words: `after 1000 ops, after "kill" is healed, when health is green again`. */
export function describeStart(start: FaultStart): string {
  return [
    ...(start.afterOps === undefined ? [] : [`after ${start.afterOps} ops`]),
    ...(start.after === undefined ? [] : [`after "${start.after}" is healed`]),
    ...(start.whenGreen === undefined ? [] : [`when ${start.whenGreen} is green again`]),
  ].join(', ');
}

/**
 * Resolves a fault schedule into the injections it makes, from the seed alone: the same seed gives the
 * same instants, choices (`oneOf`) and draws (`probability`), another seed others. Each entry draws from its
 * own stream (`schedule/faults[i]`), so adding an entry leaves the others' draws as they were. An entry with
 * conditions is resolved relative to the moment they come true, so its draws are the same whenever that is.
 * Sorted: the unconditional injections by time, then entry, then tick; then the conditional ones by entry
 * and time. Pure: no clock, no I/O.
 */
export function resolveSchedule(
  faults: readonly ScheduledFault[],
  options: { readonly seed: number; readonly limitMs: number },
): PlannedInjection[] {
  return [...resolveEntries(faults, options).injections];
}

/** `resolveSchedule`, with each entry's plan beside the injections: what `runSchedule` needs to run conditions. */
export function resolveEntries(
  faults: readonly ScheduledFault[],
  options: { readonly seed: number; readonly limitMs: number },
): ResolvedSchedule {
  const planned: PlannedInjection[] = [];
  const entries: EntryPlan[] = [];
  const schedule = new Random(options.seed, 'schedule');
  for (const [entry, fault] of faults.entries()) {
    const field = `faults[${entry}]`;
    const start: FaultStart = {
      ...(fault.afterOps === undefined ? {} : { afterOps: fault.afterOps }),
      ...(fault.after === undefined ? {} : { after: fault.after }),
      ...(fault.whenGreen === undefined ? {} : { whenGreen: fault.whenGreen }),
    };
    const conditional = Object.keys(start).length > 0;
    const named = {
      ...(fault.name === undefined ? {} : { name: fault.name }),
      ...(conditional ? { start } : {}),
    };
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
    let lastTickMs = fault.at;
    for (let tick = 0; tick < ticks; tick++) {
      // Every draw is made on every tick, so one tick's outcome never shifts the next one's.
      const choice = fault.choices[
        fault.choices.length > 1 ? random.int(fault.choices.length) : 0
      ] as FaultChoice;
      const fires = fault.probability === undefined ? true : random.chance(fault.probability);
      const atMs =
        fault.at +
        tick * (fault.every ?? 0) +
        (fault.jitter === undefined ? 0 : random.between(0, fault.jitter));
      lastTickMs = Math.max(lastTickMs, atMs);
      if (!fires || atMs >= end) continue;
      planned.push({
        entry,
        ...named,
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
    entries.push({ entry, ...named, lastTickMs });
  }
  // Relative instants of different conditional entries do not compare: each keeps its own group.
  const group = (step: PlannedInjection): number => (step.start === undefined ? -1 : step.entry);
  planned.sort((a, b) => group(a) - group(b) || a.atMs - b.atMs || a.entry - b.entry || a.tick - b.tick);
  return { entries, injections: planned };
}
