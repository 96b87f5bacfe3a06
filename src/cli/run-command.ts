import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { CheckResult } from '../checker/index.js';
import { realClock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import {
  type CheckSummary,
  digestJournal,
  JournalWriter,
  readJournalRecords,
  writeReports,
} from '../report/index.js';
import {
  explainCheck,
  loadScenario,
  type RunResult,
  runScenario,
  type Scenario,
  scenarioSeed,
} from '../scenario/index.js';
import { type RunTracer, startRunTracer, traceExportFromEnv } from '../telemetry/index.js';
import { LiveProgress } from './progress.js';
import { parseCommandLine, usageError, usageSeed } from './usage.js';
import { printSchedule } from './validate-command.js';

const usage = `Usage: faultline run [--seed N] [--dry-run] [--journal FILE | --no-journal] [--report-dir DIR] <scenario…>

Runs scenario files (.toml, .yaml/.yml, .json; docs/scenarios.md) one after another, each isolated:
setup → steady state before → method (faults on schedule, workload, probes) → heal → steady state after
→ checks → rollbacks → cleanup. Heals and cleanup always run — after a failed check, an error, the time
limit, or Ctrl-C (a second Ctrl-C stops at once; \`faultline cleanup\` then undoes what is left).
Every run writes a journal: a header, each event of the run, the verdict, as JSON lines
(docs/journal.md; \`faultline schema --journal\` prints its JSON Schema); its path prints at the end.
On a terminal (and CI unset) a status block is redrawn in place; otherwise progress is timestamped lines.
With OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT set, each run is also OpenTelemetry
spans, exported over OTLP/HTTP and joined by process targets through TRACEPARENT (docs/evidence.md).

Exit codes: 0 pass, 1 a check failed, 2 an error, an undecided check or a bad command line,
3 a bad scenario file (nothing ran), 130 interrupted.

Options:
  --seed N        seed of every draw (default: the file's experiment.seed, else FAULTLINE_SEED, else fresh)
  --dry-run       validate and print the resolved schedule; inject nothing, start nothing
  --journal FILE  write the run's journal to FILE (with several scenarios: FILE.1, FILE.2 …) instead of
                  the default faultline-runs/<file name>-<seed>.jsonl under the working directory
  --no-journal    write no journal
  --report-dir DIR  after each run, write its reports from the journal (\`faultline report\`):
                  DIR/<journal name>.html, .junit.xml and .json
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
        'no-journal': { type: 'boolean', default: false },
        'report-dir': { type: 'string' },
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
  if (values['report-dir'] !== undefined && values['no-journal'])
    throw usageError('--report-dir needs the journal: the reports are built from it', usage);
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
  let tracer: RunTracer | undefined;
  try {
    const exporting = traceExportFromEnv();
    // The OpenTelemetry SDK loads only when a variable asks for spans.
    if (exporting.exporters.length > 0) tracer = await startRunTracer({ export: exporting });
  } catch (error) {
    process.stderr.write(`faultline: ${messageOf(error)}\n`);
    return 2;
  }
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        'faultline: interrupted; healing and cleaning up (Ctrl-C again to stop at once)\n',
      );
      interrupt.abort(signal); // the run's reason says by what
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let worst = 0;
  const live = process.stdout.isTTY === true && !process.env.CI;
  const journals = new Set<string>();
  try {
    for (const [index, { file, scenario }] of scenarios.entries()) {
      const seed = scenarioSeed(scenario, seedOption);
      process.stdout.write(`faultline run ${file}: seed ${seed}\n`);
      const replay = `faultline run --seed ${seed} ${file}`;
      const path = values['no-journal']
        ? undefined
        : journalPath(file, seed, index, scenarios.length, values.journal, journals);
      let journal: JournalWriter | undefined;
      try {
        if (path !== undefined) journal = openJournal(path, file, scenario, seed, replay);
      } catch (error) {
        process.stderr.write(
          `faultline: cannot write the journal ${path}: ${messageOf(error)} (--journal FILE writes it elsewhere, --no-journal not at all)\n`,
        );
        worst = Math.max(worst, 2);
        break;
      }
      const stopJournal = journal?.record() ?? (() => {});
      const started = realClock.now();
      const stamp = (): string => `+${((realClock.now() - started) / 1000).toFixed(3)}s`;
      const progress = live ? new LiveProgress(process.stdout, realClock) : undefined;
      let result: RunResult | undefined;
      try {
        result = await runScenario(scenario, {
          seed,
          signal: interrupt.signal,
          ...(tracer === undefined ? {} : { tracer }),
          log: (line) =>
            progress === undefined
              ? process.stdout.write(`${stamp()} ${line}\n`)
              : progress.log(`${stamp()} ${line}`),
        });
      } finally {
        progress?.stop();
        stopJournal();
        journal?.close(
          result === undefined
            ? { verdict: 'error', reason: 'the run failed', elapsedMs: 0, ops: 0, checks: [] }
            : {
                verdict: result.verdict,
                reason: result.reason,
                elapsedMs: result.elapsedMs,
                ops: result.ops,
                checks: result.checks.map(checkSummary),
              },
        );
      }
      printVerdict(file, result, replay, path);
      if (path !== undefined && values['report-dir'] !== undefined) {
        worst = Math.max(worst, await reportRun(path, values['report-dir']));
      }
      worst = Math.max(worst, exitCodes[result.verdict]);
      if (result.verdict === 'interrupted') break;
    }
  } finally {
    await tracer?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return worst;
}

/** Writes a run's reports into `dir`; returns 2 (and says why) when they cannot be written. */
async function reportRun(journal: string, dir: string): Promise<number> {
  const stem = join(dir, basename(journal, extname(journal)));
  const files = { html: `${stem}.html`, junit: `${stem}.junit.xml`, json: `${stem}.json` };
  try {
    await writeReports(journal, files);
    process.stdout.write(`  reports: ${files.html}, ${files.junit}, ${files.json}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`faultline: cannot write the reports of ${journal}: ${messageOf(error)}\n`);
    return 2;
  }
}

