// The hermeticity check: after every run, what the run created and still exists is a leak that fails the
// run, naming each item. A clean run passes it, also when it fails or is interrupted; a target that
// double-forks a listener into its own session (out of the Supervisor's reach) fails it. Each test removes
// what it leaked itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import '../../src/scenario/fault-families.js';
import { type EventOf, subscribe } from '../../src/core/events.js';
import { processJournal } from '../../src/core/journal.js';
import { listProcesses, processCommand } from '../../src/os/index.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { findLeaks, takeSnapshot } from '../../src/scenario/hermeticity.js';
import { runScenario } from '../../src/scenario/runner.js';
import { freePort } from '../support/ports.js';

const scratch = mkdtempSync(join(tmpdir(), 'hermeticity-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A process that makes a temp dir, works in it and listens on loopback: started into its own session. */
const leakScript = join(scratch, 'leak.cjs');
writeFileSync(
  leakScript,
  `const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
process.chdir(fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-leak-')));
require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('listening'));
setInterval(() => {}, 1000);
`,
);
/** The target: double-forks the leak (detached = setsid), waits until it listens, then says up. */
const launcherScript = join(scratch, 'launcher.cjs');
writeFileSync(
  launcherScript,
  `const child = require('node:child_process').spawn(process.execPath, [${JSON.stringify(leakScript)}], {
  detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
child.stdout.once('data', () => { child.stdout.destroy(); child.unref(); console.log('up'); });
setInterval(() => {}, 1000);
`,
);

const quiet = `argv = ["${process.execPath}", "-e", "console.log('up'); setInterval(() => {}, 1000)"]`;

function scenario(parts: { target?: string; extra?: string; duration?: string }) {
  return validateScenario(
    readDocument(
      'hermetic.toml',
      `[experiment]
name = "hermetic"
timeLimit = "30s"
duration = "${parts.duration ?? '200ms'}"

[targets.app]
type = "process"
${parts.target ?? quiet}
ready = { type = "log", target = "app", pattern = "^up$" }
${parts.extra ?? ''}
`,
    ),
  );
}

/** Runs a scenario, collecting its `check` events. */
async function run(
  text: ReturnType<typeof scenario>,
  options: Parameters<typeof runScenario>[1] = {},
): Promise<{ result: Awaited<ReturnType<typeof runScenario>>; events: EventOf<'check'>[] }> {
  const events: EventOf<'check'>[] = [];
  const stop = subscribe((event) => events.push(event as EventOf<'check'>), ['check']);
  try {
    return { result: await runScenario(text, options), events };
  } finally {
    stop();
  }
}

const hermeticityOf = (result: Awaited<ReturnType<typeof runScenario>>) =>
  result.checks.find((check) => check.checker === 'hermeticity');

/** Kills every process running `script` and removes the temp dir each works in. */
function removeLeaks(script: string): void {
  for (const { pid } of listProcesses()) {
    if (!(processCommand(pid, 4096) ?? '').includes(script)) continue;
    let cwd: string | undefined;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {}
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    if (cwd?.startsWith(join(tmpdir(), 'faultline-leak-'))) rmSync(cwd, { recursive: true, force: true });
  }
}

describe('the hermeticity check', () => {
  it('a clean run passes it and reports the cleanup time', async () => {
    const { result, events } = await run(scenario({}));
    assert.equal(result.verdict, 'pass', result.reason);
    const check = hermeticityOf(result);
    assert.equal(check?.valid, true, JSON.stringify(check?.anomalies));
    assert.equal(typeof check?.stats?.cleanupMs, 'number');
    assert.equal(typeof check?.stats?.settleMs, 'number');
    assert.equal(check?.stats?.leaks, 0);
    const event = events.find((e) => e.checker === 'hermeticity');
    assert.equal(event?.valid, true);
    assert.equal(typeof event?.stats?.cleanupMs, 'number', 'the journal gets the cleanup time');
  });

  it('a target that double-forks a listener into its own session fails it, naming each item', async () => {
    try {
      const { result } = await run(
        scenario({ target: `argv = ["${process.execPath}", "${launcherScript}"]` }),
      );
      assert.equal(result.verdict, 'fail');
      assert.match(result.reason, /^hermeticity: process \d+ /);
      const check = hermeticityOf(result);
      assert.equal(check?.valid, false);
      const messages = check?.anomalies.map((anomaly) => anomaly.message) ?? [];
      const pid = Number(/^process (\d+) /.exec(messages[0] ?? '')?.[1]);
      assert.match(messages[0] ?? '', new RegExp(`^process ${pid} \\(.*leak\\.cjs\\) still running$`));
      assert.ok(
        messages.some((m) =>
          new RegExp(`^listening socket tcp 127\\.0\\.0\\.1:\\d+ \\(pid ${pid}\\)$`).test(m),
        ),
        messages.join('\n'),
      );
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      assert.ok(messages.includes(`temp path ${cwd} still exists`), messages.join('\n'));
      assert.ok((check?.stats?.settleMs ?? 0) >= 2000, 'leaks get the grace before they count');
      assert.equal(messages.length, 3, messages.join('\n'));
    } finally {
      removeLeaks(leakScript);
    }
  });

  it('runs and passes when the run fails, and when it is interrupted', async () => {
    const closed = await freePort();
    const failing = scenario({
      extra: `[[steadyState]]
name = "nothing there"
probe = { type = "tcp", address = "127.0.0.1:${closed}" }
timeout = "200ms"
`,
    });
    const { result: failed } = await run(failing);
    assert.equal(failed.verdict, 'error', failed.reason);
    assert.equal(hermeticityOf(failed)?.valid, true, JSON.stringify(hermeticityOf(failed)?.anomalies));

    const abort = new AbortController();
    const stop = subscribe(
      (event) => {
        if (event.type === 'phase' && event.name === 'method' && event.state === 'start') abort.abort();
      },
      ['phase'],
    );
    try {
      const { result: interrupted } = await run(scenario({ duration: '30s' }), { signal: abort.signal });
      assert.equal(interrupted.verdict, 'interrupted', interrupted.reason);
      const check = hermeticityOf(interrupted);
      assert.equal(check?.valid, true, JSON.stringify(check?.anomalies));
    } finally {
      stop();
    }
  });

  it('names only what is new since the snapshot and the run owns: children, sockets, owned paths', async () => {
    const children: ChildProcess[] = [];
    const exited = (child: ChildProcess) =>
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => child.once('exit', resolve));
    const server = createServer();
    const udp = createSocket('udp4');
    let owned: string | undefined;
    let recorded: string | undefined;
    let record: number | undefined;
    try {
      const older = spawn('sleep', ['30'], { stdio: 'ignore' });
      children.push(older);
      await new Promise((resolve) => older.once('spawn', resolve));
      const before = await takeSnapshot();
      const newer = spawn('sleep', ['31'], { stdio: 'ignore' });
      children.push(newer);
      await new Promise((resolve) => newer.once('spawn', resolve));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
      owned = mkdtempSync(join(tmpdir(), 'faultline-owned-'));
      // A file residue journalled during the run (a disk-fill file, the Supervisor's logs) and not undone.
      recorded = mkdtempSync(join(tmpdir(), 'faultline-recorded-'));
      record = processJournal()?.add({ kind: 'file', path: recorded, recursive: true });
      const tcpPort = (server.address() as { port: number }).port;
      const udpPort = udp.address().port;
      const messages = (await findLeaks(before, [owned])).map((leak) => leak.message);
      assert.deepEqual(
        messages.filter((m) => m.startsWith('process ')),
        [`process ${newer.pid} (sleep 31) still running`],
      );
      assert.ok(
        messages.includes(`listening socket tcp 127.0.0.1:${tcpPort} (pid ${process.pid})`),
        messages.join('\n'),
      );
      assert.ok(
        messages.includes(`bound socket udp 127.0.0.1:${udpPort} (pid ${process.pid})`),
        messages.join('\n'),
      );
      assert.ok(messages.includes(`temp path ${owned} still exists`), messages.join('\n'));
      if (record !== undefined)
        assert.ok(messages.includes(`temp path ${recorded} still exists`), messages.join('\n'));

      newer.kill('SIGKILL');
      await exited(newer);
      await new Promise((resolve) => server.close(resolve));
      await new Promise<void>((resolve) => udp.close(resolve));
      rmSync(owned, { recursive: true, force: true });
      rmSync(recorded, { recursive: true, force: true });
      assert.deepEqual(await findLeaks(before, [owned]), [], 'the process started before is not the run’s');
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map(exited));
      if (server.listening) server.close();
      try {
        udp.close();
      } catch {}
      if (owned !== undefined) rmSync(owned, { recursive: true, force: true });
      if (recorded !== undefined) rmSync(recorded, { recursive: true, force: true });
      if (record !== undefined) processJournal()?.remove(record);
    }
  });
});
