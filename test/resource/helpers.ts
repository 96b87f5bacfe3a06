import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { realClock } from '../../src/core/clock.js';
import type { FaultContext } from '../../src/core/fault.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { findFaultCgroups, readProcStat } from '../../src/os/index.js';

export function newContext(): FaultContext & { ledger: Ledger } {
  return { ledger: new Ledger({ handleSignals: false }), clock: realClock, random: new Random(1) };
}

/** Polls `condition` every 20 ms until it holds; fails after timeoutMs with `what`. */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = realClock.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (realClock.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await realClock.sleep(20);
  }
}

export interface Target {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(line: string): void;
  /** Waits for a stdout line matching `pattern`, returning it. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** Runs `source` as an ES module in a node child that leads its own process group. */
export async function startTarget(source: string, options: { uid?: number } = {}): Promise<Target> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: tmpdir(),
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (data: Buffer) => {
    partial += data.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid;
  assert.ok(pid !== undefined, 'target did not start');
  const target: Target = {
    child,
    pid,
    lines,
    exited,
    send: (line) => void child.stdin?.write(`${line}\n`),
    line: (pattern, timeoutMs = 15_000) =>
      waitFor(
        `a line matching ${pattern} from pid ${pid}`,
        () => lines.find((l) => pattern.test(l)),
        timeoutMs,
      ),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
  };
  await target.line(/^ready/);
  return target;
}

/** CPU ticks (utime + stime) the process used so far. */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = readProcStat(pid);
  assert.ok(stat !== undefined, `pid ${pid} is gone`);
  return stat.utimeTicks + stat.stimeTicks;
}

/** CPU ticks of each thread of a process (1/100 s each). */
export async function threadTicks(pid: number): Promise<number[]> {
  const tasks = `/proc/${pid}/task`;
  const ticks: number[] = [];
  for (const tid of await readdir(tasks).catch(() => [])) {
    const stat = readProcStat(Number(tid), tasks);
    if (stat !== undefined) ticks.push(stat.utimeTicks + stat.stimeTicks);
  }
  return ticks;
}

/** CPU cores a process used over a window of windowMs (ticks are 1/100 s on Linux). */
export async function coresUsed(pid: number, windowMs: number): Promise<number> {
  const before = await cpuTicks(pid);
  const start = realClock.now();
  await realClock.sleep(windowMs);
  const after = await cpuTicks(pid);
  const elapsedMs = realClock.now() - start;
  return ((after - before) * 10) / elapsedMs;
}

export async function alive(pid: number): Promise<boolean> {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** No faultline cgroup, no stressor process of this run, no fill file left. */
export async function assertNothingLeft(fillDirs: readonly string[] = []): Promise<void> {
  // Only this run's groups: other suites running at the same time own theirs.
  const mine = (await findFaultCgroups()).filter((path) => path.includes(`/faultline-${process.pid}-`));
  assert.deepEqual(mine, [], 'faultline-* cgroups left behind');
  for (const dir of fillDirs) {
    const left = (await readdir(dir).catch(() => [])).filter((name) => name.startsWith('.faultline-fill-'));
    assert.deepEqual(left, [], `fill files left in ${dir}`);
  }
  const stressors: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('stressor-main.js')) continue;
    const stat = readProcStat(Number(name));
    if (stat !== undefined && stat.state !== 'Z' && (await parentOf(Number(name))) === process.pid) {
      stressors.push(Number(name));
    }
  }
  assert.deepEqual(stressors, [], 'stressor processes left running');
}

async function parentOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
}