/**
 * Where a run's journal goes: `--journal FILE` (FILE.1, FILE.2 … with several scenarios), else
 * `faultline-runs/<file stem>-<seed>.jsonl` under the working directory — `-2`, `-3` … when two files of
 * one command would share a name.
 */
function journalPath(
  file: string,
  seed: number,
  index: number,
  total: number,
  given: string | undefined,
  taken: Set<string>,
): string {
  if (given !== undefined) return total === 1 ? given : `${given}.${index + 1}`;
  const stem = basename(file, extname(file));
  let path = join('faultline-runs', `${stem}-${seed}.jsonl`);
  for (let n = 2; taken.has(path); n++) path = join('faultline-runs', `${stem}-${seed}-${n}.jsonl`);
  taken.add(path);
  return path;
}

/** Opens the journal of one run and writes its header. */
function openJournal(
  path: string,
  file: string,
  scenario: Scenario,
  seed: number,
  replay: string,
): JournalWriter {
  const { name, tags = [] } = scenario.experiment;
  const startedAt = new Date(realClock.wallNow()).toISOString();
  const header = { faultline: packageVersion(), scenario: { file, name, tags }, seed, startedAt, replay };
  return new JournalWriter(path, header, { clock: realClock });
}

function checkSummary(check: CheckResult): CheckSummary {
  return {
    checker: check.checker,
    valid: check.valid,
    ...(check.reason === undefined ? {} : { reason: check.reason }),
    anomalyCount: check.anomalies.length,
  };
}

function packageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function printVerdict(file: string, result: RunResult, replay: string, journal: string | undefined): void {
  const lines = [
    `${file}: ${result.verdict.toUpperCase()} — ${result.reason} (${(result.elapsedMs / 1000).toFixed(1)} s, ${result.ops} ops)`,
  ];
  // A check that held is one line; one that did not is explained (which writes were lost, and when).
  for (const check of result.checks) lines.push(...explainCheck(check).map((line) => `  ${line}`));
  for (const record of result.injections) {
    if (record.error !== undefined)
      lines.push(`  ${record.step.kind} at +${record.step.atMs} ms: ${record.error}`);
    else if (record.notRun !== undefined) lines.push(`  ${record.step.kind}: ${record.notRun}`);
  }
  for (const rollback of result.rollbacks) {
    if (!rollback.ok) lines.push(`  rollback ${rollback.argv.join(' ')}: ${rollback.error}`);
  }
  if (journal !== undefined) lines.push(`  journal: ${journal}`);
  if (journal !== undefined) lines.push(`  digest: ${digestJournal(readJournalRecords(journal)).sha256}`);
  if (result.verdict !== 'pass') lines.push(`  replay: ${replay}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
