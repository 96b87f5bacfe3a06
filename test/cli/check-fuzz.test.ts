// A fuzzer for `faultline check`: mutated histories (the fixtures in every format, and histories made from
// them: truncated, bits flipped, lines deleted, duplicated, swapped or taken from another format, huge
// numbers, deep nesting, NUL and invalid UTF-8) and pure garbage (random bytes, text, empty files), in
// every --format. Invariants: a refusal is exit 3 naming the file and line; garbage and wrong formats are
// always refused; legitimate inputs keep their verdict; never a stack trace; every case within a bound.
//
// Most cases run in process, through the function the CLI runs, in a worker (a hang is stopped and named);
// a few spawn the real CLI. Fixed seed by default. Environment:
//   FAULTLINE_FUZZ_CHECK_RUNS=n  in-process cases (default 1500; e.g. 100000 for a long run)
//   FAULTLINE_FUZZ_SPAWNS=n   CLI spawns (default 8, or runs / 1000 when more)
//   FAULTLINE_FUZZ_SEED=n     the seed (default 20250611); FAULTLINE_FUZZ_CASE=i runs case i alone
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { envInteger, fuzzRuns, fuzzSeed } from '../fuzz-env.js';
import { type FuzzCase, fuzzCase, validProblems } from './check-fuzz-cases.js';
import type { WorkerInput, WorkerMessage } from './check-fuzz-worker.js';
import { runCli } from './run-cli.js';

const seed = fuzzSeed(20250611);
const only = process.env.FAULTLINE_FUZZ_CASE;
const runs = only === undefined ? fuzzRuns('CHECK', 1500) : 1;
const first = only === undefined ? 0 : envInteger('FAULTLINE_FUZZ_CASE', 0);
const spawns =
  only === undefined ? envInteger('FAULTLINE_FUZZ_SPAWNS', Math.max(8, Math.floor(runs / 1000))) : 0;
/** Each case must finish within this (a 2-core shared machine; cases take about a millisecond). */
const caseLimitMs = 5_000;
/** Starting node takes 100+ ms here, much more when the machine is busy: added to a spawned case's bound. */
const spawnAllowanceMs = 10_000;
/** A case still running after this is a hang: the worker is stopped and the case named. */
const hangMs = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'faultline-check-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const replay = (index: number): string =>
  `FAULTLINE_FUZZ_SEED=${seed} FAULTLINE_FUZZ_CASE=${index} node scripts/run-tests.mjs cli/check-fuzz`;

