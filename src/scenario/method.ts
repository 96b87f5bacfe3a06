import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { Injection } from '../core/fault.js';
import type { PlannedInjection } from './schedule.js';

/** What became of one planned injection; times on the run's clock, from the start of the method. */
export interface InjectionRecord {
  readonly step: PlannedInjection;
  /** When it was in force (after `inject` returned); absent if it never was. */
  injectedAtMs?: number;
  healedAtMs?: number;
  /** Why it was not injected, or its heal failed. */
  error?: string;
}

export interface ScheduleRun {
  /** Resolves when every injection was made and every timed heal done (the untimed ones stay in force). */
  readonly scheduled: Promise<void>;
  readonly records: readonly InjectionRecord[];
  /** How many injections are in force now. */
  readonly inForce: number;
  /** Heals everything still in force, newest first, and stops the schedule. Idempotent. */
  end(): Promise<void>;
}

/**
 * Runs a resolved schedule on `clock`, from now: each injection at its `atMs`, each timed heal at its
 * `healAtMs`. Injections that fail are recorded, not thrown: the run goes on and its verdict says so. A
 * heal happens through the injection's own `heal()` (the Ledger's entry), so ending the run early, an
 * abort or the Ledger draining heal the same way.
 */
export function runSchedule(
  planned: readonly PlannedInjection[],
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
  const records: InjectionRecord[] = planned.map((step) => ({ step }));
  const live = new Map<InjectionRecord, Injection>();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // One timeline of what happens when, in order: heals before injections at the same instant, so an entry
  // that repeats is healed before its next tick.
  const events = records.flatMap((record) => [
    { atMs: record.step.atMs, order: 1, record, action: 'inject' as const },
    ...(record.step.healAtMs === undefined
      ? []
      : [{ atMs: record.step.healAtMs, order: 0, record, action: 'heal' as const }]),
  ]);
  events.sort((a, b) => a.atMs - b.atMs || a.order - b.order);

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

  const scheduled = (async () => {
    for (const event of events) {
      const wait = event.atMs - elapsed();
      if (wait > 0) await clock.sleep(wait, stop.signal).catch(() => {});
      if (stop.signal.aborted) return;
      if (event.action === 'heal') {
        await heal(event.record);
        continue;
      }
      try {
        const injection = await options.inject(event.record.step);
        event.record.injectedAtMs = elapsed();
        live.set(event.record, injection);
        options.log?.(`+${(event.record.injectedAtMs / 1000).toFixed(3)}s inject ${event.record.step.kind}`);
      } catch (error) {
        event.record.error = messageOf(error);
        options.log?.(
          `+${(elapsed() / 1000).toFixed(3)}s could not inject ${event.record.step.kind}: ${event.record.error}`,
        );
      }
    }
  })();

  let ending: Promise<void> | undefined;
  return {
    scheduled,
    records,
    get inForce() {
      return live.size;
    },
    end() {
      ending ??= (async () => {
        stop.abort();
        options.signal?.removeEventListener('abort', onAbort);
        await scheduled;
        for (const record of [...live.keys()].reverse()) await heal(record);
      })();
      return ending;
    },
  };
}
