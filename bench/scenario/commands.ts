/**
 * The CLI as users run it: `faultline run` of a 100,000-op scenario (peak RSS, wall time), `faultline demo`
 * (wall time) and `faultline validate` of a 200-line scenario (wall time including process start), each a
 * fresh `node dist/src/cli/main.js …` process, with the baselines taken in the same run: a bare `node -e`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register, stopChild } from '../../test/support/children.js';
import { freePort } from '../../test/support/ports.js';
import { storeTargets } from '../../test/support/store-targets.js';
import { median } from '../proxy/stats.js';
import { validateScenarioText } from './validate-scenario.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const statsModule = new URL('./process-stats.js', import.meta.url).href;

/** What is running or on disk now, for `stopCommands` when the benchmark is interrupted. */
const running = new Set<ChildProcess>();
const dirs = new Set<string>();

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/**
 * Interrupts the commands still running with SIGINT — a `faultline run` or `demo` then heals, stops its
 * targets and removes its files — SIGKILL after 20 s; then removes the benchmark's temp dirs.
 */
export async function stopCommands(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child, 'SIGINT', 20_000)));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export interface Timed {
  readonly ms: number;
  readonly code: number | null;
  /** The last lines of stdout and stderr, for a report when the command failed. */
  readonly tail: string;
  /** When asked for: peak RSS (VmHWM) in kB, the peak so far when each run phase started, CPU time. */
  readonly peakKb?: number;
  readonly peakKbAtPhaseStart?: Readonly<Record<string, number | undefined>>;
  readonly cpuMs?: number;
}

/**
 * Runs `node [--import process-stats] args…` to its end, or SIGINT at `timeoutMs` (a runner heals and cleans up
 * on it) and SIGTERM, SIGKILL after that; wall time from spawn to exit.
 */
async function timed(
  args: readonly string[],
  options: { readonly timeoutMs: number; readonly stats?: boolean },
): Promise<Timed> {
  const dir = options.stats === true ? await tempDir('faultline-bench-stats-') : undefined;
  const statsFile = dir === undefined ? undefined : join(dir, 'stats.json');
  try {
    const start = performance.now();
    const child = spawn(
      process.execPath,
      [...(statsFile === undefined ? [] : ['--import', statsModule]), ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...(statsFile === undefined ? {} : { FAULTLINE_BENCH_STATS_FILE: statsFile }),
        },
      },
    );
    register(child);
    running.add(child);
    child.once('exit', () => running.delete(child));
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      tail += `\n[benchmark: timed out after ${options.timeoutMs} ms; interrupting]`;
      child.kill('SIGINT');
      setTimeout(() => void stopChild(child, 'SIGTERM', 5000), 20_000).unref();
    }, options.timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    const ms = performance.now() - start;
    clearTimeout(timer);
    let stats: Pick<Timed, 'peakKb' | 'peakKbAtPhaseStart' | 'cpuMs'> = {};
    if (statsFile !== undefined) {
      const text = await readFile(statsFile, 'utf8').catch(() => '');
      if (text !== '') stats = JSON.parse(text) as typeof stats;
    }
    return { ms, code, tail, ...stats };
  } finally {
    if (dir !== undefined) await removeDir(dir);
  }
}

export interface RunnerFigures {
  readonly run: Timed;
  readonly bare: Timed;
  readonly ops: number;
}

/**
 * `faultline run` of the demo's store (the buggy variant, which answers fastest: it fsyncs only once a
 * second; no fault kills it, so nothing is lost) behind a TCP proxy, a `kv` workload of `ops` calls by
 * 8 clients, 1 s of latency on the proxy, the linearizability check, a journal written.
 */
export async function benchRunner(ops: number, timeoutMs: number): Promise<RunnerFigures> {
  const dir = await tempDir('faultline-bench-run-');
  try {
    const port = await freePort();
    const file = join(dir, 'workload.toml');
    await writeFile(
      file,
      `[experiment]
name = "${ops} ops"
seed = 1
timeLimit = "${Math.ceil(timeoutMs / 1000) - 10}s"

${storeTargets(port, { variant: 'buggy', restart: false })}
[workload]
type = "kv"
url = "http://\${targets.front.listen}"
clients = 8
ops = ${ops}
timeout = "2s"

[[faults]]
kind = "tcp.latency"
at = "1s"
for = "1s"
params = { proxy = "front", latencyMs = 5 }

[[checks]]
check = "linearizability"
model = "kv"
`,
    );
    const bare = await timed(['-e', 'setTimeout(() => {}, 100)'], { timeoutMs: 10_000, stats: true });
    const run = await timed([cli, 'run', '--journal', join(dir, 'journal.jsonl'), file], {
      timeoutMs,
      stats: true,
    });
    return { run, bare, ops };
  } finally {
    await removeDir(dir);
  }
}

export interface DemoFigures {
  readonly buggy: Timed;
  readonly fixed: Timed;
}

/** `faultline demo` (expected exit 1: the bug is found) and `faultline demo --fixed` (expected 0). */
export async function benchDemo(seed: number): Promise<DemoFigures> {
  const buggy = await timed([cli, 'demo', '--seed', String(seed)], { timeoutMs: 120_000 });
  const fixed = await timed([cli, 'demo', '--fixed', '--seed', String(seed)], { timeoutMs: 120_000 });
  return { buggy, fixed };
}

export interface ValidateFigures {
  readonly lines: number;
  readonly runs: number;
  /** Medians and worst, ms. */
  readonly validateMs: number;
  readonly validateMaxMs: number;
  readonly nodeMs: number;
  readonly nodeMaxMs: number;
  /** Median CPU time (user + system) of each. */
  readonly validateCpuMs: number;
  readonly nodeCpuMs: number;
  /** Exit codes other than 0, if any (the file must be valid). */
  readonly failures: readonly string[];
}

/**
 * `faultline validate` of a generated 200-line scenario, `runs` times, interleaved with `node -e 0`; both
 * load the stats module (a few ms), so both carry it alike.
 */
export async function benchValidate(runs: number): Promise<ValidateFigures> {
  const dir = await tempDir('faultline-bench-validate-');
  try {
    const text = validateScenarioText();
    const file = join(dir, 'scenario.toml');
    await writeFile(file, text);
    const validate: number[] = [];
    const node: number[] = [];
    const validateCpu: number[] = [];
    const nodeCpu: number[] = [];
    const failures: string[] = [];
    for (let run = 0; run <= runs; run++) {
      const checked = await timed([cli, 'validate', file], { timeoutMs: 10_000, stats: true });
      const bare = await timed(['-e', '0'], { timeoutMs: 10_000, stats: true });
      // A failed run is reported, and its time (a quick exit) left out.
      if (checked.code !== 0) failures.push(`validate exited ${checked.code}: ${checked.tail}`);
      if (run === 0 || checked.code !== 0) continue; // run 0 warms up: the first start reads from disk
      validate.push(checked.ms);
      node.push(bare.ms);
      validateCpu.push(checked.cpuMs ?? Number.NaN);
      nodeCpu.push(bare.cpuMs ?? Number.NaN);
    }
    return {
      lines: text.trimEnd().split('\n').length,
      runs,
      validateMs: median(validate),
      validateMaxMs: Math.max(...validate),
      nodeMs: median(node),
      nodeMaxMs: Math.max(...node),
      validateCpuMs: median(validateCpu),
      nodeCpuMs: median(nodeCpu),
      failures,
    };
  } finally {
    await removeDir(dir);
  }
}
