import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { Injection } from '../core/fault.js';
import { describeStart, type EntryPlan, type PlannedInjection, type ResolvedSchedule } from './schedule.js';

/** What became of one planned injection; times on the run's clock, from the start of the method. */
export interface InjectionRecord {
  readonly step: PlannedInjection;
  /** When it was in force (after `inject` returned); absent if it never was. */
  injectedAtMs?: number;
  healedAtMs?: number;
  /** Why it was not injected, or its heal failed. */
  error?: string;
  /** Why it was not made: its entry's conditions did not come true before the method ended. Not an error. */
  notRun?: string;
}

/** What became of one schedule entry: when its conditions came true (from the start of the method), or not. */
export interface EntryRecord {
  readonly entry: number;
  readonly name?: string;
  startedAtMs?: number;
  notRun?: string;
}

export interface ScheduleRun {
  /**
   * Resolves when every injection was made and every timed heal done (the untimed ones stay in force), and
   * every entry with conditions has started or can no longer start.
   */
  readonly scheduled: Promise<void>;
  readonly records: readonly InjectionRecord[];
  readonly entries: readonly EntryRecord[];
  /** How many injections are in force now. */
  readonly inForce: number;
  /** Heals everything still in force, newest first, and stops the schedule. Idempotent. */
  end(): Promise<void>;
  /** The workload has completed `count` ops in all (`afterOps`). */
  noteOps(count: number): void;
  /** The workload will complete no more ops: an entry still waiting for ops will not start. */
  noteOpsDone(): void;
  /** A probe's result, of a check started at `startedAt` on the clock (`whenGreen`). */
  noteProbe(name: string, ok: boolean, startedAt: number): void;
  /** Whether an entry is waiting for `probe` to pass now — a during-faults probe is checked meanwhile. */
  awaitsProbe(name: string): boolean;
}

/** An entry as the run follows it. */
interface EntryState {
  readonly plan: EntryPlan;
  readonly record: EntryRecord;
  readonly records: InjectionRecord[];
  phase: 'waiting' | 'started' | 'never';
  /** On the clock: when every condition but `whenGreen` had come true. */
  eligibleAt?: number;
  /** Its events not yet done; once started and 0, its last injection is healed (`after`). */
  left: number;
}

interface TimelineEvent {
  readonly atMs: number;
  /** Heals before injections at the same instant, so an entry that repeats is healed before its next tick. */
  readonly order: 0 | 1 | 2;
  readonly state: EntryState;
  readonly record?: InjectionRecord;
  readonly action: 'heal' | 'inject' | 'last-tick';
}

/**
 * Runs a resolved schedule on `clock`, from now: each injection at its `atMs`, each timed heal at its
 * `healAtMs`. An entry with conditions starts when the run tells it they came true (`noteOps`,
 * `noteProbe`, another entry healed) and its instants count from then; one whose conditions do not come
 * true before the end does not run, and its records say why. Injections that fail are recorded, not thrown:
 * the run goes on and its verdict says so. A heal happens through the injection's own `heal()` (the
 * Ledger's entry), so ending the run early, an abort or the Ledger draining heal the same way. No I/O: the
 * caller feeds in the ops and probe results.
 */
