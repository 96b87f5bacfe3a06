// `faultline run`: scenario files from the command line — a verdict, an exit code, a journal of events,
// a dry run that starts nothing, and Ctrl-C that heals and cleans up.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, tcpPortFree } from '../support/ports.js';
import { runCli, startCli } from './run-cli.js';
import { storeScenario as scenarioFile } from './store-scenario.js';

type JournalRecord = {
  type: string;
  name?: string;
  kind?: string;
  params?: { proxy?: unknown };
  verdict?: string;
  state?: string;
};

async function journalOf(path: string): Promise<JournalRecord[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JournalRecord);
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
    assert.match(
      result.stdout,
      /^ {2}linearizability: valid — \d+ operations on \d+ keys?, checked in \S+$/m,
    );
    assert.match(result.stdout, /^ {2}journal: .*events\.jsonl$/m);
    const events = await journalOf(journal);
    assert.equal(events[0]?.type, 'journal');
    assert.equal(events.at(-1)?.verdict, 'pass');
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
    const unwritable = await runCli(['run', '--journal', join(file, 'run.jsonl'), file]);
    assert.equal(unwritable.code, 2, unwritable.stderr);
    assert.match(unwritable.stderr, /cannot write the journal .*store\.toml\/run\.jsonl: .*--no-journal/);
    assert.doesNotMatch(unwritable.stdout, /setup/, 'nothing started');
  });

  it('without --journal, writes faultline-runs/<name>-<seed>.jsonl, also when a check fails or the run errs', async (t) => {
    const port = await freePort();
    const closed = await freePort();
    // A probe of a port nobody listens on: the probe-success check fails, the run ends FAIL (exit 1).
    const { dir, file } = await scenarioFile(
      t,
      port,
      '',
      `
[[steadyState]]
name = "nobody"
probe = { type = "tcp", address = "127.0.0.1:${closed}" }
when = "continuous"
every = "50ms"

[[checks]]
check = "probe-success"
probe = "nobody"
minPercent = 50
`,
    );
    const result = await runCli(['run', file, file], 60_000, { cwd: dir });
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /FAIL — probe-success nobody/);
    assert.match(result.stdout, /^ {2}journal: faultline-runs\/store-5\.jsonl$/m);
    assert.match(result.stdout, /^ {2}journal: faultline-runs\/store-5-2\.jsonl$/m, 'each run its own');
    assert.deepEqual((await readdir(join(dir, 'faultline-runs'))).sort(), [
      'store-5-2.jsonl',
      'store-5.jsonl',
    ]);
    for (const name of ['store-5.jsonl', 'store-5-2.jsonl']) {
      const records = await journalOf(join(dir, 'faultline-runs', name));
      assert.equal(records[0]?.type, 'journal');
      assert.ok(records.some((r) => r.type === 'check'));
      assert.equal(records.at(-1)?.verdict, 'fail');
    }
    // The steady state does not hold before the method: an error (exit 2), journalled too.
    const broken = join(dir, 'broken.toml');
    await writeFile(
      broken,
      `[experiment]\nname = "broken"\nseed = 9\n\n[[steadyState]]\nname = "nobody"\n` +
        `probe = { type = "tcp", address = "127.0.0.1:${closed}" }\nwhen = "before"\ntimeout = "200ms"\n`,
    );
    const errored = await runCli(['run', broken], 60_000, { cwd: dir });
    assert.equal(errored.code, 2, `${errored.stdout}\n${errored.stderr}`);
    const records = await journalOf(join(dir, 'faultline-runs', 'broken-9.jsonl'));
    assert.equal(records.at(-1)?.verdict, 'error');
    const quiet = await runCli(['run', '--no-journal', '--seed', '6', file], 60_000, { cwd: dir });
    assert.doesNotMatch(quiet.stdout, /journal:/);
    assert.equal((await readdir(join(dir, 'faultline-runs'))).length, 3, '--no-journal writes none');
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });

  it('Ctrl-C interrupts: heals, stops the targets, exit 130, and the journal says so', async (t) => {
    const port = await freePort();
    const { dir, file } = await scenarioFile(t, port, 'duration = "30s"\ntimeLimit = "60s"');
    const run = startCli(['run', file], { cwd: dir });
    t.after(() => run.kill());
    await run.waitFor(/^\+\d+\.\d+s method$/m, 30_000);
    run.process.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) =>
      run.process.once('exit', (exitCode) => resolve(exitCode)),
    );
    assert.equal(code, 130, `${run.stdout()}\n${run.stderr()}`);
    assert.match(run.stderr(), /interrupted; healing and cleaning up/);
    // The reason says by what and when; the ops the workload made before it are counted.
    const verdict = /INTERRUPTED — interrupted by SIGINT during the method phase \(.* s, (\d+) ops\)/.exec(
      run.stdout(),
    );
    assert.ok(verdict, run.stdout());
    assert.ok(Number(verdict[1]) > 0, `ops counted: ${verdict[0]}`);
    assert.match(run.stdout(), /^ {2}journal: faultline-runs\/store-5\.jsonl$/m);
    const records = await journalOf(join(dir, 'faultline-runs', 'store-5.jsonl'));
    assert.ok(records.some((r) => r.type === 'phase' && r.name === 'heal'));
    assert.equal(records.at(-1)?.type, 'verdict');
    assert.equal(records.at(-1)?.verdict, 'interrupted');
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });

  it('Ctrl-C during setup cuts the wait for a ready probe at once', async (t) => {
    const port = await freePort();
    const closed = await freePort();
    const { dir, file } = await scenarioFile(t, port, 'timeLimit = "60s"');
    // A second process target whose ready probe never passes (the default readyTimeout is 10 s).
    const text = (await readFile(file, 'utf8')).replace(
      '[targets.front]',
      `[targets.never]\ntype = "process"\nargv = ["${process.execPath}", "-e", "setInterval(() => {}, 1000)"]\nready = { type = "tcp", address = "127.0.0.1:${closed}" }\n\n[targets.front]`,
    );
    await writeFile(file, text);
    const run = startCli(['run', file], { cwd: dir });
    t.after(() => run.kill());
    await run.waitFor(/target kv \(process\) up/, 30_000);
    const sent = Date.now();
    run.process.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) =>
      run.process.once('exit', (exitCode) => resolve(exitCode)),
    );
    const tookMs = Date.now() - sent;
    assert.equal(code, 130, `${run.stdout()}\n${run.stderr()}`);
    assert.ok(tookMs < 5000, `exit ${tookMs} ms after SIGINT: the ready wait was not cut`);
    assert.match(run.stdout(), /INTERRUPTED — interrupted by SIGINT during the setup phase/);
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });
});
