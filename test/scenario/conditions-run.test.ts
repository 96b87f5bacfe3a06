// Fault schedule conditions in a real run: the demo's store killed after 100 completed ops, a latency once
// the kill is healed and the health probe is green again, and an entry whose probe never passes — it does
// not run, and the result says so. Real processes and sockets; nothing left behind.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import '../../src/scenario/fault-families.js';
import { subscribe } from '../../src/core/events.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { runScenario } from '../../src/scenario/runner.js';
import { freePort, tcpPortFree } from '../support/ports.js';
import { storeTargets } from '../support/store-targets.js';

it('after 100 ops, then after the heal and green again; a condition that never comes true does not run', async () => {
  const port = await freePort();
  const closed = await freePort();
  const text = `
[experiment]
name = "conditions"
seed = 5
duration = "4s"
timeLimit = "60s"

${storeTargets(port)}
[[steadyState]]
name = "health"
probe = { type = "http", url = "http://\${targets.front.listen}/health" }
when = "continuous"
every = "50ms"
timeout = "300ms"

[[steadyState]]
name = "closed"
probe = { type = "tcp", address = "127.0.0.1:${closed}" }
when = "during-faults"
every = "100ms"
timeout = "200ms"

[workload]
type = "kv"
url = "http://127.0.0.1:${port}"
clients = 3
ops = 400
timeout = "1s"

[[faults]]
name = "kill"
afterOps = 100
kind = "process.kill"
for = "200ms"
params = { target = "kv" }

[[faults]]
name = "slow"
after = "kill"
whenGreen = "health"
kind = "tcp.latency"
for = "300ms"
params = { proxy = "front", latencyMs = 20 }

[[faults]]
name = "never"
whenGreen = "closed"
kind = "tcp.timeout"
params = { proxy = "front" }

[[checks]]
check = "linearizability"
model = "kv"
`;
  const scenario = validateScenario(readDocument('conditions.toml', text));
  let completed = 0;
  const opsAtInject = new Map<string, number>();
  const stop = subscribe(
    (event) => {
      if (event.type === 'op' && (event.op as { type: string }).type !== 'invoke') completed++;
      if (event.type === 'fault.inject') opsAtInject.set(event.kind, completed);
    },
    ['op', 'fault.inject'],
  );
  const lines: string[] = [];
  let result: Awaited<ReturnType<typeof runScenario>>;
  try {
    result = await runScenario(scenario, { log: (line) => lines.push(line) });
  } finally {
    stop();
  }
  assert.equal(result.verdict, 'pass', `${result.reason}\n${lines.join('\n')}`);
  const [kill, slow, never] = result.injections;
  assert.deepEqual([kill?.step.name, slow?.step.name, never?.step.name], ['kill', 'slow', 'never']);
  assert.ok(
    (opsAtInject.get('process.kill') ?? 0) >= 100,
    `killed after ${opsAtInject.get('process.kill')} ops`,
  );
  assert.ok(kill?.injectedAtMs !== undefined && kill.healedAtMs !== undefined, JSON.stringify(kill));
  assert.ok(slow?.injectedAtMs !== undefined, JSON.stringify(slow));
  const healed = kill.healedAtMs as number;
  assert.ok(slow.injectedAtMs >= healed, `slow at ${slow.injectedAtMs} ms, kill healed at ${healed} ms`);
  // A sample's time is when its check ended, and the fault follows the check's result at once: so the
  // fault came after the last red check since the heal, and promptly after the first green one.
  const health = result.samples.filter((s) => s.probe === 'health' && s.atMs >= healed);
  const green = health.find((s) => s.ok);
  const lastRed = health.filter((s) => !s.ok && s.atMs < (green?.atMs ?? 0)).at(-1);
  assert.ok(green !== undefined, 'the probe was green again after the heal');
  assert.ok(
    slow.injectedAtMs > (lastRed?.atMs ?? healed) && slow.injectedAtMs <= green.atMs + 100,
    `slow at ${slow.injectedAtMs} ms: after the last red check (${lastRed?.atMs} ms), with the first green one (${green.atMs} ms)`,
  );
  assert.equal(slow.healedAtMs !== undefined, true);
  assert.equal(never?.injectedAtMs, undefined);
  assert.equal(never?.error, undefined, 'a condition that never came true is not an error');
  assert.match(never?.notRun ?? '', /^not run: the method ended first \(closed did not pass again\)/);
  assert.ok(
    result.samples.some((s) => s.probe === 'closed'),
    'the during-faults probe was checked while awaited',
  );
  assert.ok(
    lines.some((line) => /faults\[0\] "kill" starts: after 100 ops/.test(line)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((line) => /faults\[2\] "never" not run/.test(line)),
    lines.join('\n'),
  );
  assert.ok(await tcpPortFree(port), 'the store is stopped and its port free');
});
