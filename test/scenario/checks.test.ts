// The scenario's checks: each a CheckResult, never a throw; probe samples and heal times judged exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import type { Op } from '../../src/history/index.js';
import { type CheckInputs, type ProbeSample, runCheck } from '../../src/scenario/checks.js';
import type { InjectionRecord } from '../../src/scenario/method.js';

const sample = (probe: string, atMs: number, ok: boolean): ProbeSample => ({ probe, atMs, ok });
const healed = (healedAtMs: number): InjectionRecord => ({
  step: { entry: 0, tick: 0, atMs: 0, kind: 'tcp.timeout', params: {} },
  injectedAtMs: 0,
  healedAtMs,
});
const inputs = (samples: ProbeSample[], injections: InjectionRecord[] = [], history?: Op[]): CheckInputs => ({
  samples,
  injections,
  clock: realClock,
  timeoutMs: 5000,
  ...(history === undefined ? {} : { history }),
});

describe('scenario checks', () => {
  it('probe-success compares the share of passing checks with minPercent', async () => {
    const samples = [sample('h', 0, true), sample('h', 1, false), sample('h', 2, true), sample('h', 3, true)];
    const ok = await runCheck({ check: 'probe-success', probe: 'h', minPercent: 75 }, inputs(samples));
    assert.equal(ok.valid, true);
    const bad = await runCheck({ check: 'probe-success', probe: 'h', minPercent: 80 }, inputs(samples));
    assert.equal(bad.valid, false);
    assert.match(bad.anomalies[0]?.message ?? '', /passed 3 of 4 checks \(75\.0 %\), less than 80 %/);
    const never = await runCheck({ check: 'probe-success', probe: 'x', minPercent: 1 }, inputs(samples));
    assert.equal(never.valid, 'unknown');
  });

  it('recovery-slo measures heal → first green check of each probe', async () => {
    const samples = [
      sample('h', 900, false),
      sample('h', 1100, false),
      sample('h', 1300, true),
      sample('g', 1000, true),
    ];
    const ok = await runCheck({ check: 'recovery-slo', within: 300 }, inputs(samples, [healed(1000)]));
    assert.equal(ok.valid, true);
    assert.equal(ok.stats?.worstMs, 300);
    const slow = await runCheck({ check: 'recovery-slo', within: 299 }, inputs(samples, [healed(1000)]));
    assert.equal(slow.valid, false);
    assert.match(
      slow.anomalies[0]?.message ?? '',
      /h was green 300 ms after tcp\.timeout healed \(at 1000 ms\), more than 299 ms/,
    );
    const never = await runCheck(
      { check: 'recovery-slo', within: 1000 },
      inputs([sample('h', 1200, false)], [healed(1000)]),
    );
    assert.equal(never.valid, false);
    assert.match(never.anomalies[0]?.message ?? '', /never passed after/);
  });

  it('a history check without a workload, or an unknown model, is unknown with the reason', async () => {
    const none = await runCheck({ check: 'acked-writes' }, inputs([]));
    assert.equal(none.valid, 'unknown');
    assert.match(none.reason ?? '', /no workload/);
    // Validation refuses an unknown model; runCheck still guards a spec that did not go through it.
    const spec = { check: 'linearizability', model: 'regsiter' as 'register' } as const;
    const model = await runCheck(spec, inputs([], [], []));
    assert.equal(model.valid, 'unknown');
    assert.match(model.reason ?? '', /unknown model "regsiter"; valid: .*register/);
  });
});
