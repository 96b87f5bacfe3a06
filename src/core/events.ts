import { type Channel, channel } from 'node:diagnostics_channel';

/**
 * Everything that happens in a run is published once, as a typed event on a named
 * `node:diagnostics_channel` channel (as undici publishes its requests). The runner, telemetry and
 * reports subscribe; nothing logs its own way. Publishing costs one check when nobody listens.
 * Times are on the run's Clock (`atMs`), so a VirtualClock run reports virtual times.
 */
/** The phases of a scenario run, in order; heal and cleanup always run, whatever ended the ones before. */
export const runPhases = [
  'setup',
  'steady-state-before',
  'method',
  'heal',
  'steady-state-after',
  'checks',
  'rollbacks',
  'cleanup',
] as const;
export type RunPhase = (typeof runPhases)[number];

export type FaultlineEvent =
  | {
      readonly type: 'fault.inject';
      /** Ledger entry id, shared with the matching `fault.heal`. */
      readonly id: number;
      readonly kind: string;
      readonly label: string;
      readonly params: unknown;
      readonly atMs: number;
    }
  | {
      readonly type: 'fault.heal';
      readonly id: number;
      readonly label: string;
      /** Set when the heal failed; the entry is then still owed nowhere (the error is reported). */
      readonly error?: unknown;
      readonly atMs: number;
    }
  | {
      readonly type: 'probe';
      readonly name: string;
      readonly ok: boolean;
      readonly durationMs: number;
      readonly error?: string;
      readonly atMs: number;
    }
  | { readonly type: 'op'; readonly op: unknown }
  | {
      /** A scenario's fault schedule as resolved from its seed, published as its method starts. */
      readonly type: 'schedule';
      readonly injections: readonly {
        /** Index of its entry in the scenario's `faults`, its name if any, and which tick of the entry. */
        readonly entry: number;
        readonly name?: string;
        readonly tick: number;
        /** Planned, from the method's start (or from the entry's conditions, `start`). */
        readonly atMs: number;
        readonly healAtMs?: number;
        readonly start?: object;
        readonly kind: string;
        readonly params: unknown;
      }[];
      readonly atMs: number;
    }
  | {
      readonly type: 'phase';
      readonly name: RunPhase;
      readonly state: 'start' | 'end';
      readonly atMs: number;
    }
  | {
      readonly type: 'check';
      /** The checker's name (`linearizability`, `acked-loss`, `recovery` …). */
      readonly checker: string;
      readonly valid: true | false | 'unknown';
      /** Why the verdict is `unknown`, when it is. */
      readonly reason?: string;
      /** How many anomalies the checker found; `anomalies` holds the first few of them. */
      readonly anomalyCount: number;
      readonly anomalies: readonly { readonly type: string; readonly message: string }[];
      /** Every anomaly, summarised by kind (checker/anomaly-summary.ts: count, first, last, a sample). */
      readonly summaries?: readonly CheckEventSummary[];
      readonly stats?: Readonly<Record<string, number>>;
      readonly atMs: number;
    }
  | {
      readonly type: 'run';
      readonly state: 'start';
      /** The scenario's `experiment.name`. */
      readonly scenario: string;
      readonly seed: number;
      readonly atMs: number;
    }
  | {
      readonly type: 'run';
      readonly state: 'end';
      readonly scenario: string;
      readonly seed: number;
      readonly verdict: 'pass' | 'fail' | 'unknown' | 'error' | 'interrupted';
      readonly reason: string;
      /** Ops the workload recorded (invocations and completions). */
      readonly ops: number;
      readonly elapsedMs: number;
      readonly atMs: number;
    }
  | {
      readonly type: 'cleanup';
      readonly residue: string;
      readonly outcome: 'undone' | 'gone' | 'failed' | 'skipped';
      readonly detail?: string;
    };

export type EventType = FaultlineEvent['type'];
export type EventOf<T extends EventType> = Extract<FaultlineEvent, { type: T }>;

/** Channel names, one per event type: `faultline:fault.inject`, `faultline:probe`, … */
export const eventChannelNames = {
  'fault.inject': 'faultline:fault.inject',
  'fault.heal': 'faultline:fault.heal',
  probe: 'faultline:probe',
  op: 'faultline:op',
  schedule: 'faultline:schedule',
  phase: 'faultline:phase',
  cleanup: 'faultline:cleanup',
  check: 'faultline:check',
  run: 'faultline:run',
} as const satisfies Record<EventType, string>;

const channels = new Map<EventType, Channel>(
  Object.entries(eventChannelNames).map(([type, name]) => [type as EventType, channel(name)]),
);

export function publish(event: FaultlineEvent): void {
  const target = channels.get(event.type) as Channel;
  if (target.hasSubscribers) target.publish(event);
}

/**
 * Calls `listener` for every event of the given types (default all) until the returned function is
 * called. A thin typed wrapper over `diagnostics_channel.subscribe`.
 */
export function subscribe(
  listener: (event: FaultlineEvent) => void,
  types: readonly EventType[] = Object.keys(eventChannelNames) as EventType[],
): () => void {
  const onMessage = (message: unknown): void => listener(message as FaultlineEvent);
  const subscribed = types.map((type) => channels.get(type) as Channel);
  for (const one of subscribed) one.subscribe(onMessage);
  return () => {
    for (const one of subscribed) one.unsubscribe(onMessage);
  };
}

/** One anomaly a check event's summary names (checker/anomaly-summary.ts's `AnomalyRef`). */
export interface CheckEventAnomaly {
  readonly message: string;
  /** History time (ns) of its earliest op. */
  readonly timeNs?: number;
  /** `index` of its earliest op in the history. */
  readonly op?: number;
  /** The line of that op in the history file. */
  readonly line?: number;
}

/** Anomalies of one kind, summarised (checker/anomaly-summary.ts's `AnomalySummary`). */
export interface CheckEventSummary {
  readonly type: string;
  readonly count: number;
  /** Earliest in history time (anomalies without ops come after those with, in their listed order). */
  readonly first: CheckEventAnomaly;
  readonly last: CheckEventAnomaly;
  /** At most `sampleSize` anomalies spread evenly over the time order, first and last included. */
  readonly sample: readonly CheckEventAnomaly[];
}
