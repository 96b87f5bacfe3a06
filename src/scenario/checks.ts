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

/**
 * Runs one check of the scenario. A check that needs a history when the scenario has no workload, or names
 * a model that does not exist, is `unknown` with the reason; a failed check is a result, never a throw.
 */
export async function runCheck(spec: CheckSpec, inputs: CheckInputs): Promise<CheckResult> {
  try {
    return await check(spec, inputs);
  } catch (error) {
    // A history the checker cannot read (a check that does not fit the workload) decides nothing.
    return {
      checker: spec.check,
      valid: 'unknown',
      anomalies: [],
      reason: `the history does not fit this check: ${messageOf(error)}`,
    };
  }
}

async function check(spec: CheckSpec, inputs: CheckInputs): Promise<CheckResult> {
  const history = inputs.history;
  const needsHistory = (checker: string): CheckResult | undefined =>
    history === undefined
      ? {
          checker,
          valid: 'unknown',
          anomalies: [],
          reason: 'the scenario has no workload, so there is no history to check',
        }
      : undefined;
  switch (spec.check) {
    case 'linearizability': {
      const model = builtInModel(String(spec.model));
      if (model === undefined) {
        return {
          checker: 'linearizability',
          valid: 'unknown',
          anomalies: [],
          reason: `unknown model ${JSON.stringify(spec.model)}; valid: ${modelNames.join(', ')}`,
        };
      }
      return (
        needsHistory('linearizability') ??
        (await checkLinearizability(history as readonly Op[], model, {
          timeoutMs: inputs.timeoutMs,
          clock: inputs.clock,
        }))
      );
    }
    case 'acked-writes':
      // Items added to a set and read back: the set workload's shapes (add, read).
      if (history !== undefined && inputs.model !== 'set') {
        return {
          checker: spec.check,
          valid: 'unknown',
          anomalies: [],
          reason: `acked-writes reads a set workload's adds and reads; this workload's history fits ${inputs.model ?? 'no model'}`,
        };
      }
      return needsHistory(spec.check) ?? checkAckedWrites(history as readonly Op[], { writeF: 'add' });
    case 'set':
      return needsHistory(spec.check) ?? checkSet(history as readonly Op[]);
    case 'counter':
      return needsHistory(spec.check) ?? checkCounter(history as readonly Op[]);
    case 'queue':
      return needsHistory(spec.check) ?? checkQueue(history as readonly Op[]);
    case 'total-queue':
      return needsHistory(spec.check) ?? checkTotalQueue(history as readonly Op[]);
    case 'duplicates':
      return needsHistory(spec.check) ?? checkNoDuplicates(history as readonly Op[]);
    case 'monotonic-reads':
      return needsHistory(spec.check) ?? checkMonotonicReads(history as readonly Op[]);
    case 'convergence':
      return (
        needsHistory(spec.check) ??
        checkConvergence(history as readonly Op[], { deadlineNs: Number(spec.within) * 1e6 })
      );
    case 'probe-success':
      return probeSuccess(String(spec.probe), Number(spec.minPercent), inputs.samples);
    case 'recovery-slo':
      return recoverySlo(Number(spec.within), inputs.samples, inputs.injections);
    default:
      return {
        checker: spec.check,
        valid: 'unknown',
        anomalies: [],
        reason: `no checker named ${spec.check}`,
      };
  }
}

/** The share of a probe's checks that passed, against `minPercent`. */
function probeSuccess(probe: string, minPercent: number, samples: readonly ProbeSample[]): CheckResult {
  const mine = samples.filter((sample) => sample.probe === probe);
  const checker = `probe-success ${probe}`;
  if (mine.length === 0) {
    return {
      checker,
      valid: 'unknown',
      anomalies: [],
      reason: `probe "${probe}" was never checked during the run`,
    };
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
    stats: { checks: mine.length, passed, percent },
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
