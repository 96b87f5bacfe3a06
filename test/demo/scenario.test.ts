// The bundled scenario of `faultline demo` (scenarios/demo.toml): shipped, valid, runnable by
// `faultline run` as its header says; and the acked-writes check over a kv history, which names each
// lost write with when it was acknowledged, relative to the kill.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { demoScenarioPath, kvServicePath } from '../../src/demo/index.js';
import type { Op } from '../../src/history/index.js';
import { explainCheck, runCheck } from '../../src/scenario/checks.js';
import { loadScenario } from '../../src/scenario/index.js';
import type { InjectionRecord } from '../../src/scenario/method.js';
import { runCli } from '../cli/run-cli.js';

describe('the bundled demo scenario', () => {
  it('is shipped in the package, and is a kill under a kv workload checked two ways', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    assert.ok(manifest.files.includes('scenarios'), 'package.json files ships scenarios/');
    const scenario = await loadScenario(demoScenarioPath);
    assert.deepEqual(scenario.experiment.tags, ['chaos', 'chaos:process']);
    assert.equal(scenario.targets?.kv?.type, 'process');
    assert.equal(scenario.targets?.kv?.restart, 'on-failure');
    assert.equal(scenario.workload?.type, 'kv');
    assert.deepEqual(
      scenario.faults?.map((fault) => fault.choices[0]?.kind),
      ['process.kill'],
    );
    assert.deepEqual(
      scenario.checks?.map((check) => check.check),
      ['acked-writes', 'linearizability'],
    );
  });

  it('`faultline run` runs it as its header says: the fixed store passes', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      FAULTLINE_DEMO_SERVICE: kvServicePath,
      FAULTLINE_DEMO_VARIANT: 'fixed',
    });
    const pending = runCli(['run', '--no-journal', '--seed', '5', demoScenarioPath], 60_000); // spawned with this env
    for (const name of ['FAULTLINE_DEMO_SERVICE', 'FAULTLINE_DEMO_VARIANT']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    const result = await pending;
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /seed 5/);
    assert.match(result.stdout, /kill -SIGKILL kv/);
  });

  it('without its environment, `faultline run` names the field and the variable', async () => {
    const saved = process.env.FAULTLINE_DEMO_SERVICE;
    delete process.env.FAULTLINE_DEMO_SERVICE;
    const pending = runCli(['run', '--no-journal', demoScenarioPath]);
    if (saved !== undefined) process.env.FAULTLINE_DEMO_SERVICE = saved;
    const result = await pending;
    assert.notEqual(result.code, 0);
    assert.match(
      `${result.stdout}${result.stderr}`,
      /targets\.kv\.argv\[1\].*FAULTLINE_DEMO_SERVICE is not set/,
    );
  });
});

/** A kv history: `[f, process, invoke value, ok value?, type, time ms]` per call, invoke then completion. */
function history(calls: readonly [string, number, unknown, unknown, 'ok' | 'fail' | 'info', number][]): Op[] {
  const ops: Op[] = [];
  for (const [f, process, value, result, type, atMs] of calls) {
    ops.push({ index: ops.length, process, type: 'invoke', f, value, time: atMs * 1e6 });
    ops.push({ index: ops.length, process, type, f, value: result ?? value, time: atMs * 1e6 + 1e5 });
  }
  return ops;
}

const kill = (atMs: number): InjectionRecord => ({
  step: { entry: 0, tick: 0, atMs, kind: 'process.kill', params: {} },
  injectedAtMs: atMs,
});

describe('acked-writes over a kv workload', () => {
  const calls = (scanned: string[]) =>
    history([
      ['write', 0, ['k-c0-0', 1], undefined, 'ok', 100],
      ['write', 1, ['k-c1-0', 2], undefined, 'ok', 900],
      ['cas', 0, ['k-c0-0', [1, 3]], undefined, 'ok', 950],
      ['write', 1, ['k-c1-1', 4], undefined, 'info', 1000],
      ['scan', 0, null, scanned, 'ok', 2000],
    ]);
  const inputs = (ops: Op[]) => ({
    history: ops,
    samples: [],
    injections: [kill(1200)],
    clock: realClock,
    timeoutMs: 5000,
    model: 'kv',
  });

  it('names each lost write, its value, and how long before the kill it was acknowledged', async () => {
    const check = await runCheck({ check: 'acked-writes' }, inputs(calls(['k-c0-0'])));
    assert.equal(check.valid, false);
    assert.deepEqual(
      check.anomalies.map((anomaly) => anomaly.message),
      ['k-c1-0 = 2, acknowledged at 900.1ms, 299.9ms before process.kill (at 1.2s)'],
    );
    assert.deepEqual(explainCheck(check), [
      'acked-writes: INVALID — 1 of 2 acknowledged writes were lost (acknowledged to a client, missing from the final read):',
      '  k-c1-0 = 2, acknowledged at 900.1ms, 299.9ms before process.kill (at 1.2s)',
      '  every lost write was acknowledged within 299.9ms before process.kill (at 1.2s); writes acknowledged earlier survived',
    ]);
  });

  it('is valid when every acknowledged key is scanned; linearizability leaves the scan out', async () => {
    const ops = calls(['k-c0-0', 'k-c1-0', 'k-c1-1']);
    const check = await runCheck({ check: 'acked-writes' }, inputs(ops));
    assert.equal(check.valid, true, JSON.stringify(check.anomalies));
    assert.deepEqual(explainCheck(check), [
      'acked-writes: valid — all 2 acknowledged writes were read back (1 of unknown outcome, 1 of them present)',
    ]);
    const linear = await runCheck({ check: 'linearizability', model: 'kv' }, inputs(ops));
    assert.equal(linear.valid, true, JSON.stringify(linear.anomalies));
    assert.match(
      explainCheck(linear, { model: 'kv' })[0] ?? '',
      /^linearizability \(kv model\): valid — 4 operations/,
    );
  });
});
