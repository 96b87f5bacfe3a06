import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { findJournals, Journal } from '../../src/core/journal.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { cgroupSupport, findFaultCgroups, isAlive, readProcStat } from '../../src/os/index.js';
import { pauseFault } from '../../src/process/faults.js';
import { Supervisor } from '../../src/process/supervisor.js';
import { fakeDeadJournal } from './cleanup-helpers.js';
import { runCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-cleanup-test-'));
const sleepers: ChildProcess[] = [];
after(() => {
  for (const child of sleepers) if (child.pid !== undefined && isAlive(child.pid)) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const moduleUrl = (path: string): string =>
  JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);

/** A run that applies every kind of fault with a journal, prints what it did, then waits to be killed. */
const runScript = `
import { Journal } from ${moduleUrl('core/journal.js')};
import { Ledger } from ${moduleUrl('core/ledger.js')};
import { realClock } from ${moduleUrl('core/clock.js')};
import { Random } from ${moduleUrl('core/random.js')};
import { Supervisor } from ${moduleUrl('process/supervisor.js')};
import { pauseFault } from ${moduleUrl('process/faults.js')};
import { memoryLimitFault, fdLimitFault } from ${moduleUrl('resource/faults.js')};
import { diskFillFault } from ${moduleUrl('resource/stressors.js')};
import { dirname } from 'node:path';
const [stateDir, fillDir] = process.argv.slice(2);
const journal = Journal.open({ stateDir });
const ledger = new Ledger({ journal, handleSignals: false });
const supervisor = new Supervisor({ journal });
const argv = [process.execPath, '-e', 'setInterval(() => {}, 1000)'];
const frozen = await supervisor.start({ name: 'frozen', argv });
const stopped = await supervisor.start({ name: 'stopped', argv });
const limited = await supervisor.start({ name: 'limited', argv });
const fds = await supervisor.start({ name: 'fds', argv });
const context = { ledger, clock: realClock, random: new Random(1) };
const pause = await pauseFault({ target: frozen }).inject(context);
await pauseFault({ target: stopped, method: 'signals' }).inject(context);
const memory = await memoryLimitFault({ pid: limited.pid, limitMiB: 512 }).inject(context);
await fdLimitFault({ pid: fds.pid, maxOpenFiles: 64 }).inject(context);
const fill = await diskFillFault({ dir: fillDir, sizeMiB: 1, durationMs: 600000 }).inject(context);
console.log('applied ' + JSON.stringify({
  pids: [frozen.pid, stopped.pid, limited.pid, fds.pid, fill.pid],
  freezer: pause.details.cgroup,
  memory: memory.cgroup,
  fill: fill.path,
  logDir: dirname(frozen.logFile('stdout')),
  journal: journal.path,
}));
setInterval(() => {}, 1000);
`;

interface Applied {
  pids: number[];
  freezer: string | undefined;
  memory: string;
  fill: string;
  logDir: string;
  journal: string;
}

async function startRun(
  stateDir: string,
  fillDir: string,
): Promise<{ child: ChildProcess; applied: Applied }> {
  const script = join(root, 'run.mjs');
  writeFileSync(script, runScript);
  const child = spawn(process.execPath, [script, stateDir, fillDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  const applied = await new Promise<Applied>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`run not applied in time: ${out}${err}`));
    }, 30_000);
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const match = /^applied (.*)$/m.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(match[1]) as Applied);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`run exited (${code}) before applying: ${out}${err}`));
    });
  });
  return { child, applied };
}

function sleeper(): { pid: number; startTime: number } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    stdio: 'ignore',
  });
  sleepers.push(child);
  const pid = child.pid as number;
  return { pid, startTime: readProcStat(pid)?.startTime as number };
}

async function waitDead(pid: number, timeoutMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 20) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !isAlive(pid);
}

async function cgroupsSkip(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root for cgroups and the freezer';
  const support = await cgroupSupport();
  if (!support.controllers.memory.writable) return support.controllers.memory.reason ?? 'no memory cgroup';
  return existsSync('/sys/fs/cgroup/freezer/cgroup.procs') ? false : 'no cgroup v1 freezer';
}

const crashSkip = await cgroupsSkip();

