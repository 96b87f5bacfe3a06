// A scenario run end to end, on real processes and sockets: the demo's store as the target, a TCP proxy in
// front, faults on schedule, a recorded workload, probes, checks — and a verdict; nothing left behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/scenario/fault-families.js';
import { type FaultlineEvent, subscribe } from '../../src/core/events.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { runScenario } from '../../src/scenario/runner.js';
import { freePort, pidAlive, tcpPortFree } from '../support/ports.js';
import { storeTargets } from '../support/store-targets.js';

/** The store behind a proxy; `faults` and `checks` are the parts each test varies. */
function scenario(port: number, parts: { faults: string; checks: string; extra?: string }) {
  const text = `
[experiment]
name = "store behind a proxy"
seed = 3
timeLimit = "60s"
${parts.extra ?? ''}

${storeTargets(port)}
[[steadyState]]
name = "health"
probe = { type = "http", url = "http://\${targets.front.listen}/health" }
when = "continuous"
every = "100ms"
timeout = "300ms"

[[steadyState]]
name = "up"
probe = { type = "tcp", address = "127.0.0.1:${port}" }
when = "before-and-after"

[workload]
type = "kv"
url = "http://127.0.0.1:${port}"
clients = 3
ops = 300
timeout = "1s"

${parts.faults}
${parts.checks}
`;
  return validateScenario(readDocument('store.toml', text));
}

