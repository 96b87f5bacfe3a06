import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup } from '../../src/cli/cleanup-command.js';
import { realClock } from '../../src/core/clock.js';
import { Journal, type JournalFile } from '../../src/core/journal.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { registerResidueKind, residueKind } from '../../src/core/residue.js';
import { cgroupSupport, FaultCgroup, findFaultCgroups, readProcStat } from '../../src/os/index.js';
import { pauseFault } from '../../src/process/faults.js';
import { fakeDeadJournal } from '../cli/cleanup-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-residue-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

declare module '../../src/core/residue.js' {
  interface ResidueShapes {
    'test-marker': { path: string };
  }
}

async function clean(stateDir: string): Promise<{ failedRuns: number; output: string }> {
  const lines: string[] = [];
  const result = await cleanup({ stateDir, print: (line) => lines.push(line) });
  return { failedRuns: result.failedRuns, output: lines.join('\n') };
}

describe('residue registry', () => {
  it('cleanup undoes a kind registered from outside os/ through the same registry', async () => {
    const marker = join(root, 'marker');
    writeFileSync(marker, 'x');
    registerResidueKind({
      kind: 'test-marker',
      validate: (record) => (typeof record.path === 'string' ? undefined : 'path: expected a string'),
      describe: (residue) => `marker ${residue.path}`,
      undo: (residue, { dryRun }) => {
        if (!dryRun) rmSync(residue.path, { force: true });
        return { done: true, line: `${dryRun ? 'would remove' : 'removed'} marker ${residue.path}` };
      },
    });
    assert.throws(
      () =>
        registerResidueKind({
          kind: 'test-marker',
          validate: () => undefined,
          describe: () => '',
          undo: () => ({ done: true, line: '' }),
        }),
      /already registered/,
    );
    const stateDir = join(root, 'marker-state');
    const journal = fakeDeadJournal(stateDir, [{ kind: 'test-marker', path: marker }]);
    const { failedRuns, output } = await clean(stateDir);
    assert.equal(failedRuns, 0, output);
    assert.match(output, /removed marker .*marker/);
    assert.equal(existsSync(marker), false);
    assert.equal(existsSync(journal), false);
  });

  it('keeps a record of a kind no loaded module knows, and says so', async () => {
    const stateDir = join(root, 'unknown-state');
    const journal = fakeDeadJournal(stateDir, [{ kind: 'netns', name: 'faultline-x' }]);
    const { failedRuns, output } = await clean(stateDir);
    assert.equal(failedRuns, 1);
    assert.match(
      output,
      /unknown residue kind "netns" \(record 1\); kept for a faultline that knows it \(known: .*cgroup/,
    );
    const kept = JSON.parse(readFileSync(journal, 'utf8')) as JournalFile;
    assert.deepEqual(
      kept.records.map((record) => record.kind),
      ['netns'],
    );
    rmSync(journal);
  });

  it('refuses a tampered record, naming the field and what is valid', async () => {
    const stateDir = join(root, 'bad-state');
    const journal = fakeDeadJournal(stateDir, [
      { kind: 'process-group', pid: 'x', pgid: 1, startTime: 1 },
      { kind: 'cgroup', path: 'relative/faultline-1-1' },
      { kind: 'rlimit', pid: 5, startTime: 1, resource: 'nofile', soft: '1; rm -rf /', hard: '2' },
    ]);
    const { failedRuns, output } = await clean(stateDir);
    assert.equal(failedRuns, 1);
    assert.match(output, /refused process-group record 1: pid: expected an integer >= 1, got "x"/);
    assert.match(output, /refused cgroup record 2: path: expected an absolute path/);
    assert.match(output, /refused rlimit record 3: soft: expected a number or "unlimited"/);
    rmSync(journal);
  });

  it('every built-in kind is registered by loading os/', () => {
    for (const kind of ['process-group', 'stopped-process', 'cgroup', 'rlimit', 'file']) {
      assert.ok(residueKind(kind), kind);
    }
  });

  it('a residue journalled before its cgroup was made is settled when the group never came to exist', async () => {
    const stateDir = join(root, 'never-state');
    const journal = fakeDeadJournal(stateDir, [
      { kind: 'cgroup', path: '/sys/fs/cgroup/memory/faultline-0-404', parentPath: '/sys/fs/cgroup/memory' },
      { kind: 'stopped-process', pid: process.pid, startTime: 1 },
    ]);
    const { failedRuns, output } = await clean(stateDir);
    assert.equal(failedRuns, 0, output);
    assert.match(output, /cgroup \/sys\/fs\/cgroup\/memory\/faultline-0-404 already removed/);
    assert.match(output, /skipped pid \d+: start time differs, not ours/);
    assert.equal(existsSync(journal), false);
  });
});

const freezerSkip = await (async (): Promise<string | false> => {
  if (process.getuid?.() !== 0) return 'needs root for the cgroup freezer';
  const freezer = (await cgroupSupport()).controllers.freezer;
  return freezer.writable ? false : (freezer.reason ?? 'no freezer');
})();

describe('pause through the cgroup layer', () => {
  it('uses the freezer, says which mechanism in details and log, journals its group', {
    skip: freezerSkip,
  }, async () => {
    const sleeper = spawn('/bin/sleep', ['600'], { detached: true, stdio: 'ignore' });
    const pid = sleeper.pid as number;
    const stateDir = join(root, 'pause-state');
    const journal = Journal.open({ stateDir });
    const ledger = new Ledger({ journal, handleSignals: false });
    const logged: string[] = [];
    try {
      const target = { name: 'sleeper', pid, running: true, startTime: readProcStat(pid)?.startTime };
      const context = {
        ledger,
        clock: realClock,
        random: new Random(1),
        log: (line: string) => logged.push(line),
      };
      const pause = await pauseFault({ target }).inject(context);
      const version = (await cgroupSupport()).controllers.freezer.version;
      const expected = version === 1 ? 'cgroup-v1-freezer' : 'cgroup-v2-freeze';
      assert.equal(pause.details.mechanism, expected);
      assert.equal(pause.details.method, 'freezer');
      assert.match(logged.join('\n'), new RegExp(`pause sleeper \\(pid ${pid}, ${expected}\\)`));
      assert.deepEqual(
        journal.list().map((record) => [record.kind, 'path' in record ? record.path : undefined]),
        [['cgroup', pause.details.cgroup]],
      );
      await pause.heal();
      assert.notEqual(readProcStat(pid)?.state, 'T');
      assert.equal(journal.size, 0);
      assert.equal(existsSync(journal.path), false);

      const stopped = await pauseFault({ target, method: 'signals' }).inject(context);
      assert.equal(stopped.details.mechanism, 'sigstop');
      assert.match(logged.join('\n'), /pause sleeper \(pid \d+, sigstop\)/);
      await stopped.heal();
    } finally {
      await ledger.close();
      journal.close();
      process.kill(-pid, 'SIGKILL');
      await once(sleeper, 'exit');
      rmSync(root, { recursive: true, force: true });
    }
    assert.deepEqual(
      (await findFaultCgroups()).filter((path) => path.includes(`/faultline-${process.pid}-`)),
      [],
    );
  });

  it('a planned group never applied removes to nothing', { skip: freezerSkip }, async () => {
    const group = await FaultCgroup.plan({ controllers: ['freezer'], pids: [process.pid], clock: realClock });
    assert.equal(existsSync(group.dirOf('freezer')), false);
    await group.remove();
    await assert.rejects(group.apply(), /removed before applied/);
    assert.equal(existsSync(group.dirOf('freezer')), false);
  });
});
