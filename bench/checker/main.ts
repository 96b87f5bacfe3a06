/**
 * Linearizability checker benchmark: `npm run bench:checker` (or `node dist/bench/checker/main.js`).
 *
 * Histories are generated from a seeded `Random` by running a real sequential object under random
 * concurrency (./simulate.ts), shaped like real Jepsen-style runs. Each shape runs in a fresh child
 * process so its peak RSS is its own. Reported: median check time over several histories, the worst
 * run, peak RSS, and the unmemoised search's time against the memoised one where both finish.
 * See docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkLinearizability } from '../../src/check-driver/index.js';
import type { Model } from '../../src/checker/model.js';
import { models } from '../../src/checker/models/index.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import { casRegisterSpec, listAppendSpec, simulate } from '../../test/support/checker-simulate.js';

const usage = `usage: node dist/bench/checker/main.js [options]
  --runs <n>        histories per shape (default 9; the median is reported)
  --seed <n>        generator seed (default 1)
  --shapes <list>   comma-separated subset of a,b,c,d (default all)
  --unmemo-ms <n>   time budget for each unmemoised run (default 2000)
  --json <path>     also write the results as JSON
  --child <shape>   (internal) run one shape and print its JSON`;

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    seed: { type: 'string', default: '1' },
    shapes: { type: 'string', default: 'a,b,c,d' },
    'unmemo-ms': { type: 'string', default: '2000' },
    json: { type: 'string' },
    child: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}

interface Shape {
  readonly id: string;
  readonly title: string;
  readonly model: Model<unknown>;
  readonly partition: boolean;
  readonly timeoutMs: number;
  /** Target median ms, if any. */
  readonly targetMs: number | undefined;
  readonly expectValid: boolean;
  generate(random: Random): Op[];
}

const rssTargetMb = 500;

/** 80 ops on one CAS register, 5 clients, 10–25 of them `info` (crashed clients are replaced). */
function casHistory(random: Random): Op[] {
  for (;;) {
    const ops = simulate(casRegisterSpec(5), random, {
      processes: 5,
      ops: 80,
      infoProbability: 0.22,
      leaveOpen: 2,
    });
    const infos = ops.filter((op) => op.type === 'info').length + 2;
    if (infos >= 10 && infos <= 25) return ops;
  }
}

/** One ok read changed to a value nobody wrote: the history is then not linearizable. */
function corruptOneRead(ops: Op[], random: Random): Op[] {
  const reads = ops.filter((op) => op.type === 'ok' && op.f === 'read');
  const victim = random.pick(reads);
  return ops.map((op) => (op === victim ? { ...op, value: 1000 } : op));
}

const shapes: readonly Shape[] = [
  {
    id: 'a',
    title: 'cas-register, 80 ops, 5 clients, 10-25 info',
    model: models['cas-register'],
    partition: true,
    timeoutMs: 60_000,
    targetMs: 100,
    expectValid: true,
    generate: casHistory,
  },
  {
    id: 'b',
    title: 'list-append, ~2000 ops, 50 clients, 10 keys',
    model: models['list-append'],
    partition: true,
    timeoutMs: 60_000,
    targetMs: 150,
    expectValid: true,
    generate: (random) =>
      simulate(listAppendSpec(10), random, { processes: 50, ops: 2000, infoProbability: 0.02 }),
  },
  {
    id: 'c',
    title: '(b) without partitioning',
    model: models['list-append'],
    partition: false,
    timeoutMs: 20_000,
    targetMs: undefined,
    expectValid: true,
    generate: (random) =>
      simulate(listAppendSpec(10), random, { processes: 50, ops: 2000, infoProbability: 0.02 }),
  },
  {
    id: 'd',
    title: '(a) with one read corrupted (invalid)',
    model: models['cas-register'],
    partition: true,
    timeoutMs: 60_000,
    targetMs: undefined,
    expectValid: false,
    generate: (random) => corruptOneRead(casHistory(random), random.fork('corrupt')),
  },
];