describe('runScenario', () => {
  it('a fixed store through latency and a SIGKILL passes its checks; every phase runs; nothing is left', async () => {
    const port = await freePort();
    const events: FaultlineEvent[] = [];
    const stop = subscribe((event) => events.push(event), ['phase', 'fault.inject', 'fault.heal']);
    let result: Awaited<ReturnType<typeof runScenario>>;
    try {
      result = await runScenario(
        scenario(port, {
          faults: `
[[faults]]
kind = "tcp.latency"
at = "100ms"
for = "400ms"
params = { proxy = "front", latencyMs = 30 }

[[faults]]
kind = "process.kill"
at = "300ms"
params = { target = "kv" }
`,
          checks: `
[[checks]]
check = "linearizability"
model = "kv"

[[checks]]
check = "probe-success"
probe = "health"
minPercent = 1
`,
        }),
      );
    } finally {
      stop();
    }
    assert.equal(
      result.verdict,
      'pass',
      `${result.reason}\n${JSON.stringify(result.checks, null, 1).slice(0, 2000)}`,
    );
    assert.ok(result.ops >= 300, `${result.ops} ops`);
    assert.deepEqual(
      result.injections.map((r) => [
        r.step.kind,
        r.injectedAtMs !== undefined,
        r.healedAtMs !== undefined,
        r.error ?? null,
      ]),
      [
        ['tcp.latency', true, true, null],
        ['process.kill', true, true, null],
      ],
    );
    assert.deepEqual(
      result.checks.map((c) => [c.checker, c.valid]),
      [
        ['linearizability', true],
        ['probe-success health', true],
        ['hermeticity', true],
      ],
    );
    const phases = events
      .filter((e) => e.type === 'phase' && e.state === 'start')
      .map((e) => (e as { name: string }).name);
    assert.deepEqual(phases, [
      'setup',
      'steady-state-before',
      'method',
      'heal',
      'steady-state-after',
      'checks',
      'rollbacks',
      'cleanup',
    ]);
    const injected = events.filter((e) => e.type === 'fault.inject').length;
    assert.equal(injected, 2);
    assert.ok(await tcpPortFree(port), 'nothing is left: the store is stopped and its port free');
  });

  it('a check that does not hold fails the run, naming it; the replay seed is the one used', async () => {
    const port = await freePort();
    const result = await runScenario(
      scenario(port, {
        faults: `
[[faults]]
kind = "tcp.timeout"
at = "0s"
for = "600ms"
params = { proxy = "front" }
`,
        checks: `
[[checks]]
check = "probe-success"
probe = "health"
minPercent = 100
`,
      }),
      { seed: 99 },
    );
    assert.equal(result.verdict, 'fail');
    assert.match(result.reason, /^probe-success health: health passed \d+ of \d+ checks/);
    assert.equal(result.seed, 99);
  });

  it('a target that cannot start is an error, and what started is taken down', async () => {
    const port = await freePort();
    const bad = scenario(port, { faults: '', checks: '' });
    const broken = {
      ...bad,
      targets: {
        ...bad.targets,
        kv: { ...(bad.targets?.kv as object), argv: ['/nonexistent/faultline-nothing'] },
      },
    } as unknown as typeof bad;
    const result = await runScenario(broken);
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /targets\.kv/);
  });

  it('a kill that refuses the rest of the ops: the final scan waits for the restart, after the heal', async () => {
    const port = await freePort();
    const events: FaultlineEvent[] = [];
    const stop = subscribe((event) => events.push(event), ['phase', 'op']);
    const text = `
[experiment]
name = "kill without for"
seed = 4
timeLimit = "60s"

${storeTargets(port, { proxy: false })}
[workload]
type = "kv"
url = "http://127.0.0.1:${port}"
clients = 2
ops = 400

[[faults]]
kind = "process.kill"
afterOps = 100
params = { target = "kv" }

[[checks]]
check = "acked-writes"
`;
    let result: Awaited<ReturnType<typeof runScenario>>;
    try {
      result = await runScenario(validateScenario(readDocument('kill.toml', text)));
    } finally {
      stop();
    }
    assert.equal(result.verdict, 'pass', `${result.reason}\n${JSON.stringify(result.checks)}`);
    // The scan is made once the method's heal phase has begun, and one succeeded.
    const healAt = events.findIndex((e) => e.type === 'phase' && e.name === 'heal' && e.state === 'start');
    const scans = events
      .map((e, index) => ({ index, op: (e as { op?: { f?: string; type?: string } }).op }))
      .filter(({ op }) => op?.f === 'scan');
    assert.ok(
      scans.length > 0 && healAt >= 0 && scans.every(({ index }) => index > healAt),
      'scan after heal',
    );
    assert.ok(
      scans.some(({ op }) => op?.type === 'ok'),
      'a successful scan',
    );
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });

  it('a scan that never succeeds: the check says how the last one ended, after a bounded wait', async () => {
    const port = await freePort(); // nobody listens: every call is refused
    const text = `
[experiment]
name = "store gone"
seed = 4
timeLimit = "60s"

[workload]
type = "kv"
url = "http://127.0.0.1:${port}"
clients = 1
ops = 5
timeout = "200ms"

[[checks]]
check = "acked-writes"
`;
    const started = Date.now();
    const result = await runScenario(validateScenario(readDocument('gone.toml', text)));
    assert.equal(result.verdict, 'unknown', result.reason);
    assert.match(result.reason, /no successful scan.*; the last scan ended fail: .*ECONNREFUSED/);
    assert.ok(Date.now() - started < 15_000, 'the wait for the service is bounded');
  });

  it('an abort mid-method interrupts the run; faults are healed and targets stopped', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const pids: number[] = [];
    const stop = subscribe(
      (event) => {
        if (event.type === 'phase' && event.name === 'method' && event.state === 'start')
          setTimeout(() => controller.abort(), 300);
      },
      ['phase'],
    );
    let result: Awaited<ReturnType<typeof runScenario>>;
    try {
      result = await runScenario(
        scenario(port, {
          extra: 'duration = "30s"',
          faults: `
[[faults]]
kind = "tcp.latency"
at = "50ms"
params = { proxy = "front", latencyMs = 20 }
`,
          checks: '',
        }),
        {
          signal: controller.signal,
          log: (line) => {
            const pid = /pid (\d+)/.exec(line)?.[1];
            if (pid !== undefined) pids.push(Number(pid));
          },
        },
      );
    } finally {
      stop();
    }
    assert.equal(result.verdict, 'interrupted');
    assert.equal(result.reason, 'interrupted during the method phase');
    assert.ok(result.ops > 0, 'the ops made before the abort are counted');
    assert.ok(result.elapsedMs < 20_000, `${result.elapsedMs} ms`);
    assert.equal(result.injections[0]?.healedAtMs !== undefined, true, 'the latency was healed');
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} stopped`);
  });
});
