// The five classic chaos suites of examples/suites/ run as scenario files against real processes: each passes,
// every fault is injected and healed, the steady state after holds, nothing is left (the hermeticity
// check), and the probes designed to degrade are reported `degraded` — the run still passes. The suites
// with cgroup faults or limits need root. FAULTLINE_SUITES_RUNS=3 runs each three times in a row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../../src/scenario/fault-families.js';
import { cgroupSupport } from '../../src/os/index.js';
import { loadScenario } from '../../src/scenario/load.js';
import { type RunResult, runScenario } from '../../src/scenario/runner.js';

// The suites name their programs relative to the repository root, as `npx faultline run` from it does.
const root = fileURLToPath(new URL('../../../', import.meta.url));
process.chdir(root);

const runs = Number(process.env.FAULTLINE_SUITES_RUNS ?? '1');

/** Memory and CPU limits are cgroups: root and writable controllers. */
async function cgroupSkip(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root: the suite puts limits on its targets with cgroups';
  const support = await cgroupSupport();
  for (const name of ['memory', 'cpu', 'pids'] as const) {
    const controller = support.controllers[name];
    if (!controller.writable) return controller.reason ?? `no writable ${name} cgroup`;
  }
  return false;
}

interface Suite {
  readonly file: string;
  readonly needsCgroups: boolean;
  /** probe-success checks whose probe must be reported degraded (a fault takes it down for a while). */
  readonly degraded: readonly string[];
}

const suites: readonly Suite[] = [
  { file: 'process', needsCgroups: true, degraded: ['probe-success store'] },
  { file: 'network', needsCgroups: false, degraded: ['probe-success call'] },
  { file: 'resources', needsCgroups: true, degraded: ['probe-success open files'] },
  { file: 'timeouts', needsCgroups: false, degraded: ['probe-success chain'] },
  { file: 'concurrent', needsCgroups: true, degraded: ['probe-success s1'] },
];

async function runSuite(file: string): Promise<RunResult> {
  const scenario = await loadScenario(`${root}examples/suites/${file}.toml`);
  return runScenario(scenario);
}

function assertPassed(result: RunResult): void {
  const notHeld = result.checks.filter((check) => check.valid !== true);
  const detail = `${result.verdict}: ${result.reason}\n${JSON.stringify(notHeld, null, 1).slice(0, 3000)}`;
  assert.equal(result.verdict, 'pass', detail);
  assert.ok(
    result.checks.some((check) => check.checker === 'hermeticity' && check.valid === true),
    'the hermeticity check ran and held',
  );
  // The span expectations were checked (they are checks too, held with the verdict): every fault kind of
  // the schedule has its span, and every fault span ended healed.
  const spans = result.checks.filter((check) => check.checker.startsWith('span '));
  assert.ok(
    spans.some((check) => check.checker === 'span faultsHealed'),
    'faultsHealed was checked',
  );
  assert.ok(spans.length >= 3, `span expectations checked: ${spans.map((c) => c.checker).join(', ')}`);
  for (const record of result.injections) {
    if (record.injectedAtMs === undefined) continue; // a chaos-monkey tick that drew no injection
    assert.ok(record.healedAtMs !== undefined, `${record.step.kind} injected but not healed`);
    assert.equal(record.error, undefined, `${record.step.kind}: ${record.error}`);
  }
  assert.ok(
    result.steadyStateAfter.every((outcome) => outcome.ok),
    JSON.stringify(result.steadyStateAfter),
  );
}

describe('the five classic chaos suites (examples/suites/)', () => {
  for (const suite of suites) {
    it(`${suite.file}: passes, its degraded probes reported degraded`, async (t) => {
      const skip = suite.needsCgroups ? await cgroupSkip() : false;
      if (skip !== false) {
        t.skip(skip);
        return;
      }
      for (let run = 1; run <= runs; run++) {
        const result = await runSuite(suite.file);
        assertPassed(result);
        const degraded = result.degraded.map((entry) => entry.replace(/ [\d.]+ %$/, ''));
        for (const name of suite.degraded) {
          assert.ok(degraded.includes(name), `${name} degraded in run ${run}: ${result.reason}`);
        }
        assert.match(result.reason, /^every check held; degraded: /);
        t.diagnostic(`run ${run}: ${result.reason} (${(result.elapsedMs / 1000).toFixed(1)} s)`);
      }
    });
  }

  it('a run whose probes all pass fully is not degraded', async () => {
    const scenario = await loadScenario(`${root}examples/suites/network.toml`);
    // Only the connection-refused probe and its check: it passes every time, so nothing is degraded.
    // No faults, so none of the suite's span expectations either.
    const { expect: _expectations, ...withoutExpectations } = scenario;
    const result = await runScenario({
      ...withoutExpectations,
      experiment: { ...scenario.experiment, duration: 1000 },
      faults: [],
      steadyState: (scenario.steadyState ?? []).filter((entry) => entry.name === 'refused'),
      checks: (scenario.checks ?? []).filter(
        (check) => check.check === 'probe-success' && check.probe === 'refused',
      ),
    });
    assert.equal(result.verdict, 'pass', result.reason);
    assert.deepEqual(result.degraded, []);
    assert.equal(result.reason, 'every check held');
  });
});
