// `faultline run` killed mid-method leaves nothing behind once `faultline cleanup` has run, and Ctrl-C
// leaves nothing behind at all: a process target frozen by the cgroup freezer and held in a memory cgroup,
// a disk-fill stressor and its file, the run's temp dir and log dir, the journal.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupSupport, findFaultCgroups, isAlive } from '../../src/os/index.js';
import { runCli, startCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-run-kill-test-'));
const started: number[] = [];
after(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function skipWithout(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root for cgroups and the freezer';
  const support = await cgroupSupport();
  if (!support.controllers.memory.writable) return support.controllers.memory.reason ?? 'no memory cgroup';
  return existsSync('/sys/fs/cgroup/freezer/cgroup.procs') ? false : 'no cgroup v1 freezer';
}
const skip = await skipWithout();

/** A scenario whose faults stay in force for the whole (long) method, each leaving a residue. */
const scenario = `[experiment]
name = "residues"
seed = 3
duration = "60s"
timeLimit = "120s"

[targets.app]
type = "process"
argv = ["${process.execPath}", "-e", "setInterval(() => {}, 1000)"]

[[faults]]
kind = "resource.memory-limit"
params = { pid = "\${targets.app.pid}", limitMiB = 256 }

[[faults]]
kind = "process.pause"
at = "50ms"
params = { target = "app", method = "freezer" }

[[faults]]
kind = "resource.disk-fill"
at = "100ms"
params = { dir = "\${run.dir}", sizeMiB = 1, durationMs = 600000 }
`;

interface Started {
  readonly run: ReturnType<typeof startCli>;
  readonly tmp: string;
  readonly state: string;
  readonly target: number;
}

/** `faultline run` with its own TMPDIR and state dir, once every fault is in force. */
async function startRun(name: string): Promise<Started> {
  const dir = join(root, name);
  const tmp = join(dir, 'tmp');
  const state = join(dir, 'state');
  mkdirSync(tmp, { recursive: true });
  const file = join(dir, 'residues.toml');
  writeFileSync(file, scenario);
  const run = startCli(['run', file], { cwd: dir, env: { TMPDIR: tmp, FAULTLINE_STATE_DIR: state } });
  started.push(run.process.pid as number);
  const [, pid] = await run.waitFor(/target app \(process\) up pid (\d+)/, 30_000);
  started.push(Number(pid));
  await run.waitFor(/inject resource\.disk-fill/, 30_000);
  return { run, tmp, state, target: Number(pid) };
}

async function waitDead(pid: number, timeoutMs = 10_000): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs && isAlive(pid); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !isAlive(pid);
}

const cgroupsOf = async (pid: number): Promise<string[]> =>
  (await findFaultCgroups()).filter((path) => path.includes(`/faultline-${pid}-`));

/** Nothing of the run is left: target, cgroups, temp dirs (run dir, fill file, logs), journal. */
async function assertNothingLeft({ run, tmp, state, target }: Started): Promise<void> {
  assert.ok(await waitDead(target), `target pid ${target} is still alive`);
  assert.deepEqual(await cgroupsOf(run.process.pid as number), [], 'cgroups left');
  assert.deepEqual(readdirSync(tmp), [], 'temp files left (run dir, fill file or log dir)');
  const runs = join(state, 'runs');
  assert.deepEqual(existsSync(runs) ? readdirSync(runs) : [], [], 'journal left');
}

describe('faultline run, killed or interrupted mid-method', { skip }, () => {
  it('SIGKILL, then faultline cleanup: nothing is left', async () => {
    const running = await startRun('killed');
    const { run, tmp, state } = running;
    const runPid = run.process.pid as number;
    try {
      run.process.kill('SIGKILL');
      await new Promise((resolve) => run.process.once('close', resolve));
      // What the crash left, as the journal knows it.
      assert.equal((await cgroupsOf(runPid)).length, 2, 'freezer and memory cgroups left by the crash');
      assert.ok(
        readdirSync(tmp).some((name) => name.startsWith('faultline-run-')),
        'run dir left',
      );
      assert.equal(readdirSync(join(state, 'runs')).length, 1, 'one journal');

      const cleaned = await runCli(['cleanup', '--state-dir', state], 60_000, { env: { TMPDIR: tmp } });
      assert.equal(cleaned.code, 0, `${cleaned.stdout}${cleaned.stderr}`);
      assert.match(cleaned.stdout, new RegExp(`run ${runPid} \\(started [^)]+\\) is gone`));
      assert.match(cleaned.stdout, /removed cgroup \/sys\/fs\/cgroup\/freezer\/faultline-/);
      assert.match(cleaned.stdout, /removed cgroup \/sys\/fs\/cgroup\/memory\/.*faultline-/);
      await assertNothingLeft(running);
    } finally {
      if (existsSync(join(state, 'runs'))) await runCli(['cleanup', '--state-dir', state], 60_000);
    }
  });

  it('SIGINT: healed and cleaned up by the run itself, exit 130, nothing left', async () => {
    const running = await startRun('interrupted');
    const { run, state } = running;
    try {
      run.process.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) =>
        run.process.once('close', (exitCode) => resolve(exitCode)),
      );
      assert.equal(code, 130, `${run.stdout()}\n${run.stderr()}`);
      assert.match(run.stdout(), /INTERRUPTED/);
      await assertNothingLeft(running);
    } finally {
      if (existsSync(join(state, 'runs'))) await runCli(['cleanup', '--state-dir', state], 60_000);
    }
  });
});
