// `faultline run`: scenario files from the command line — a verdict, an exit code, a journal of events,
// a dry run that starts nothing, and Ctrl-C that heals and cleans up.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, tcpPortFree } from '../support/ports.js';
import { runCli, startCli } from './run-cli.js';

const service = fileURLToPath(new URL('../../src/demo/kv-service.js', import.meta.url));

async function scenarioFile(
  t: TestContext,
  port: number,
  extra = '',
): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-run-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'store.toml');
  await writeFile(
    file,
    `[experiment]
name = "store"
seed = 5
${extra}

[targets.kv]
type = "process"
argv = ["${process.execPath}", "${service}", "--data-dir", "\${run.dir}", "--port", "${port}", "--variant", "fixed"]
restart = "on-failure"
ready = { type = "http", url = "http://127.0.0.1:${port}/health" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${port}"

[workload]
type = "register"
url = "http://\${targets.front.listen}"
clients = 2
ops = 100

[[faults]]
kind = "tcp.latency"
at = "50ms"
for = "200ms"
params = { proxy = "front", latencyMs = 10 }

[[checks]]
check = "linearizability"
model = "register"
`,
  );
  return { dir, file };
}

describe('faultline run', () => {
  it('runs a scenario to a verdict, exit 0, and writes the journal of its events', async (t) => {
    const port = await freePort();
    const { dir, file } = await scenarioFile(t, port);
    const journal = join(dir, 'events.jsonl');
    const result = await runCli(['run', '--journal', journal, file], 60_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^faultline run .*store\.toml: seed 5$/m);
    assert.match(result.stdout, /store\.toml: PASS — every check held \(.* s, \d+ ops\)/);
    assert.match(result.stdout, /^ {2}linearizability: valid$/m);
    const events = (await readFile(journal, 'utf8'))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { type: string; name?: string; kind?: string; params?: { proxy?: unknown } },
      );
    assert.ok(events.some((e) => e.type === 'phase' && e.name === 'method'));
    const inject = events.find((e) => e.type === 'fault.inject');
    assert.equal(inject?.kind, 'tcp.latency');
    assert.equal(inject?.params?.proxy, 'front', 'a live object is journalled by name');
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });

  it('--dry-run prints the schedule and starts nothing; a bad file is exit 3 naming the place', async (t) => {
    const port = await freePort();
    const { dir, file } = await scenarioFile(t, port);
    const dry = await runCli(['run', '--dry-run', file]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^ {2}\+0\.050s {2}tcp\.latency .*healed at \+0\.250s$/m);
    const bad = join(dir, 'bad.toml');
    await writeFile(bad, '[experiment]\nname = 1\n');
    const refused = await runCli(['run', file, bad]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /bad\.toml:2:8: experiment\.name: expected a string/);
    assert.doesNotMatch(refused.stdout, /seed/, 'nothing ran: every file is checked first');
  });

  it('Ctrl-C interrupts: heals, stops the targets, exit 130', async (t) => {
    const port = await freePort();
    const { file } = await scenarioFile(t, port, 'duration = "30s"\ntimeLimit = "60s"');
    const run = startCli(['run', file]);
    t.after(() => run.kill());
    await run.waitFor(/^\+\d+\.\d+s method$/m, 30_000);
    run.process.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) =>
      run.process.once('exit', (exitCode) => resolve(exitCode)),
    );
    assert.equal(code, 130, `${run.stdout()}\n${run.stderr()}`);
    assert.match(run.stderr(), /interrupted; healing and cleaning up/);
    assert.match(run.stdout(), /INTERRUPTED/);
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });
});
