import { writeFile } from 'node:fs/promises';
import { messageOf } from '../core/errors.js';
import { subscribe } from '../core/events.js';
import { describeCheck, loadScenario, type RunResult, runScenario, scenarioSeed } from '../scenario/index.js';
import { parseCommandLine, usageError, usageSeed } from './usage.js';
import { printSchedule } from './validate-command.js';

const usage = `Usage: faultline run [--seed N] [--dry-run] [--journal FILE] <scenario…>

Runs scenario files (.toml, .yaml/.yml, .json; docs/scenarios.md) one after another, each isolated:
setup → steady state before → method (faults on schedule, workload, probes) → heal → steady state after
→ checks → rollbacks → cleanup. Heals and cleanup always run — after a failed check, an error, the time
limit, or Ctrl-C (a second Ctrl-C stops at once; \`faultline cleanup\` then undoes what is left).

Exit codes: 0 pass, 1 a check failed, 2 an error or an undecided check, 3 bad input, 130 interrupted.

Options:
  --seed N        seed of every draw (default: the file's experiment.seed, else FAULTLINE_SEED, else fresh)
  --dry-run       validate and print the resolved schedule; inject nothing, start nothing
  --journal FILE  write the run's events as JSON lines to FILE (with several scenarios: FILE.1, FILE.2 …)
  -h, --help      show this help
`;

const exitCodes: Record<RunResult['verdict'], number> = {
  pass: 0,
  fail: 1,
  unknown: 2,
  error: 2,
  interrupted: 130,
};

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        journal: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length === 0) throw usageError('expected at least one scenario file', usage);
  const seedOption = usageSeed(values.seed, usage);
  // Every file is validated before anything runs: a typo in the third file stops the first from running.
  const scenarios = [];
  for (const file of positionals) {
    try {
      scenarios.push({ file, scenario: await loadScenario(file) });
    } catch (error) {
      process.stderr.write(`faultline: ${messageOf(error)}\n`);
      return 3;
    }
  }
  if (values['dry-run']) {
    for (const { file, scenario } of scenarios) {
      process.stdout.write(`${file}: "${scenario.experiment.name}"\n`);
      printSchedule(scenario, seedOption);
    }
    return 0;
  }
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        'faultline: interrupted; healing and cleaning up (Ctrl-C again to stop at once)\n',
      );
      interrupt.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let worst = 0;
  try {
    for (const [index, { file, scenario }] of scenarios.entries()) {
      const seed = scenarioSeed(scenario, seedOption);
      process.stdout.write(`faultline run ${file}: seed ${seed}\n`);
      const started = Date.now();
      const stamp = (): string => `+${((Date.now() - started) / 1000).toFixed(3)}s`;
      const events: string[] = [];
      const stopJournal =
        values.journal === undefined ? () => {} : subscribe((event) => events.push(journalLine(event)));
      let result: RunResult;
      try {
        result = await runScenario(scenario, {
          file,
          seed,
          signal: interrupt.signal,
          log: (line) => process.stdout.write(`${stamp()} ${line}\n`),
        });
      } finally {
        stopJournal();
      }
      if (values.journal !== undefined) {
        const path = scenarios.length === 1 ? values.journal : `${values.journal}.${index + 1}`;
        await writeFile(path, events.length === 0 ? '' : `${events.join('\n')}\n`);
      }
      printVerdict(file, result);
      worst = Math.max(worst, exitCodes[result.verdict]);
      if (result.verdict === 'interrupted') break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return worst;
}

/** One event as a JSON line; live objects in fault params (a proxy, a target) appear by name. */
function journalLine(event: unknown): string {
  return JSON.stringify(event, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `this[key]` is the value before its own toJSON ran: a TcpProxy has one, and is still named here.
    const original = key === '' ? value : this[key];
    if (typeof original === 'bigint') return original.toString();
    if (original instanceof Error) return original.message;
    if (typeof original === 'object' && original !== null && !Array.isArray(original)) {
      const prototype = Object.getPrototypeOf(original) as object | null;
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (original as { name?: unknown }).name;
        return typeof name === 'string' ? name : String(original);
      }
    }
    return value;
  });
}

function printVerdict(file: string, result: RunResult): void {
  const lines = [
    `${file}: ${result.verdict.toUpperCase()} — ${result.reason} (${(result.elapsedMs / 1000).toFixed(1)} s, ${result.ops} ops)`,
  ];
  for (const check of result.checks) lines.push(`  ${describeCheck(check)}`);
  for (const record of result.injections) {
    if (record.error !== undefined)
      lines.push(`  ${record.step.kind} at +${record.step.atMs} ms: ${record.error}`);
  }
  for (const rollback of result.rollbacks) {
    if (!rollback.ok) lines.push(`  rollback ${rollback.argv.join(' ')}: ${rollback.error}`);
  }
  if (result.verdict !== 'pass') lines.push(`  replay: faultline run --seed ${result.seed} ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
