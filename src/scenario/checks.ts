import { checkLinearizability } from '../check-driver/index.js';
import {
  builtInModel,
  type CheckResult,
  checkAckedWrites,
  checkConvergence,
  checkCounter,
  checkMonotonicReads,
  checkNoDuplicates,
  checkQueue,
  checkSet,
  checkTotalQueue,
  modelNames,
} from '../checker/index.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { messageOf } from '../core/errors.js';
import type { Op } from '../history/index.js';
import type { Scenario } from './format.js';
import type { InjectionRecord } from './method.js';

/** One probe check during the run: which probe, when (ms from the start of the method), passed or not. */
export interface ProbeSample {
  readonly probe: string;
  readonly atMs: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** What the checks are given: the recorded history (if there was a workload), probe samples, the faults. */
export interface CheckInputs {
  readonly history?: readonly Op[];
  readonly samples: readonly ProbeSample[];
  readonly injections: readonly InjectionRecord[];
  readonly clock: Clock;
  /** Budget of a linearizability check. */
  readonly timeoutMs: number;
  /** The checker model the workload's history fits (`kv`, `set` …), if there is a workload. */
  readonly model?: string | undefined;
}

type CheckSpec = NonNullable<Scenario['checks']>[number];

/** One line for people: `linearizability: valid`, or `acked-writes: INVALID — 3 writes were lost …`. */
export function describeCheck(check: CheckResult): string {
  if (check.valid === true) return `${check.checker}: valid`;
  const verdict = check.valid === false ? 'INVALID' : 'unknown';
  return `${check.checker}: ${verdict} — ${check.anomalies[0]?.message ?? check.reason ?? ''}`;
}

/** A check that could not decide, and why. */
const undecided = (checker: string, reason: string): CheckResult => ({
  checker,
  valid: 'unknown',
  anomalies: [],
  reason,
});

/**
 * Runs one check of the scenario. A check that needs a history when the scenario has no workload, or names
 * a model that does not exist, is `unknown` with the reason; a failed check is a result, never a throw.
 */
export async function runCheck(spec: CheckSpec, inputs: CheckInputs): Promise<CheckResult> {
  try {
    return await check(spec, inputs);
  } catch (error) {
    // A history the checker cannot read (a check that does not fit the workload) decides nothing.
    return undecided(spec.check, `the history does not fit this check: ${messageOf(error)}`);
  }
}

/** The checks that read the recorded history, by the name a scenario gives them. */
type HistoryCheck<S extends CheckSpec> = (
  history: readonly Op[],
  spec: S,
  inputs: CheckInputs,
) => CheckResult | Promise<CheckResult>;

const historyChecks: { readonly [K in CheckSpec['check']]?: HistoryCheck<Extract<CheckSpec, { check: K }>> } =
  {
    linearizability: (history, spec, inputs) =>
      checkLinearizability(
        // A kv scan reads every key at once: not an op of the single-key models.
        dense(history.filter((op) => op.f !== 'scan')),
        builtInModel(spec.model) as NonNullable<ReturnType<typeof builtInModel>>,
        {
          timeoutMs: inputs.timeoutMs,
          clock: inputs.clock,
        },
      ),
    // Items added to a set and read back (the set workload's add, read), or keys written and scanned (kv).
    'acked-writes': (history, _spec, inputs) =>
      inputs.model === 'kv'
        ? ackedKvWrites(history, inputs.injections)
        : checkAckedWrites(history, { writeF: 'add' }),
    set: (history) => checkSet(history),
    counter: (history) => checkCounter(history),
    queue: (history) => checkQueue(history),
    'total-queue': (history) => checkTotalQueue(history),
    duplicates: (history) => checkNoDuplicates(history),
    'monotonic-reads': (history) => checkMonotonicReads(history),
    convergence: (history, spec) => checkConvergence(history, { deadlineNs: spec.within * 1e6 }),
  };

async function check(spec: CheckSpec, inputs: CheckInputs): Promise<CheckResult> {
  if (spec.check === 'probe-success')
    return probeSuccess(spec.probe, spec.minPercent, spec.degradedBelowPercent, inputs.samples);
  if (spec.check === 'recovery-slo') return recoverySlo(spec.within, inputs.samples, inputs.injections);
  const checker = historyChecks[spec.check] as HistoryCheck<CheckSpec> | undefined;
  if (checker === undefined) return undecided(spec.check, `no checker named ${spec.check}`);
  if (spec.check === 'linearizability' && builtInModel(spec.model) === undefined) {
    return undecided(
      spec.check,
      `unknown model ${JSON.stringify(spec.model)}; valid: ${modelNames.join(', ')}`,
    );
  }
  if (inputs.history === undefined) {
    return undecided(spec.check, 'the scenario has no workload, so there is no history to check');
  }
  if (spec.check === 'acked-writes' && inputs.model !== 'set' && inputs.model !== 'kv') {
    return undecided(
      spec.check,
      `acked-writes reads a set workload's adds and reads, or a kv workload's writes and scan; this workload's history fits ${inputs.model ?? 'no model'}`,
    );
  }
  return checker(inputs.history, spec, inputs);
}

/**
 * The share of a probe's checks that passed, against `minPercent`. Below `degradedBelowPercent` but at
 * least `minPercent` the check holds and its stats say `degraded: 1`: the target degraded but kept serving.
 */
function probeSuccess(
  probe: string,
  minPercent: number,
  degradedBelowPercent: number | undefined,
  samples: readonly ProbeSample[],
): CheckResult {
  const mine = samples.filter((sample) => sample.probe === probe);
  const checker = `probe-success ${probe}`;
  if (mine.length === 0) {
    return undecided(checker, `probe "${probe}" was never checked during the run`);
  }
  const passed = mine.filter((sample) => sample.ok).length;
  const percent = (100 * passed) / mine.length;
  const valid = percent >= minPercent;
  return {
    checker,
    valid,
    anomalies: valid
      ? []
      : [
          {
            type: 'probe-failures',
            message: `${probe} passed ${passed} of ${mine.length} checks (${percent.toFixed(1)} %), less than ${minPercent} %`,
            failures: mine
              .filter((sample) => !sample.ok)
              .map((sample) => ({ atMs: sample.atMs, error: sample.error })),
          },
        ],
    stats: {
      checks: mine.length,
      passed,
      percent,
      ...(valid && degradedBelowPercent !== undefined && percent < degradedBelowPercent
        ? { degraded: 1 }
        : {}),
    },
  };
}

/**
 * Time to green after each heal: from the heal to the first check of every probe that passed after it
 * (a probe that never failed around the heal counts 0). Each must be at most `withinMs`.
 */
function recoverySlo(
  withinMs: number,
  samples: readonly ProbeSample[],
  injections: readonly InjectionRecord[],
): CheckResult {
  const probes = [...new Set(samples.map((sample) => sample.probe))];
  const anomalies: CheckResult['anomalies'][number][] = [];
  let worst = 0;
  let unknown = false;
  for (const record of injections) {
    if (record.healedAtMs === undefined) continue;
    for (const probe of probes) {
      const after = samples.filter((s) => s.probe === probe && s.atMs >= (record.healedAtMs as number));
      const green = after.find((s) => s.ok);
      if (green === undefined) {
        unknown ||= after.length === 0;
        if (after.length > 0) {
          anomalies.push({
            type: 'never-green',
            message: `${probe} never passed after ${record.step.kind} healed at ${record.healedAtMs} ms`,
          });
        }
        continue;
      }
      const took = green.atMs - record.healedAtMs;
      worst = Math.max(worst, took);
      if (took > withinMs) {
        anomalies.push({
          type: 'slow-recovery',
          message: `${probe} was green ${took} ms after ${record.step.kind} healed (at ${record.healedAtMs} ms), more than ${withinMs} ms`,
        });
      }
    }
  }
  const valid = anomalies.length > 0 ? false : unknown ? 'unknown' : true;
  return {
    checker: 'recovery-slo',
    valid,
    anomalies,
    ...(valid === 'unknown' ? { reason: 'a probe was not checked after a heal' } : {}),
    stats: { worstMs: worst, withinMs },
  };
}

/** The ops, re-indexed 0…n-1 (a checker reads a dense history). */
function dense(history: readonly Op[]): Op[] {
  return history.map((op, index) => (op.index === index ? op : { ...op, index }));
}

const ms = (value: number): string => formatDuration(Math.round(value * 100) / 100);

/**
 * acked-writes over the kv workload: a write's item is its key (each write has a fresh key; a cas may change
 * the value later, not the key), and the final scan lists the keys present. Each lost write is named with
 * its value, when it was acknowledged and how long before the next fault in force (the kill that lost it),
 * all in ms from the start of the method (the history's clock starts with the workload, at the method's start).
 */
function ackedKvWrites(history: readonly Op[], injections: readonly InjectionRecord[]): CheckResult {
  const projected = dense(
    history
      .filter((op) => op.f === 'write' || op.f === 'scan')
      .map((op) => (op.f === 'write' ? { ...op, value: (op.value as [string, unknown])[0] } : op)),
  );
  const result = checkAckedWrites(projected, { readF: 'scan' });
  const acked = new Map<string, { value: unknown; atMs: number; invokedAtMs: number }>();
  const invokedAt = new Map<Op['process'], number>();
  for (const op of history) {
    if (op.type === 'invoke') invokedAt.set(op.process, op.time / 1e6);
    if (op.f !== 'write' || op.type !== 'ok') continue;
    const [key, value] = op.value as [string, unknown];
    const atMs = op.time / 1e6;
    acked.set(key, { value, atMs, invokedAtMs: invokedAt.get(op.process) ?? atMs });
  }
  const faults = injections
    .filter((record) => record.injectedAtMs !== undefined)
    .map((record) => ({ kind: record.step.kind, atMs: record.injectedAtMs as number }))
    .sort((a, b) => a.atMs - b.atMs);
  const anomalies = result.anomalies.map((anomaly) => {
    const write = anomaly.type === 'lost' ? acked.get(anomaly.item as string) : undefined;
    if (write === undefined) return anomaly;
    // The fault that lost it is the first one in force after the write was sent: an answer may reach the
    // client just after the fault struck (a kill is recorded once the process is gone).
    const fault = faults.find((f) => f.atMs >= write.invokedAtMs);
    const when =
      fault === undefined
        ? 'after the last fault'
        : fault.atMs >= write.atMs
          ? `${ms(fault.atMs - write.atMs)} before ${fault.kind} (at ${ms(fault.atMs)})`
          : `in flight as ${fault.kind} struck (at ${ms(fault.atMs)})`;
    return {
      ...anomaly,
      message: `${anomaly.item} = ${JSON.stringify(write.value)}, acknowledged at ${ms(write.atMs)}, ${when}`,
      value: write.value,
      ackedAtMs: write.atMs,
      ...(fault === undefined ? {} : { fault: fault.kind, faultAtMs: fault.atMs }),
    };
  });
  return { ...result, anomalies };
}

/**
 * A check's verdict for people, one line then details indented: what held (with its counts), or what
 * broke — for acked-writes every lost write (up to `list`), and the window they fall in.
 */
export function explainCheck(
  check: CheckResult,
  options: { readonly model?: string; readonly list?: number } = {},
): string[] {
  const name = options.model === undefined ? check.checker : `${check.checker} (${options.model} model)`;
  const stats = check.stats ?? {};
  if (check.valid === 'unknown') return [`${name}: unknown — ${check.reason ?? ''}`];
  if (check.valid === true) {
    if (check.checker === 'acked-writes') {
      return [
        `${name}: valid — all ${stats.acknowledged} acknowledged writes were read back` +
          ` (${stats.indeterminate} of unknown outcome, ${stats.recovered} of them present)`,
      ];
    }
    if (check.checker === 'linearizability' && stats.ops !== undefined) {
      const keys =
        stats.partitions === undefined
          ? ''
          : ` on ${stats.partitions} key${stats.partitions === 1 ? '' : 's'}`;
      return [`${name}: valid — ${stats.ops} operations${keys}, checked in ${ms(stats.elapsedMs ?? 0)}`];
    }
    return [`${name}: valid`];
  }
  const lost = check.anomalies.filter((anomaly) => anomaly.type === 'lost');
  if (check.checker !== 'acked-writes' || lost.length === 0) {
    return [`${name}: INVALID — ${check.anomalies[0]?.message ?? ''}`];
  }
  const lines = [
    `${name}: INVALID — ${lost.length} of ${stats.acknowledged} acknowledged writes were lost` +
      ' (acknowledged to a client, missing from the final read):',
  ];
  const listed = lost.slice(0, options.list ?? 10);
  for (const anomaly of listed) lines.push(`  ${anomaly.message}`);
  if (lost.length > listed.length) lines.push(`  … and ${lost.length - listed.length} more`);
  const gaps = lost
    .filter((a) => typeof a.faultAtMs === 'number' && typeof a.ackedAtMs === 'number')
    .map((a) => ({ gap: (a.faultAtMs as number) - (a.ackedAtMs as number), a }));
  if (gaps.length === lost.length) {
    const widest = gaps.reduce((x, y) => (y.gap > x.gap ? y : x));
    // One fault lost them all: everything acknowledged before this window was read back.
    const one = new Set(gaps.map(({ a }) => a.faultAtMs)).size === 1;
    lines.push(
      `  every lost write was acknowledged within ${ms(widest.gap)} before ${widest.a.fault}` +
        ` (at ${ms(widest.a.faultAtMs as number)})${one ? '; writes acknowledged earlier survived' : ''}`,
    );
  } else {
    // Lost with no fault after them: the store lost them on its own (or after the last injection).
    const first = lost.find((a) => !gaps.some((g) => g.a === a));
    lines.push(
      `  ${lost.length - gaps.length} lost write(s) were sent after the last fault, e.g. ${first?.message ?? ''}`,
    );
  }
  for (const anomaly of check.anomalies.filter((a) => a.type !== 'lost').slice(0, 5)) {
    lines.push(`  [${anomaly.type}] ${anomaly.message}`);
  }
  return lines;
}