interface Outcome {
  readonly code: number | null | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly thrown?: string | undefined;
  readonly signal?: string | null;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What is wrong with an outcome, if anything. */
function problems(fuzz: FuzzCase, file: string, outcome: Outcome, limitMs: number): string[] {
  const found: string[] = [];
  const { code, stdout, stderr } = outcome;
  if (outcome.thrown !== undefined) found.push(`checkCommand threw: ${outcome.thrown}`);
  if (outcome.signal) found.push(`killed by ${outcome.signal}`);
  if (code !== 0 && code !== 1 && code !== 2 && code !== 3) found.push(`exit ${code}`);
  if (/^\s+at\s/m.test(stdout + stderr)) found.push('a stack trace');
  if (code === 3) {
    const firstLine = stderr.split('\n')[0] ?? '';
    if (
      !new RegExp(`^faultline check: ${escapeRegExp(file)}: line \\d+(, column \\d+)?: \\S`).test(firstLine)
    ) {
      found.push(`a refusal that does not name the file and line: ${firstLine.slice(0, 300)}`);
    }
  } else if (code === 0 || code === 1 || code === 2) {
    if (
      !new RegExp(`^faultline check: ${escapeRegExp(file)} \\((jsonl|edn|jepsen-log), [1-9]\\d* ops`).test(
        stdout,
      )
    ) {
      found.push(`a verdict without the file, format and a number of ops: ${stdout.slice(0, 300)}`);
    }
  }
  if ((fuzz.kind === 'garbage' || fuzz.kind === 'wrong-format') && code !== 3) {
    found.push(`exit ${code} for ${fuzz.kind}, expected 3: ${stdout.slice(0, 200)}`);
  }
  for (const problem of validProblems(fuzz, code)) found.push(`${problem}: ${stdout}${stderr}`.slice(0, 400));
  if (outcome.ms > limitMs) found.push(`took ${Math.round(outcome.ms)} ms (bound ${limitMs} ms)`);
  return found;
}

interface Tally {
  cases: number;
  readonly kinds: Record<string, number>;
  readonly codes: Record<string, number>;
  slowestMs: number;
  readonly failures: string[];
}

const newTally = (): Tally => ({ cases: 0, kinds: {}, codes: {}, slowestMs: 0, failures: [] });

function record(tally: Tally, fuzz: FuzzCase, file: string, outcome: Outcome, limitMs = caseLimitMs): void {
  tally.cases++;
  tally.kinds[fuzz.kind] = (tally.kinds[fuzz.kind] ?? 0) + 1;
  tally.codes[String(outcome.code)] = (tally.codes[String(outcome.code)] ?? 0) + 1;
  tally.slowestMs = Math.max(tally.slowestMs, outcome.ms);
  const found = problems(fuzz, file, outcome, limitMs);
  if (found.length > 0) {
    tally.failures.push(
      `case ${fuzz.index} (${fuzz.kind}: ${fuzz.description}; check ${fuzz.args.join(' ')}): ${found.join('; ')}\n  replay: ${replay(fuzz.index)}`,
    );
  }
  if (only !== undefined) {
    process.stdout.write(
      `case ${fuzz.index}: ${fuzz.kind}: ${fuzz.description}\n  args: ${fuzz.args.join(' ')}\n  bytes (${fuzz.bytes.length}): ${JSON.stringify(Buffer.from(fuzz.bytes.subarray(0, 2000)).toString('latin1'))}\n  exit ${outcome.code}\n  stdout: ${outcome.stdout}\n  stderr: ${outcome.stderr}\n`,
    );
  }
}

const summary = (tally: Tally, ms: number): string =>
  `${tally.cases} cases in ${(ms / 1000).toFixed(1)} s (${Object.entries(tally.kinds)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ')}; exits ${Object.entries(tally.codes)
    .map(([code, n]) => `${code}: ${n}`)
    .join(', ')}; slowest ${Math.round(tally.slowestMs)} ms)`;

function report(what: string, tally: Tally, ms: number): void {
  process.stdout.write(`check fuzz (seed ${seed}): ${what}: ${summary(tally, ms)}\n`);
  assert.deepEqual(
    tally.failures.slice(0, 10),
    [],
    `${tally.failures.length} of ${tally.cases} cases broke an invariant (seed ${seed})`,
  );
}

/** Runs cases [start, start + count) in a worker, stopping it if a case hangs. */
function runInWorker(start: number, count: number, tally: Tally): Promise<void> {
  return new Promise((resolve, reject) => {
    const input: WorkerInput = { seed, start, count, dir };
    const worker = new Worker(new URL('./check-fuzz-worker.js', import.meta.url), { workerData: input });
    let current = start;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void worker.terminate();
        const fuzz = fuzzCase(seed, current);
        reject(
          new Error(
            `case ${current} (${fuzz.kind}: ${fuzz.description}; check ${fuzz.args.join(' ')}) did not finish within ${hangMs} ms\n  replay: ${replay(current)}`,
          ),
        );
      }, hangMs);
    };
    arm();
    worker.on('message', (message: WorkerMessage) => {
      arm();
      current = message.index;
      if (message.type === 'done') {
        record(tally, fuzzCase(seed, message.index), join(dir, `case-${message.index}`), message);
      }
    });
    worker.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the fuzz worker failed at case ${current}: ${error.stack ?? error.message}\n  replay: ${replay(current)}`,
        ),
      );
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`the fuzz worker exited with ${code} at case ${current}\n  replay: ${replay(current)}`),
        );
    });
  });
}

describe('faultline check fuzzer', () => {
  process.stdout.write(
    `check fuzz: seed ${seed}, ${runs} in-process cases${only === undefined ? '' : ` (case ${first} only)`}, ${spawns} CLI spawns; replay a case with ${replay(first).replace(`=${first} `, '=<i> ')}\n`,
  );

  it(`keeps its invariants in process (${runs} cases)`, async () => {
    const tally = newTally();
    const started = performance.now();
    await runInWorker(first, runs, tally);
    report('in process', tally, performance.now() - started);
    assert.equal(tally.cases, runs);
  });

  it(`keeps them through the real CLI (${spawns} spawns)`, { skip: spawns === 0 }, async () => {
    const tally = newTally();
    const started = performance.now();
    // Cases after the in-process ones, so the two parts never repeat each other.
    for (let index = runs; index < runs + spawns; index++) {
      const fuzz = fuzzCase(seed, index);
      const file = join(dir, `spawn-${index}`);
      writeFileSync(file, fuzz.bytes);
      const caseStarted = performance.now();
      const result = await runCli(['check', file, ...fuzz.args], hangMs);
      record(
        tally,
        fuzz,
        file,
        { ...result, ms: performance.now() - caseStarted },
        caseLimitMs + spawnAllowanceMs,
      );
      rmSync(file, { force: true });
    }
    report('through the CLI', tally, performance.now() - started);
  });
});
