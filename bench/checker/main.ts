/**
 * Linearizability checker benchmark: `npm run bench:checker` (or `node dist/bench/checker/main.js`).
 *
 * Histories are generated from a seeded `Random` by running a real sequential object under random
 * concurrency (test/support/checker-simulate.ts), shaped like real Jepsen-style runs: shapes (a)–(d).
 * The chaos shapes (test/support/chaos-histories.ts) are made the way faults make them: clients that
 * time out during fault windows, 20–30 writes of unknown outcome pending at once, valid or with one read
 * falsified after 0, 10 or 25 pending timeouts. Each shape runs in a fresh child process so its peak
 * RSS is its own. Reported: median check time over several histories, the worst run, peak RSS, what
 * decided it (from the result's `stats`), and for (a)–(d) the unmemoised search's time against the
 * memoised one where both finish. See docs/performance.md.
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
import {
  type ChaosModel,
  chaosHistory,
  falsifyRead,
  pendingTimeouts,
} from '../../test/support/chaos-histories.js';
import { casRegisterSpec, listAppendSpec, simulate } from '../../test/support/checker-simulate.js';

const usage = `usage: node dist/bench/checker/main.js [options]
  --runs <n>        histories per shape (default 9, --quick 3; the median is reported)
  --seed <n>        generator seed (default 1)
  --shapes <list>   comma-separated shape ids or groups (default all):
                      a,b,c,d                       the Jepsen-style shapes (group: classic)
                      reg,reg0,reg10,reg25          chaos register: valid, falsified after 0/10/25 timeouts
                      ctr,ctr0,ctr10,ctr25          the same for a counter
                      kv,kv0,kv10,kv25              the same for 50 keys (kv model)
                    groups: classic, chaos, register (reg*), counter (ctr*), kv (kv*), all
  --quick           fewer runs (3) and a 10 s cap per chaos check: the whole bench in a few minutes
  --timeout-ms <n>  time budget of each chaos check (default 20000, --quick 10000; otherwise the
                    checker's default budget: a check past 5 s FAILs its target anyway)
  --unmemo-ms <n>   time budget for each unmemoised run of (a)-(d) (default 2000, --quick 500)
  --json <path>     also write the results as JSON
  --child <shape>   (internal) run one shape and print its JSON`;

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    shapes: { type: 'string', default: 'all' },
    quick: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string' },
    'unmemo-ms': { type: 'string' },
    json: { type: 'string' },
    child: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}

/** What a shape must meet to PASS; a wrong verdict (valid for an invalid history or back) always FAILs. */
interface Targets {
  /** Median check time at most this (ms). */
  readonly medianMs?: number;
  /** Worst check time at most this (ms). */
  readonly maxMs?: number;
  readonly rssMb: number;
  /** Every history decided: an `unknown` FAILs. */
  readonly decided: boolean;
}

interface Generated {
  readonly ops: Op[];
  /** `info` ops (plus calls left open), or for chaos shapes the most writes pending in one window. */
  readonly info: number;
}

interface Shape {
  readonly id: string;
  readonly title: string;
  readonly model: Model<unknown>;
  /** Options of each memoised check, besides the time budget. */
  readonly options: { readonly partition?: boolean; readonly maxMemoryBytes?: number };
  /** Time budget of one check; undefined: `--timeout-ms` (the chaos shapes). */
  readonly timeoutMs: number | undefined;
  readonly targets: Targets;
  readonly expectValid: boolean;
  /** Also time the unmemoised search (only where it can finish). */
  readonly unmemo: boolean;
  /** The history of run `run` (chaos shapes vary the size across runs). */
  generate(random: Random, run: number): Generated;
  /** A history to warm up the JIT with before the measured runs. */
  warmUp(random: Random): Op[];
}

/** What decided a check, from its stats: the distinct-values algorithm, the search, or both (per partition). */
function methodOf(stats: Readonly<Record<string, number>> | undefined): string {
  const fast = stats?.partitionsReadMapped ?? 0;
  const searched = stats?.partitionsSearched ?? 0;
  if (fast > 0 && searched > 0) return 'read-mapped+search';
  return fast > 0 ? 'read-mapped' : searched > 0 ? 'search' : '-';
}

/** The search strategies that decided partitions (`stats.decidedBy…`), e.g. `definite-first` or `time-order×2`. */
function strategyOf(stats: Readonly<Record<string, number>> | undefined): string {
  const names = Object.entries(stats ?? {})
    .filter(([key]) => key.startsWith('decidedBy'))
    .map(([key, count]) => {
      const name = key
        .slice('decidedBy'.length)
        .replace(/[A-Z]/g, (c, at: number) => (at === 0 ? '' : '-') + c.toLowerCase());
      return count === 1 ? name : `${name}×${count}`;
    });
  return names.length === 0 ? '-' : names.join(' ');
}

