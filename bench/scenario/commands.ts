/**
 * The CLI as users run it: `faultline run` of a 100,000-op scenario (peak RSS, wall time), `faultline demo`
 * (wall time) and `faultline validate` of a 200-line scenario (wall time including process start), each a
 * fresh `node dist/src/cli/main.js …` process, with the baselines taken in the same run: a bare `node -e`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register, stopChild } from '../../test/support/children.js';
import { freePort } from '../../test/support/ports.js';
import { median } from '../proxy/stats.js';
import { validateScenarioText } from './validate-scenario.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const peakRssModule = new URL('./peak-rss.js', import.meta.url).href;
const kvService = fileURLToPath(new URL('../../src/demo/kv-service.js', import.meta.url));

export interface Timed {
  readonly ms: number;
  readonly code: number | null;
  /** The last lines of stdout and stderr, for a report when the command failed. */
  readonly tail: string;
  /** Peak RSS (VmHWM) in kB, when asked for; and the peak so far when each run phase started. */
  readonly peakKb?: number;
  readonly peakKbAtPhaseStart?: Readonly<Record<string, number | undefined>>;
}

/**
 * Runs `node [--import peak-rss] args…` to its end, or SIGINT at `timeoutMs` (a runner heals and cleans up
 * on it) and SIGTERM, SIGKILL after that; wall time from spawn to exit.
 */
async function timed(
  args: readonly string[],
  options: { readonly timeoutMs: number; readonly peakRss?: boolean },
): Promise<Timed> {
  const dir = options.peakRss === true ? await mkdtemp(join(tmpdir(), 'faultline-bench-rss-')) : undefined;
  const peakFile = dir === undefined ? undefined : join(dir, 'peak');
  try {
    const start = performance.now();
    const child = spawn(
      process.execPath,
      [...(peakFile === undefined ? [] : ['--import', peakRssModule]), ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...(peakFile === undefined ? {} : { FAULTLINE_BENCH_PEAK_RSS_FILE: peakFile }),
        },
      },
    );
    register(child);
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
    let peak: Pick<Timed, 'peakKb' | 'peakKbAtPhaseStart'> = {};
    if (peakFile !== undefined) {
      const text = await readFile(peakFile, 'utf8').catch(() => '');
      if (text !== '') {
        const read = JSON.parse(text) as { peakKb?: number; atPhaseStart: Record<string, number> };
        peak = {
          ...(read.peakKb === undefined ? {} : { peakKb: read.peakKb }),
          peakKbAtPhaseStart: read.atPhaseStart,
        };
      }
    }
    return { ms, code, tail, ...peak };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
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
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-run-'));
  try {
    const port = await freePort();
    const file = join(dir, 'workload.toml');
    await writeFile(
      file,
      `[experiment]
name = "${ops} ops"
seed = 1
timeLimit = "${Math.ceil(timeoutMs / 1000) - 10}s"

[targets.kv]
type = "process"
argv = [${JSON.stringify(process.execPath)}, ${JSON.stringify(kvService)}, "--data-dir", "\${run.dir}", "--port", "${port}", "--variant", "buggy"]
ready = { type = "http", url = "http://127.0.0.1:${port}/health" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${port}"

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
    const bare = await timed(['-e', 'setTimeout(() => {}, 100)'], { timeoutMs: 10_000, peakRss: true });
    const run = await timed([cli, 'run', '--journal', join(dir, 'journal.jsonl'), file], {
      timeoutMs,
      peakRss: true,
    });
    return { run, bare, ops };
  } finally {
    await rm(dir, { recursive: true, force: true });
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
  /** Exit codes other than 0, if any (the file must be valid). */
  readonly failures: readonly string[];
}

/** `faultline validate` of a generated 200-line scenario, `runs` times, interleaved with `node -e 0`. */
export async function benchValidate(runs: number): Promise<ValidateFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-validate-'));
  try {
    const text = validateScenarioText();
    const file = join(dir, 'scenario.toml');
    await writeFile(file, text);
    const validate: number[] = [];
    const node: number[] = [];
    const failures: string[] = [];
    for (let run = 0; run <= runs; run++) {
      const checked = await timed([cli, 'validate', file], { timeoutMs: 10_000 });
      const bare = await timed(['-e', '0'], { timeoutMs: 10_000 });
      if (checked.code !== 0) failures.push(`validate exited ${checked.code}: ${checked.tail}`);
      if (run === 0) continue; // a warm-up: the first start reads everything from disk
      validate.push(checked.ms);
      node.push(bare.ms);
    }
    return {
      lines: text.trimEnd().split('\n').length,
      runs,
      validateMs: median(validate),
      validateMaxMs: Math.max(...validate),
      nodeMs: median(node),
      nodeMaxMs: Math.max(...node),
      failures,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
