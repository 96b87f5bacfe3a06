import { digestJournal, readJournalRecords } from '../report/index.js';
import { parseCommandLine, usageError } from './usage.js';

const usage = `Usage: faultline digest [--explain] [--json] <journal…>

Prints the canonical digest of each run journal (a file \`faultline run\` wrote): SHA-256 over the run's
normalised events — the scenario, seed, faults and their params, heals, probe statuses, check verdicts and
the verdict; no ids, times, op counts, pids, ports or temp paths (docs/evidence.md, "Digest"). Two runs of
the same scenario and seed that came out the same print the same digest.

Options:
  --explain   also print the canonical lines that were hashed
  --json      print { journal, sha256, covered } per journal, one JSON object a line
  -h, --help  show this help

Exit status: 0; 1 when a journal cannot be read (the error names its line); 2 for a bad command line.
`;

export async function digestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        explain: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length === 0) throw usageError('expected a journal file', usage);
  for (const path of positionals) {
    const digest = digestJournal(readJournalRecords(path), { canonical: values.explain });
    if (values.json) {
      const { canonical, ...rest } = digest;
      const explained = canonical === undefined ? {} : { canonical };
      process.stdout.write(`${JSON.stringify({ journal: path, ...rest, ...explained })}\n`);
      continue;
    }
    process.stdout.write(`${digest.sha256}  ${path}\n`);
    for (const line of digest.canonical ?? []) process.stdout.write(`  ${line}\n`);
  }
  return 0;
}
