import { readJournal, reportJson, writeReports } from '../report/index.js';
import { parseCommandLine, usageError } from './usage.js';

const usage = `Usage: faultline report <journal> [--html FILE] [--junit FILE] [--json FILE]

Builds reports from a run's journal (docs/journal.md; \`faultline run\` writes one per run):
  --html FILE   a self-contained HTML page (no script, nothing fetched): the timeline with the fault
                windows over throughput, latency p50/p99 and each probe's status; every check with its
                explanation; the history around a linearizability failure; recovery times; seed and replay
  --junit FILE  JUnit XML for CI: a testsuite for the run, a testcase per check (failures with their
                anomalies), the seed and replay command as properties
  --json FILE   a summary as JSON: verdict, checks, faults, recovery times, seed (docs/evidence.md)
With none of them, prints the JSON summary. A journal without its verdict line (the run was killed) is
still reported, marked unfinished. A cut-short or corrupt line is an error naming the file and line.

Exit code: 0 the reports were written, 1 the journal cannot be read, 2 a bad command line.

Options:
  -h, --help    show this help
`;

/** \`faultline report\`: reads a journal, writes the reports asked for. */
export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        html: { type: 'string' },
        junit: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) throw usageError('expected one journal file', usage);
  const journal = positionals[0] as string;
  const files = {
    ...(values.html === undefined ? {} : { html: values.html }),
    ...(values.junit === undefined ? {} : { junit: values.junit }),
    ...(values.json === undefined ? {} : { json: values.json }),
  };
  if (Object.keys(files).length === 0) {
    process.stdout.write(`${JSON.stringify(reportJson(await readJournal(journal)), null, 2)}\n`);
    return 0;
  }
  const summary = await writeReports(journal, files);
  const verdict = summary.verdict?.verdict ?? 'unfinished (no verdict line)';
  const written = Object.entries(files).map(([kind, path]) => `${kind} ${path}`);
  process.stdout.write(`${journal}: ${verdict}; wrote ${written.join(', ')}\n`);
  return 0;
}
