/**
 * Scenario runner benchmark: `npm run bench:scenario` (or `node dist/bench/scenario/main.js [options]`).
 *
 * The targets of issue 11, each with a baseline measured in the same run (docs/performance.md):
 * - schedule: scheduled instant → fault in force (a toxic on live connections, a signal delivered), against
 *   a bare timer on the same clock (and a bare `process.kill`); median ≤ 2 ms, p99 ≤ 10 ms;
 * - record: the History Recorder's cost per op over 100,000 ops, against the same loop unrecorded; ≤ 5 µs;
 * - journal: the run journal of 100,000 ops written in ≤ 3 s (bench/scenario/journal.ts);
 * - runner: `faultline run` of a 100,000-op workload, peak RSS ≤ 300 MB, against a bare `node -e`;
 * - demo: `faultline demo` and `faultline demo --fixed`, ≤ 60 s wall each;
 * - validate: `faultline validate` of a 200-line scenario ≤ 300 ms including process start, against
 *   `node -e 0`.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { cleanUpOnExit, positiveInt } from '../../test/support/children.js';
import { median, quantile, round, table } from '../proxy/stats.js';
import { benchDemo, benchRunner, benchValidate, stopCommands, type Timed } from './commands.js';
import { benchJournal } from './journal.js';
import { benchRecording } from './record.js';
import { benchSchedule, stopSchedule } from './schedule.js';

const phases = ['schedule', 'record', 'journal', 'runner', 'demo', 'validate'] as const;
type Phase = (typeof phases)[number];

const usage = `usage: node dist/bench/scenario/main.js [options]
  --phases <list>       comma-separated subset of ${phases.join(',')} (default all)
  --ticks <n>           injections of each fault kind in the schedule phase (default 200)
  --connections <n>     live connections through the proxy in the schedule phase (default 100)
  --ops <n>             ops of the record and runner phases (default 100000)
  --rounds <n>          rounds of the record phase (default 5)
  --validate-runs <n>   runs of faultline validate and of node -e 0 (default 15)
  --seed <n>            seed of the demo runs (default 1)`;

const { values: options } = parseArgs({
  options: {
    phases: { type: 'string', default: phases.join(',') },
    ticks: { type: 'string', default: '200' },
    connections: { type: 'string', default: '100' },
    ops: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    'validate-runs': { type: 'string', default: '15' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}
const selected = new Set(options.phases.split(',').map((phase) => phase.trim()));
for (const phase of selected) {
  if (!(phases as readonly string[]).includes(phase)) {
    console.error(`--phases: unknown phase "${phase}"\n${usage}`);
    process.exit(2);
  }
}
const ticks = positiveInt('ticks', options.ticks, 5000, usage);
const connections = positiveInt('connections', options.connections, 2000, usage);
const ops = positiveInt('ops', options.ops, 1_000_000, usage);
const rounds = positiveInt('rounds', options.rounds, 100, usage);
const validateRuns = positiveInt('validate-runs', options['validate-runs'], 1000, usage);
const seed = positiveInt('seed', options.seed, 2 ** 31, usage);

const progress = (line: string): void => void process.stderr.write(`bench:scenario: ${line}\n`);
const met = (ok: boolean): string => (ok ? 'met' : 'NOT MET');
const ms = (value: number, digits = 2): string => `${value.toFixed(digits)} ms`;
const print = (text: string): void => console.log(`${text}\n`);
// The whole run is bounded. On SIGINT, SIGTERM or the deadline what runs is taken down (a CLI run heals and
// cleans up on SIGINT); on any exit, children still running are killed.
const deadline = cleanUpOnExit(
  async () => {
    await stopSchedule();
    await stopCommands();
  },
  progress,
  20 * 60_000,
);
const has = (phase: Phase): boolean => selected.has(phase);

console.log(
  `bench:scenario — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);

if (has('schedule')) {
  progress(
    `schedule accuracy: ${ticks} ticks of each fault, ${connections} live connections (~${(ticks * 0.1).toFixed(0)} s)`,
  );
  const f = await benchSchedule({ ticks, connections, log: progress });
  const row = (name: string, values: number[], judged: boolean): string[] => {
    const p50 = median(values);
    const p99 = quantile(values, 0.99);
    return [
      name,
      String(values.length),
      ms(p50, 3),
      ms(p99, 3),
      ms(Math.max(...values), 3),
      judged ? '≤ 2 / ≤ 10 ms' : '',
      judged ? met(p50 <= 2 && p99 <= 10) : '',
    ];
  };
  const diff = (name: string, a: number[], b: number[]): string[] => [
    name,
    '',
    ms(median(a) - median(b), 3),
    ms(quantile(a, 0.99) - quantile(b, 0.99), 3),
    '',
    '',
    '',
  ];
  print(
    [
      `Schedule accuracy: scheduled instant → in force, ${ticks} ticks each, ${connections + 1} live connections`,
      table([
        ['figure', 'n', 'median', 'p99', 'max', 'target', 'met'],
        row('tcp.latency in force (inject resolved)', f.toxic, true),
        row('process.kill SIGUSR1 delivered (target noted)', f.signal, true),
        row('  tcp.latency, as the run records it', f.toxicRecorded, false),
        row('  process.kill, as the run records it', f.signalRecorded, false),
        row('baseline: bare timer (same clock)', f.timer, false),
        row('baseline: bare timer + process.kill, delivered', f.bareSignal, false),
        diff('toxic − bare timer', f.toxic, f.timer),
        diff('signal − bare timer + kill', f.signal, f.bareSignal),
      ]),
      `check bytes delayed by the toxic (≥ its 20 ms less 1 ms of timer slack): ${f.delayed} of ${f.checked}` +
        (f.healedEarly === 0 ? '' : ` (${f.healedEarly} more met their heal first: late ticks)`) +
        (f.errors.length === 0 ? '' : `\nerrors (${f.errors.length}): ${f.errors.slice(0, 3).join('; ')}`),
    ].join('\n'),
  );
}

if (has('record')) {
  progress(`recording overhead: ${ops} ops × ${rounds} rounds`);
  const f = await benchRecording(ops, rounds);
  const overhead = f.recordedUs - f.bareUs;
  print(
    [
      `Recording overhead: ${f.ops} sequential ops, median of ${f.rounds} rounds`,
      table([
        ['figure', 'µs/op', 'target', 'met', 'ratio to bare'],
        ['bare loop (baseline)', f.bareUs.toFixed(3), '', '', '1.00×'],
        [
          'bare, with an AbortSignal and a timeout per call (2nd baseline)',
          f.timedUs.toFixed(3),
          '',
          '',
          `${(f.timedUs / f.bareUs).toFixed(2)}×`,
        ],
        [
          'recorded, as workloads call it (timeout, op events heard)',
          f.recordedUs.toFixed(3),
          '',
          '',
          `${(f.recordedUs / f.bareUs).toFixed(2)}×`,
        ],
        [
          'recorded, Recorder alone',
          f.recorderOnlyUs.toFixed(3),
          '',
          '',
          `${(f.recorderOnlyUs / f.bareUs).toFixed(2)}×`,
        ],
        ['overhead per op (as workloads call it − bare)', overhead.toFixed(3), '≤ 5', met(overhead <= 5), ''],
        [
          '  of which beyond a timed call (− 2nd baseline)',
          (f.recordedUs - f.timedUs).toFixed(3),
          '',
          '',
          '',
        ],
      ]),
    ].join('\n'),
  );
}

if (has('journal')) {
  // The journal of a 100,000-op run written in ≤ 3 s: bench/scenario/journal.ts (it prints its own table).
  progress('journal: the JournalWriter on the events of a 100,000-op run');
  await benchJournal();
  console.log();
}

if (has('runner')) {
  progress(`runner: faultline run, kv workload of ${ops} ops (about 1 min)`);
  const f = await benchRunner(ops, 10 * 60_000);
  const mb = (t: Timed): string => (t.peakKb === undefined ? '?' : `${(t.peakKb / 1024).toFixed(0)} MB`);
  const peakMb = (f.run.peakKb ?? Number.POSITIVE_INFINITY) / 1024;
  print(
    [
      `Runner: faultline run, kv workload of ${f.ops} ops (8 clients, demo store behind a proxy, linearizability checked, journal written)`,
      table([
        ['figure', 'value', 'target', 'met', 'baseline (node -e)', 'ratio'],
        [
          'peak RSS (VmHWM)',
          mb(f.run),
          '≤ 300 MB',
          met(peakMb <= 300),
          mb(f.bare),
          f.bare.peakKb === undefined || f.run.peakKb === undefined
            ? ''
            : `${(f.run.peakKb / f.bare.peakKb).toFixed(1)}×`,
        ],
        ...(['method', 'checks'] as const).map((phase) => {
          const kb = f.run.peakKbAtPhaseStart?.[phase];
          return [
            `  peak so far when the ${phase} phase started`,
            kb === undefined ? '?' : `${(kb / 1024).toFixed(0)} MB`,
            '',
            '',
            '',
            '',
          ];
        }),
        [
          'wall time',
          `${(f.run.ms / 1000).toFixed(1)} s`,
          '',
          '',
          '',
          `${round(f.ops / (f.run.ms / 1000), 0)} ops/s`,
        ],
        ['exit code', String(f.run.code), '0', met(f.run.code === 0), '', ''],
      ]),
      f.run.code === 0 ? '' : `output: …${f.run.tail.slice(-1500)}`,
    ]
      .join('\n')
      .trimEnd(),
  );
}

if (has('demo')) {
  progress('demo: faultline demo, then faultline demo --fixed');
  const f = await benchDemo(seed);
  const line = (name: string, t: Timed, expected: number): string[] => [
    name,
    `${(t.ms / 1000).toFixed(1)} s`,
    '≤ 60 s',
    met(t.ms <= 60_000 && t.code === expected),
    `${t.code} (expected ${expected})`,
  ];
  print(
    [
      `Demo: wall time of the CLI, seed ${seed}`,
      table([
        ['figure', 'wall', 'target', 'met', 'exit code'],
        line('faultline demo', f.buggy, 1),
        line('faultline demo --fixed', f.fixed, 0),
      ]),
    ].join('\n'),
  );
}

if (has('validate')) {
  progress(`validate: ${validateRuns} runs of faultline validate and of node -e 0`);
  const f = await benchValidate(validateRuns);
  print(
    [
      `Validate: faultline validate of a ${f.lines}-line scenario, including process start; median of ${f.runs} runs`,
      table([
        ['figure', 'median', 'max', 'target', 'met', 'ratio'],
        [
          'faultline validate',
          ms(f.validateMs, 0),
          ms(f.validateMaxMs, 0),
          '≤ 300 ms',
          met(f.validateMs <= 300 && f.failures.length === 0),
          `${(f.validateMs / f.nodeMs).toFixed(2)}×`,
        ],
        ['baseline: node -e 0', ms(f.nodeMs, 0), ms(f.nodeMaxMs, 0), '', '', '1.00×'],
        ['difference (what faultline adds)', ms(f.validateMs - f.nodeMs, 0), '', '', '', ''],
        [
          'CPU time (user + system): validate / node -e 0',
          `${ms(f.validateCpuMs, 0)} / ${ms(f.nodeCpuMs, 0)}`,
          '',
          '',
          '',
          `${(f.validateCpuMs / f.nodeCpuMs).toFixed(2)}×`,
        ],
      ]),
      f.failures.length === 0 ? '' : `failures: ${f.failures[0]}`,
    ]
      .join('\n')
      .trimEnd(),
  );
}

clearTimeout(deadline);
console.log(
  `load at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
