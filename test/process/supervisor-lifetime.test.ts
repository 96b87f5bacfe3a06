import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup } from '../../src/cli/cleanup-command.js';
import { realClock } from '../../src/core/clock.js';
import { findJournals } from '../../src/core/journal.js';
import { deathSignalSupported, isAlive } from '../../src/os/index.js';
import { startChildRun } from '../os/child-run.js';

// Supervised targets never outlive the run: stopped on SIGINT/SIGTERM when the run handles signals, killed
// by the kernel (PR_SET_PDEATHSIG through setpriv) when the run is SIGKILLed, their descendants by cleanup.

const root = mkdtempSync(join(tmpdir(), 'faultline-lifetime-test-'));
const runs: ChildProcess[] = [];
const pids = new Set<number>();
after(async () => {
  for (const run of runs) if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await cleanup({ stateDir: join(root, 'state'), print: () => {} }).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

const moduleUrl = (path: string): string =>
  JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);

/** A run supervising one target that forks a child into its group; prints what it started, then waits. */
const runScript = `
import { Journal } from ${moduleUrl('core/journal.js')};
import { Supervisor } from ${moduleUrl('process/supervisor.js')};
import { logProbe } from ${moduleUrl('process/probes.js')};
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
const [stateDir, handleSignals] = process.argv.slice(2);
const journal = Journal.open({ stateDir });
const supervisor = new Supervisor({ journal, handleSignals: handleSignals === 'yes', stopGraceMs: 1000 });
const source = "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log('child ' + c.pid); setInterval(() => {}, 1000);";
const target = await supervisor.start({
  name: 't',
  argv: [process.execPath, '-e', source],
  ready: (t) => logProbe({ target: t, pattern: /child \\d+/, since: 'start' }),
});
const child = Number(/child (\\d+)/.exec(readFileSync(target.logFile('stdout'), 'utf8'))[1]);
console.log('started ' + JSON.stringify({ pid: target.pid, child, logDir: dirname(target.logFile('stdout')), journal: journal.path }));
setInterval(() => {}, 1000);
`;

interface Started {
  pid: number;
  child: number;
  logDir: string;
  journal: string;
}

async function startRun(handleSignals: boolean): Promise<{ run: ChildProcess; started: Started }> {
  const script = join(root, 'run.mjs');
  writeFileSync(script, runScript);
  const { run, printed: started } = await startChildRun<Started>(
    script,
    [join(root, 'state'), handleSignals ? 'yes' : 'no'],
    'started',
  );
  runs.push(run);
  pids.add(started.pid);
  pids.add(started.child);
  return { run, started };
}

/** Polls until `pid` is gone (a bounded wait for a condition, not a fixed sleep). */
async function waitDead(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = realClock.now() + timeoutMs;
  while (isAlive(pid) && realClock.now() < deadline) await realClock.sleep(20);
  return !isAlive(pid);
}

describe('supervised targets never outlive the run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to a run that handles signals stops targets, removes their log dir and journal`, async () => {
      const { run, started } = await startRun(true);
      assert.ok(isAlive(started.pid) && isAlive(started.child));
      assert.ok(existsSync(started.logDir) && existsSync(started.journal));
      run.kill(signal);
      const [code, endedBy] = (await once(run, 'exit')) as [number | null, NodeJS.Signals | null];
      assert.equal(endedBy, signal, `the run ends as the signal would have (code ${code})`);
      assert.ok(await waitDead(started.pid), 'target left running');
      assert.ok(await waitDead(started.child), "target's child left running");
      assert.equal(existsSync(started.logDir), false, 'log dir left');
      assert.equal(existsSync(started.journal), false, 'journal left');
    });
  }

  it('a SIGKILLed run: the kernel kills the target, cleanup its descendants', {
    skip: deathSignalSupported() ? false : 'setpriv --pdeathsig is not available',
  }, async () => {
    const stateDir = join(root, 'state');
    const { run, started } = await startRun(false);
    run.kill('SIGKILL');
    await once(run, 'exit');
    assert.ok(await waitDead(started.pid), 'the target outlived its SIGKILLed parent');
    // Its child was reparented and lives on, still in the group: that is what the journal is for.
    assert.ok(isAlive(started.child), "the target's child is alive before cleanup");
    const lines: string[] = [];
    const result = await cleanup({ stateDir, print: (line) => lines.push(line) });
    const output = lines.join('\n');
    assert.equal(result.failedRuns, 0, output);
    assert.match(output, new RegExp(`killed process group ${started.pid} \\(target t\\): leader .* gone`));
    assert.ok(await waitDead(started.child), `the target's child survived cleanup:\n${output}`);
    assert.equal(existsSync(started.logDir), false, 'log dir left');
    assert.deepEqual(findJournals(stateDir), []);
  });
});