interface ShapeResult {
  readonly id: string;
  readonly title: string;
  readonly ops: number;
  readonly infoOps: number;
  readonly verdicts: Record<string, number>;
  readonly wrongVerdicts: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly configurations: number;
  readonly unmemoFinished: number;
  readonly unmemoMedianMs: number | null;
  /** Median over histories where both finished of unmemoised / memoised time. */
  readonly unmemoRatio: number | null;
  readonly peakRssMb: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function runShape(shape: Shape, runs: number, seed: number, unmemoMs: number): Promise<ShapeResult> {
  const random = new Random(seed, `bench/checker/${shape.id}`);
  const histories = Array.from({ length: runs }, (_, run) => shape.generate(random.fork(`run-${run}`)));
  const check = (ops: Op[], memoise: boolean) =>
    checkLinearizability(ops, shape.model, {
      partition: shape.partition,
      memoise,
      timeoutMs: memoise ? shape.timeoutMs : unmemoMs,
    });
  await check(histories[0] as Op[], true); // warm up the JIT
  const times: number[] = [];
  const unmemoTimes: number[] = [];
  const ratios: number[] = [];
  const verdicts: Record<string, number> = {};
  let wrong = 0;
  let configurations = 0;
  for (const ops of histories) {
    const started = performance.now();
    const result = await check(ops, true);
    const elapsed = performance.now() - started;
    times.push(elapsed);
    verdicts[String(result.valid)] = (verdicts[String(result.valid)] ?? 0) + 1;
    if (result.valid !== 'unknown' && result.valid !== shape.expectValid) wrong++;
    configurations += result.stats?.configurations ?? 0;
    const unmemoStarted = performance.now();
    const unmemo = await check(ops, false);
    const unmemoElapsed = performance.now() - unmemoStarted;
    if (unmemo.valid !== 'unknown' && result.valid !== 'unknown') {
      unmemoTimes.push(unmemoElapsed);
      ratios.push(unmemoElapsed / elapsed);
    }
  }
  const pairs = histories.map((ops) => {
    const open = new Set<Op['process']>();
    let info = 0;
    for (const op of ops) {
      if (op.type === 'invoke') open.add(op.process);
      else open.delete(op.process);
      if (op.type === 'info') info++;
    }
    return { ops: ops.filter((op) => op.type === 'invoke').length, info: info + open.size };
  });
  return {
    id: shape.id,
    title: shape.title,
    ops: median(pairs.map((pair) => pair.ops)),
    infoOps: median(pairs.map((pair) => pair.info)),
    verdicts,
    wrongVerdicts: wrong,
    medianMs: median(times),
    maxMs: Math.max(...times),
    configurations: Math.round(configurations / histories.length),
    unmemoFinished: unmemoTimes.length,
    unmemoMedianMs: unmemoTimes.length === 0 ? null : median(unmemoTimes),
    unmemoRatio: ratios.length === 0 ? null : median(ratios),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name}: expected a non-negative integer, got "${text}"\n${usage}`);
    process.exit(2);
  }
  return value;
}

const runs = Math.max(1, positiveInt('runs', options.runs));
const seed = positiveInt('seed', options.seed);
const unmemoMs = positiveInt('unmemo-ms', options['unmemo-ms']);

if (options.child !== undefined) {
  const shape = shapes.find((candidate) => candidate.id === options.child);
  if (shape === undefined) {
    console.error(`unknown shape ${options.child}`);
    process.exit(2);
  }
  console.log(JSON.stringify(await runShape(shape, runs, seed, unmemoMs)));
} else {
  console.log(
    `checker benchmark — seed ${seed}, ${runs} histories per shape (replay: --seed ${seed} --runs ${runs})`,
  );
  console.log(
    `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load ${loadavg()[0]?.toFixed(2)}, node ${process.version}`,
  );
  const wanted = new Set(options.shapes.split(',').map((id) => id.trim()));
  const results: ShapeResult[] = [];
  for (const shape of shapes.filter((candidate) => wanted.has(candidate.id))) {
    const child = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--child',
        shape.id,
        '--runs',
        String(runs),
        '--seed',
        String(seed),
        '--unmemo-ms',
        String(unmemoMs),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 },
    );
    if (child.status !== 0) {
      console.error(`shape ${shape.id} failed (exit ${child.status ?? child.signal})`);
      process.exitCode = 1;
      continue;
    }
    results.push(JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as ShapeResult);
  }
  const rows = results.map((result) => {
    const shape = shapes.find((candidate) => candidate.id === result.id) as Shape;
    const timeOk = shape.targetMs === undefined || result.medianMs < shape.targetMs;
    const pass = timeOk && result.peakRssMb < rssTargetMb && result.wrongVerdicts === 0;
    return [
      `(${result.id}) ${result.title}`,
      `${result.ops}/${result.infoOps}`,
      Object.entries(result.verdicts)
        .map(([verdict, count]) => `${verdict}×${count}`)
        .join(' '),
      result.medianMs.toFixed(1),
      result.maxMs.toFixed(1),
      result.peakRssMb.toFixed(0),
      result.unmemoMedianMs === null
        ? `none <${unmemoMs}ms`
        : `${result.unmemoMedianMs.toFixed(1)} (${result.unmemoFinished}/${runs})`,
      result.unmemoRatio === null ? '-' : `${result.unmemoRatio.toFixed(2)}×`,
      `${shape.targetMs === undefined ? '' : `<${shape.targetMs} ms, `}<${rssTargetMb} MB`,
      pass ? 'PASS' : 'FAIL',
    ];
  });
  const header = [
    'shape',
    'ops/info',
    'verdicts',
    'median ms',
    'max ms',
    'peak RSS MB',
    'unmemo median ms',
    'unmemo/memo',
    'target',
    '',
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
  if (rows.some((row) => row.at(-1) === 'FAIL')) process.exitCode = 1;
  if (options.json !== undefined)
    writeFileSync(options.json, `${JSON.stringify({ seed, runs, results }, null, 2)}\n`);
}