const classicRssMb = 500;

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

/** `info` ops plus calls left open: the ops of unknown outcome. */
function infoCount(ops: readonly Op[]): number {
  const open = new Set<Op['process']>();
  let info = 0;
  for (const op of ops) {
    if (op.type === 'invoke') open.add(op.process);
    else open.delete(op.process);
    if (op.type === 'info') info++;
  }
  return info + open.size;
}

function classicShape(
  id: string,
  title: string,
  fields: Pick<Shape, 'model' | 'options' | 'timeoutMs' | 'expectValid'> & {
    readonly targetMs?: number;
    make(random: Random): Op[];
  },
): Shape {
  const targets: Targets = {
    ...(fields.targetMs === undefined ? {} : { medianMs: fields.targetMs }),
    rssMb: classicRssMb,
    decided: false,
  };
  return {
    id,
    title,
    model: fields.model,
    options: fields.options,
    timeoutMs: fields.timeoutMs,
    targets,
    expectValid: fields.expectValid,
    unmemo: true,
    generate: (random) => {
      const ops = fields.make(random);
      return { ops, info: infoCount(ops) };
    },
    // The first measured history, as before the chaos shapes.
    warmUp: (random) => fields.make(random.fork('run-0')),
  };
}

/** Issue 13's targets for the chaos shapes, at the default budget. */
const chaosTargets: Targets = { medianMs: 1000, maxMs: 5000, rssMb: 1024, decided: true };
/** Chaos history sizes, in turn across the runs. */
const chaosSizes = [10_000, 17_500, 25_000] as const;

function chaosShape(model: ChaosModel, prefix: string, afterTimeouts: number | undefined): Shape {
  const what = { register: 'register, 1 key', counter: 'counter', kv: 'kv, 50 keys' }[model];
  return {
    id: `${prefix}${afterTimeouts ?? ''}`,
    title: `chaos ${what}, ${afterTimeouts === undefined ? 'valid' : `1 read falsified after ${afterTimeouts} timeouts`}`,
    model: models[model] as Model<unknown>,
    options: {},
    timeoutMs: undefined,
    targets: chaosTargets,
    expectValid: afterTimeouts === undefined,
    unmemo: false,
    generate(random, run) {
      const ops = chaosSizes[run % chaosSizes.length] as number;
      // A history may lack a read to falsify where asked: draw another (rare; bounded).
      for (let attempt = 0; attempt < 10; attempt++) {
        const history = chaosHistory(random.fork(`attempt-${attempt}`), { model, ops });
        const info = pendingTimeouts(history);
        if (afterTimeouts === undefined) return { ops: history.ops, info };
        try {
          return { ops: falsifyRead(history, model, afterTimeouts), info };
        } catch {}
      }
      throw new Error(`shape ${prefix}${afterTimeouts}: no read to falsify in 10 histories`);
    },
    warmUp: (random) => chaosHistory(random, { model, ops: 2000 }).ops,
  };
}

const classicShapes: readonly Shape[] = [
  classicShape('a', 'cas-register, 80 ops, 5 clients, 10-25 info', {
    model: models['cas-register'],
    options: { partition: true },
    timeoutMs: 60_000,
    targetMs: 100,
    expectValid: true,
    make: casHistory,
  }),
  classicShape('b', 'list-append, ~2000 ops, 50 clients, 10 keys', {
    model: models['list-append'],
    options: { partition: true },
    timeoutMs: 60_000,
    targetMs: 150,
    expectValid: true,
    make: (random) =>
      simulate(listAppendSpec(10), random, { processes: 50, ops: 2000, infoProbability: 0.02 }),
  }),
  classicShape('c', '(b) without partitioning', {
    model: models['list-append'],
    // Undecided within 20 s: at the driver's default budget (a quarter of the available memory) it would
    // fill gigabytes before the time runs out, so it keeps the 192 MiB budget its RSS target was set with.
    options: { partition: false, maxMemoryBytes: 192 * 1024 * 1024 },
    timeoutMs: 20_000,
    expectValid: true,
    make: (random) =>
      simulate(listAppendSpec(10), random, { processes: 50, ops: 2000, infoProbability: 0.02 }),
  }),
  classicShape('d', '(a) with one read corrupted (invalid)', {
    model: models['cas-register'],
    options: { partition: true },
    timeoutMs: 60_000,
    expectValid: false,
    make: (random) => corruptOneRead(casHistory(random), random.fork('corrupt')),
  }),
];