export function runSchedule(
  plan: readonly PlannedInjection[] | ResolvedSchedule,
  options: {
    readonly clock: Clock;
    readonly inject: (step: PlannedInjection) => Promise<Injection>;
    readonly signal?: AbortSignal;
    readonly log?: (line: string) => void;
  },
): ScheduleRun {
  const { clock } = options;
  const startMs = clock.now();
  const elapsed = (): number => clock.now() - startMs;
  // Method time, which the schedule's `at` counts in; the log's own stamp is the run's.
  const stamp = (): string => `at method +${(elapsed() / 1000).toFixed(3)}s`;
  const resolved: ResolvedSchedule = isResolved(plan) ? plan : { entries: entriesOf(plan), injections: plan };
  const records: InjectionRecord[] = resolved.injections.map((step) => ({ step }));
  const states = new Map<number, EntryState>();
  for (const entryPlan of resolved.entries) {
    states.set(entryPlan.entry, {
      plan: entryPlan,
      record: { entry: entryPlan.entry, ...(entryPlan.name === undefined ? {} : { name: entryPlan.name }) },
      records: [],
      phase: 'waiting',
      left: 0,
    });
  }
  for (const record of records) states.get(record.step.entry)?.records.push(record);
  const byName = new Map([...states.values()].flatMap((s) => (s.plan.name ? [[s.plan.name, s]] : [])));
  const label = (state: EntryState): string =>
    `faults[${state.plan.entry}]${state.plan.name === undefined ? '' : ` "${state.plan.name}"`}`;

  const live = new Map<InjectionRecord, Injection>();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // What is due, latest first (the next one is popped off the end).
  const timeline: TimelineEvent[] = [];
  const later = (a: TimelineEvent, b: TimelineEvent): number =>
    b.atMs - a.atMs ||
    b.order - a.order ||
    b.state.plan.entry - a.state.plan.entry ||
    (b.record?.step.tick ?? 0) - (a.record?.step.tick ?? 0);
  // Told when an entry starts or gives up, so the loop looks again at what is due.
  let wake = new AbortController();
  let ops = 0;
  let opsDone = false;

  const start = (state: EntryState): void => {
    state.phase = 'started';
    const offset = elapsed();
    state.record.startedAtMs = offset;
    if (state.plan.start !== undefined)
      options.log?.(`${label(state)} starts: ${describeStart(state.plan.start)} ${stamp()}`);
    const events: TimelineEvent[] = [
      { atMs: offset + state.plan.lastTickMs, order: 2, state, action: 'last-tick' },
    ];
    for (const record of state.records) {
      events.push({ atMs: offset + record.step.atMs, order: 1, state, record, action: 'inject' });
      if (record.step.healAtMs !== undefined)
        events.push({ atMs: offset + record.step.healAtMs, order: 0, state, record, action: 'heal' });
    }
    state.left = events.length;
    timeline.push(...events);
    timeline.sort(later);
    wake.abort();
  };
  const giveUp = (state: EntryState, why: string): void => {
    state.phase = 'never';
    const notRun = `not run: ${why}`;
    state.record.notRun = notRun;
    for (const record of state.records) record.notRun = notRun;
    options.log?.(`${label(state)} ${notRun} ${stamp()}`);
    wake.abort();
  };
  /** Starts, or gives up on, the waiting entries whose conditions allow it, until nothing changes. */
  const settle = (): void => {
    // Once stopped, nothing starts: end() says what did not run.
    for (let changed = !stop.signal.aborted; changed; ) {
      changed = false;
      for (const state of states.values()) {
        if (state.phase !== 'waiting') continue;
        const when = state.plan.start ?? {};
        const before = when.after === undefined ? undefined : byName.get(when.after);
        if (before?.phase === 'never') {
          giveUp(state, `"${when.after}" did not run`);
          changed = true;
          continue;
        }
        const opsMet = when.afterOps === undefined || ops >= when.afterOps;
        if (!opsMet && opsDone) {
          giveUp(state, `the workload completed ${ops} ops, not ${when.afterOps}`);
          changed = true;
          continue;
        }
        const afterMet = before === undefined || (before.phase === 'started' && before.left === 0);
        if (!opsMet || !afterMet || state.eligibleAt !== undefined) continue;
        state.eligibleAt = clock.now();
        if (when.whenGreen === undefined) {
          start(state);
          changed = true;
        }
      }
    }
  };
  const done = (state: EntryState): void => {
    state.left--;
    if (state.left === 0) settle();
  };

  const heal = async (record: InjectionRecord): Promise<void> => {
    const injection = live.get(record);
    if (injection === undefined) return;
    live.delete(record);
    try {
      await injection.heal();
      record.healedAtMs = elapsed();
    } catch (error) {
      record.error = `heal failed: ${messageOf(error)}`;
    }
  };
  const inject = async (record: InjectionRecord): Promise<void> => {
    const { step } = record;
    const what = `${step.kind}${step.name === undefined ? '' : ` (${step.name})`}`;
    try {
      const injection = await options.inject(step);
      record.injectedAtMs = elapsed();
      live.set(record, injection);
      options.log?.(`inject ${what} ${stamp()}`);
    } catch (error) {
      record.error = messageOf(error);
      options.log?.(`could not inject ${what} ${stamp()}: ${record.error}`);
    }
  };
  /** Sleeps `ms` (forever when undefined) or until woken or stopped; true if woken or stopped. */
  const pause = async (ms: number | undefined): Promise<boolean> => {
    const woken = wake.signal;
    const either = AbortSignal.any([stop.signal, woken]);
    if (ms === undefined) {
      if (!either.aborted)
        await new Promise((resolve) => either.addEventListener('abort', resolve, { once: true }));
    } else await clock.sleep(ms, either).catch(() => {});
    if (woken.aborted) wake = new AbortController();
    return either.aborted;
  };

  const scheduled = (async () => {
    settle();
    while (!stop.signal.aborted) {
      const next = timeline.at(-1);
      if (next === undefined) {
        if (![...states.values()].some((state) => state.phase === 'waiting')) return;
        await pause(undefined);
        continue;
      }
      // Slept the whole wait: `next` is due. A Node timer counts whole ms of the loop's time and may fire a
      // fraction of a ms early; sleeping that fraction again would cost a whole timer turn (~1 ms late).
      // Woken instead, the timeline may have changed: look again.
      const wait = next.atMs - elapsed();
      if (wait > 0 && (await pause(wait))) continue;
      timeline.pop();
      if (next.action === 'heal') await heal(next.record as InjectionRecord);
      else if (next.action === 'inject') await inject(next.record as InjectionRecord);
      if (stop.signal.aborted) return;
      done(next.state);
    }
  })();

  let ending: Promise<void> | undefined;
  return {
    scheduled,
    records,
    entries: [...states.values()].map((state) => state.record),
    get inForce() {
      return live.size;
    },
    end() {
      ending ??= (async () => {
        stop.abort();
        options.signal?.removeEventListener('abort', onAbort);
        await scheduled;
        for (const state of states.values()) {
          if (state.phase === 'waiting') giveUp(state, `the method ended first (${pending(state)})`);
        }
        for (const record of [...live.keys()].reverse()) await heal(record);
      })();
      return ending;
    },
    noteOps(count) {
      if (count <= ops) return;
      ops = count;
      settle();
    },
    noteOpsDone() {
      opsDone = true;
      settle();
    },
    noteProbe(name, ok, startedAt) {
      if (!ok || stop.signal.aborted) return;
      for (const state of states.values()) {
        const eligible = state.eligibleAt;
        if (state.phase === 'waiting' && state.plan.start?.whenGreen === name)
          if (eligible !== undefined && startedAt >= eligible) start(state);
      }
    },
    awaitsProbe(name) {
      for (const state of states.values()) {
        if (
          state.phase === 'waiting' &&
          state.eligibleAt !== undefined &&
          state.plan.start?.whenGreen === name
        )
          return true;
      }
      return false;
    },
  };

  /** What an entry that never started was still waiting for. */
  function pending(state: EntryState): string {
    const when = state.plan.start ?? {};
    if (when.afterOps !== undefined && ops < when.afterOps)
      return `the workload had completed ${ops} of ${when.afterOps} ops`;
    if (state.eligibleAt === undefined) return `"${when.after}" was not healed yet`;
    return `${when.whenGreen} did not pass again`;
  }
}

function isResolved(plan: readonly PlannedInjection[] | ResolvedSchedule): plan is ResolvedSchedule {
  return !Array.isArray(plan);
}

/** The entries a bare list of injections implies: unconditional ones unless a step says otherwise. */
function entriesOf(planned: readonly PlannedInjection[]): EntryPlan[] {
  const entries = new Map<number, EntryPlan>();
  for (const step of planned) {
    const known = entries.get(step.entry);
    const lastTickMs = Math.max(known?.lastTickMs ?? 0, step.atMs);
    entries.set(step.entry, {
      entry: step.entry,
      ...(step.name === undefined ? {} : { name: step.name }),
      ...(step.start === undefined ? {} : { start: step.start }),
      lastTickMs,
    });
  }
  return [...entries.values()];
}