describe('faultline cleanup', () => {
  it('undoes everything a SIGKILLed run left behind', { skip: crashSkip }, async () => {
    const stateDir = join(root, 'crash-state');
    const fillDir = mkdtempSync(join(root, 'fill-'));
    try {
      await crashAndClean(stateDir, fillDir);
    } finally {
      // A failed assertion must not leave the crashed run's residues behind.
      if (findJournals(stateDir).length > 0) await runCli(['cleanup', '--state-dir', stateDir], 60_000);
    }
  });

  async function crashAndClean(stateDir: string, fillDir: string): Promise<void> {
    const { child, applied } = await startRun(stateDir, fillDir);
    // The stressor ends itself (and removes its file) when its parent dies; stopped, it cannot, which is
    // the case the journal is for.
    process.kill(applied.pids[4] as number, 'SIGSTOP');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const runPid = child.pid as number;

    // The crash left the stopped stressor behind; supervised targets get SIGKILL when their parent dies
    // (PR_SET_PDEATHSIG), though the frozen one cannot act on it until cleanup thaws it.
    assert.ok(isAlive(applied.pids[4] as number), 'the stopped stressor outlives the crash');
    for (const pid of [applied.pids[1], applied.pids[3]] as number[]) {
      assert.ok(await waitDead(pid), `supervised pid ${pid} outlived the run`);
    }
    const mine = async (): Promise<string[]> =>
      (await findFaultCgroups()).filter((path) => path.includes(`/faultline-${runPid}-`));
    assert.equal((await mine()).length, 2, 'freezer and memory cgroups left');
    assert.ok(applied.freezer !== undefined && existsSync(applied.freezer));
    assert.ok(existsSync(applied.fill), 'fill file left');
    assert.ok(existsSync(applied.logDir), 'log dir left');
    assert.ok(existsSync(applied.journal), 'journal left');

    const result = await runCli(['cleanup', '--state-dir', stateDir], 60_000);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, new RegExp(`run ${runPid} \\(started [^)]+\\) is gone`));
    // Thawed, the frozen target acts on the SIGKILL its parent's death left pending: killed or already gone.
    assert.match(
      result.stdout,
      /(killed process group \d+ \(target frozen\) \(started |process group \d+ \(target frozen\) already gone)/,
    );
    assert.match(result.stdout, /removed cgroup \/sys\/fs\/cgroup\/freezer\/faultline-/);
    assert.match(result.stdout, /removed cgroup \/sys\/fs\/cgroup\/memory\/.*faultline-/);
    // The targets whose limit or stop these undo died with the run; the residues are still settled.
    assert.match(result.stdout, /pid \d+ is gone; its nofile limit went with it/);
    assert.match(result.stdout, /stopped pid \d+ already gone/);
    // Continued before the SIGKILL, the stressor may get to remove its own file first.
    assert.match(result.stdout, /(removed .*\.faultline-fill-\S+|\.faultline-fill-\S+ already gone)\n/);

    for (const pid of applied.pids) assert.ok(await waitDead(pid), `pid ${pid} still alive after cleanup`);
    assert.deepEqual(await mine(), [], 'cgroups of the run left');
    assert.equal(existsSync(applied.fill), false, 'fill file left');
    assert.equal(existsSync(applied.logDir), false, 'log dir left');
    assert.equal(existsSync(applied.journal), false, 'journal left');
    assert.deepEqual(readdirSync(join(stateDir, 'runs')), []);

    const again = await runCli(['cleanup', '--state-dir', stateDir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to clean up/);
  }

  it('a run that ends normally forgets every residue and deletes its journal', async () => {
    const stateDir = join(root, 'normal-state');
    const journal = Journal.open({ stateDir });
    const ledger = new Ledger({ journal, handleSignals: false });
    const supervisor = new Supervisor({ journal });
    try {
      const target = await supervisor.start({
        name: 'sleeper',
        argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
      });
      await pauseFault({ target, method: 'signals' }).inject({
        ledger,
        clock: realClock,
        random: new Random(1),
      });
      assert.deepEqual(
        journal.list().map((r) => r.kind),
        ['file', 'process-group', 'stopped-process'],
      );
      await ledger.close();
      assert.deepEqual(
        journal.list().map((r) => r.kind),
        ['file', 'process-group'],
      );
    } finally {
      await supervisor.stopAll();
    }
    assert.equal(journal.size, 0);
    journal.close();
    assert.equal(existsSync(journal.path), false);
  });

  it("leaves a live run's journal alone", async () => {
    const stateDir = join(root, 'live-state');
    const file = join(root, '.faultline-live-file');
    writeFileSync(file, 'x');
    const journal = Journal.open({ stateDir });
    const id = journal.add({ kind: 'file', path: file });
    try {
      const result = await runCli(['cleanup', '--state-dir', stateDir]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`run ${process.pid} .* is still running; left alone`));
      assert.ok(existsSync(file));
      assert.ok(existsSync(journal.path));
    } finally {
      journal.remove(id);
      journal.close();
    }
  });

  it('never kills a reused pid: a start time that differs is skipped', async () => {
    const stateDir = join(root, 'reused-state');
    const other = sleeper();
    const path = fakeDeadJournal(stateDir, [
      { kind: 'process-group', pid: other.pid, pgid: other.pid, startTime: other.startTime + 1 },
      {
        kind: 'rlimit',
        pid: other.pid,
        startTime: other.startTime + 1,
        resource: 'nofile',
        soft: '1',
        hard: '1',
      },
    ]);
    const result = await runCli(['cleanup', '--state-dir', stateDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`skipped pid ${other.pid}: start time differs, not ours`));
    assert.ok(isAlive(other.pid), 'an unrelated process was killed');
    assert.equal(existsSync(path), false, 'the journal is done with');
  });

  it('--dry-run changes nothing; the real run then undoes it', async () => {
    const stateDir = join(root, 'dry-state');
    const file = join(root, '.faultline-fill-dry');
    writeFileSync(file, 'x');
    const ours = sleeper();
    const path = fakeDeadJournal(stateDir, [
      { kind: 'file', path: file },
      { kind: 'process-group', pid: ours.pid, pgid: ours.pid, startTime: ours.startTime },
    ]);
    const before = readFileSync(path, 'utf8');
    const dry = await runCli(['cleanup', '--state-dir', stateDir, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would kill process group ${ours.pid}`));
    assert.match(dry.stdout, /would remove .*\.faultline-fill-dry/);
    assert.ok(isAlive(ours.pid));
    assert.ok(existsSync(file));
    assert.equal(readFileSync(path, 'utf8'), before);

    const real = await runCli(['cleanup', '--state-dir', stateDir]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, new RegExp(`killed process group ${ours.pid}`));
    assert.ok(await waitDead(ours.pid));
    assert.equal(existsSync(file), false);
    assert.equal(existsSync(path), false);
  });

  it('refuses a symlinked runs dir: reads no journal there and deletes no temp file in it', async () => {
    // Someone else's directory with a dead run's journal and a leftover temp, reached through a symlink.
    const elsewhere = join(root, 'elsewhere-state');
    const path = fakeDeadJournal(elsewhere, [{ kind: 'file', path: join(root, '.faultline-fill-link') }]);
    const temp = `${path}.1.tmp`;
    writeFileSync(temp, '{}');
    const stateDir = join(root, 'linked-state');
    mkdirSync(stateDir, { mode: 0o700 });
    symlinkSync(join(elsewhere, 'runs'), join(stateDir, 'runs'));
    const result = await runCli(['cleanup', '--state-dir', stateDir]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /runs is a symbolic link/);
    assert.doesNotMatch(result.stdout, /nothing to clean up/);
    assert.ok(existsSync(path), 'the journal is untouched');
    assert.ok(existsSync(temp), 'the temp file is untouched');
  });

  it('exits 1 and keeps the journal when something cannot be undone', async () => {
    const stateDir = join(root, 'refused-state');
    const path = fakeDeadJournal(stateDir, [{ kind: 'file', path: join(root, 'not-ours.txt') }]);
    const result = await runCli(['cleanup', '--state-dir', stateDir]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /refused to remove .*not-ours\.txt: not a faultline-owned name/);
    assert.ok(existsSync(path));
  });
});