const chaosShapes: readonly Shape[] = (
  [
    ['register', 'reg'],
    ['counter', 'ctr'],
    ['kv', 'kv'],
  ] as const
).flatMap(([model, prefix]) => [undefined, 0, 10, 25].map((k) => chaosShape(model, prefix, k)));

const shapes: readonly Shape[] = [...classicShapes, ...chaosShapes];

const groups: Readonly<Record<string, readonly Shape[]>> = {
  all: shapes,
  classic: classicShapes,
  chaos: chaosShapes,
  register: chaosShapes.filter((shape) => shape.id.startsWith('reg')),
  counter: chaosShapes.filter((shape) => shape.id.startsWith('ctr')),
  kv: chaosShapes.filter((shape) => shape.id.startsWith('kv')),
};

interface ShapeResult {
  readonly id: string;
  readonly title: string;
  readonly ops: number;
  readonly infoOps: number;
  readonly verdicts: Record<string, number>;
  readonly wrongVerdicts: number;
  /** Distinct reasons given for `unknown`, with counts. */
  readonly unknownReasons: Record<string, number>;
  /** What decided each check, from `stats` (see `decidedByFields`), with counts. */
  readonly methods: Record<string, number>;
  readonly strategies: Record<string, number>;
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

function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function runShape(
  shape: Shape,
  runs: number,
  seed: number,
  timeoutMs: number,
  unmemoMs: number,
): Promise<ShapeResult> {
  const random = new Random(seed, `bench/checker/${shape.id}`);
  const check = (ops: Op[], memoise: boolean) =>
    checkLinearizability(ops, shape.model, {
      ...shape.options,
      ...(memoise ? {} : { memoise: false }),
      timeoutMs: memoise ? (shape.timeoutMs ?? timeoutMs) : unmemoMs,
    });
  await check(shape.warmUp(random), true); // warm up the JIT
  const times: number[] = [];
  const unmemoTimes: number[] = [];
  const ratios: number[] = [];
  const sizes: number[] = [];
  const infos: number[] = [];
  const verdicts: Record<string, number> = {};
  const unknownReasons: Record<string, number> = {};
  const methods: Record<string, number> = {};
  const strategies: Record<string, number> = {};
  let wrong = 0;
  let configurations = 0;
  for (let run = 0; run < runs; run++) {
    // Each history is made just before its check, so the child holds one at a time.
    const { ops, info } = shape.generate(random.fork(`run-${run}`), run);
    const invokes = ops.filter((op) => op.type === 'invoke').length;
    sizes.push(invokes);
    infos.push(info);
    const started = performance.now();
    const result = await check(ops, true);
    const elapsed = performance.now() - started;
    times.push(elapsed);
    tally(verdicts, String(result.valid));
    // Without its figures ("(131072 configurations cached)", "after 10001 ms"), so like reasons count together.
    if (result.valid === 'unknown') {
      const reason = result.reason ?? 'no reason given';
      tally(unknownReasons, reason.replace(/\s*\([^)]*\)$/, '').replace(/\d+ ms/g, 'N ms'));
    }
    if (result.valid !== 'unknown' && result.valid !== shape.expectValid) wrong++;
    const method = methodOf(result.stats);
    const strategy = strategyOf(result.stats);
    tally(methods, method);
    tally(strategies, strategy);
    configurations += result.stats?.configurations ?? 0;
    let unmemoNote = '';
    if (shape.unmemo) {
      const unmemoStarted = performance.now();
      const unmemo = await check(ops, false);
      const unmemoElapsed = performance.now() - unmemoStarted;
      if (unmemo.valid !== 'unknown' && result.valid !== 'unknown') {
        unmemoTimes.push(unmemoElapsed);
        ratios.push(unmemoElapsed / elapsed);
      }
      unmemoNote = `, unmemoised ${unmemo.valid} in ${unmemoElapsed.toFixed(0)} ms`;
    }
    progress(
      `  (${shape.id}) run ${run + 1}/${runs}: ${invokes} ops, ${info} info, ${result.valid} in ${elapsed.toFixed(0)} ms` +
        ` (method ${method}, strategy ${strategy})${unmemoNote}`,
    );
  }
  return {
    id: shape.id,
    title: shape.title,
    ops: median(sizes),
    infoOps: median(infos),
    verdicts,
    wrongVerdicts: wrong,
    unknownReasons,
    methods,
    strategies,
    medianMs: median(times),
    maxMs: Math.max(...times),
    configurations: Math.round(configurations / runs),
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

const quick = options.quick === true;
const runs = Math.max(1, positiveInt('runs', options.runs ?? (quick ? '3' : '9')));
const seed = positiveInt('seed', options.seed);
const timeoutMs = positiveInt('timeout-ms', options['timeout-ms'] ?? (quick ? '10000' : '20000'));
const unmemoMs = positiveInt('unmemo-ms', options['unmemo-ms'] ?? (quick ? '500' : '2000'));

/** The shapes `--shapes` names, in the bench's order; exits 2 on an unknown id. */
function selectShapes(list: string): Shape[] {
  const wanted = new Set<Shape>();
  for (const name of list.split(',').map((id) => id.trim())) {
    if (name === '') continue;
    const found = groups[name] ?? shapes.filter((shape) => shape.id === name);
    if (found.length === 0) {
      console.error(`--shapes: unknown shape or group "${name}"\n${usage}`);
      process.exit(2);
    }
    for (const shape of found) wanted.add(shape);
  }
  return shapes.filter((shape) => wanted.has(shape));
}

/** `value×count …`; just "-" when nothing says (a field the checker does not report yet). */
const counts = (record: Record<string, number>): string =>
  Object.keys(record).every((key) => key === '-')
    ? '-'
    : Object.entries(record)
        .map(([key, count]) => `${key}×${count}`)
        .join(' ');

function targetText(targets: Targets): string {
  const parts: string[] = [];
  if (targets.medianMs !== undefined) parts.push(`median ≤${targets.medianMs} ms`);
  if (targets.maxMs !== undefined) parts.push(`max ≤${targets.maxMs} ms`);
  parts.push(`≤${targets.rssMb} MB`);
  if (targets.decided) parts.push('decided');
  return parts.join(', ');
}

function passes(result: ShapeResult, targets: Targets): boolean {
  return (
    result.wrongVerdicts === 0 &&
    (targets.medianMs === undefined || result.medianMs <= targets.medianMs) &&
    (targets.maxMs === undefined || result.maxMs <= targets.maxMs) &&
    result.peakRssMb <= targets.rssMb &&
    (!targets.decided || (result.verdicts.unknown ?? 0) === 0)
  );
}

if (options.child !== undefined) {
  const shape = shapes.find((candidate) => candidate.id === options.child);
  if (shape === undefined) {
    console.error(`unknown shape ${options.child}`);
    process.exit(2);
  }
  console.log(JSON.stringify(await runShape(shape, runs, seed, timeoutMs, unmemoMs)));
} else {
  const selected = selectShapes(options.shapes);
  const replay = `--seed ${seed} --runs ${runs} --timeout-ms ${timeoutMs} --unmemo-ms ${unmemoMs}`;
  console.log(`checker benchmark — seed ${seed}, ${runs} histories per shape (replay: ${replay})`);
  console.log(
    `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load ${loadavg()[0]?.toFixed(2)}, node ${process.version}`,
  );
  const results: ShapeResult[] = [];
  for (const [position, shape] of selected.entries()) {
    progress(`shape ${position + 1}/${selected.length}: (${shape.id}) ${shape.title}`);
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
        '--timeout-ms',
        String(timeoutMs),
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
    return [
      `(${result.id}) ${result.title}`,
      shape.expectValid ? 'valid' : 'invalid',
      `${result.ops}/${result.infoOps}`,
      counts(result.verdicts),
      result.medianMs.toFixed(1),
      result.maxMs.toFixed(1),
      result.peakRssMb.toFixed(0),
      counts(result.methods),
      counts(result.strategies),
      !shape.unmemo
        ? '-'
        : result.unmemoMedianMs === null
          ? `none <${unmemoMs}ms`
          : `${result.unmemoMedianMs.toFixed(1)} (${result.unmemoFinished}/${runs})`,
      result.unmemoRatio === null ? '-' : `${result.unmemoRatio.toFixed(2)}×`,
      targetText(shape.targets),
      passes(result, shape.targets) ? 'PASS' : 'FAIL',
    ];
  });
  const header = [
    'shape',
    'expect',
    'ops/info',
    'verdicts',
    'median ms',
    'max ms',
    'peak RSS MB',
    'method',
    'strategy',
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
  const unknowns = results.filter((result) => Object.keys(result.unknownReasons).length > 0);
  if (unknowns.length > 0) console.log('\nwhy unknown:');
  for (const result of unknowns) {
    for (const [reason, count] of Object.entries(result.unknownReasons))
      console.log(`  (${result.id}) ×${count}: ${reason}`);
  }
  if (rows.some((row) => row.at(-1) === 'FAIL')) process.exitCode = 1;
  if (options.json !== undefined)
    writeFileSync(options.json, `${JSON.stringify({ seed, runs, timeoutMs, unmemoMs, results }, null, 2)}\n`);
}
