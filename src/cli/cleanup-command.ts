import { rmSync } from 'node:fs';
import { messageOf } from '../core/errors.js';
import { type EventOf, publish } from '../core/events.js';
import {
  defaultStateDir,
  type FoundJournal,
  findJournals,
  findJournalTemps,
  type ResidueRecord,
  rewriteJournal,
} from '../core/journal.js';
import { type ResidueKind, residueKind, residueKindNames, type UndoOutcome } from '../core/residue.js';
// Loading os/ registers the undo of every residue kind it creates; other folders register theirs the same way.
import { describeStart, isSameProcess } from '../os/index.js';
import { parseCommandLine } from './usage.js';

export const cleanupUsage = `Usage: faultline cleanup [options]

Undoes what crashed faultline runs left behind: kills their target and stressor process groups, continues
stopped processes, restores lowered limits, removes their cgroups and files. Only runs that are no longer
alive are touched, and a process is only signalled while its pid still has the start time faultline recorded.

Options:
  --state-dir <dir>  where run journals live (default $FAULTLINE_STATE_DIR, else /tmp/faultline-state-<uid>)
  --dry-run          print what would be done; change nothing
  -h, --help         show this help

Exit status: 0 when nothing is left to undo (runs still alive are left alone), 1 if anything could not be.
`;

export interface CleanupOptions {
  /** Default `$FAULTLINE_STATE_DIR`, else `<tmpdir>/faultline-state-<uid>`. */
  readonly stateDir?: string;
  /** Say what would be done; change nothing. */
  readonly dryRun?: boolean;
  /** Told every output line (default: stdout). */
  readonly print?: (line: string) => void;
}

export interface CleanupResult {
  /** Journals of dead runs that still hold something that could not be undone. */
  readonly failedRuns: number;
}

const printLine = (line: string): void => void process.stdout.write(`${line}\n`);

export async function cleanupCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    {
      args: argv,
      options: {
        'state-dir': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    },
    cleanupUsage,
  );
  if (values.help) {
    process.stdout.write(cleanupUsage);
    return 0;
  }
  const stateDir = values['state-dir'];
  const result = await cleanup({
    ...(stateDir === undefined ? {} : { stateDir }),
    dryRun: values['dry-run'],
  });
  if (result.failedRuns > 0) {
    process.stderr.write(`faultline: ${result.failedRuns} run(s) could not be fully cleaned up; see above\n`);
    return 1;
  }
  return 0;
}

/** Undoes the residues of every dead run journalled in `stateDir`, newest first, through the residue registry. */
export async function cleanup(options: CleanupOptions = {}): Promise<CleanupResult> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const dryRun = options.dryRun ?? false;
  const print = options.print ?? printLine;
  const journals = findJournals(stateDir);
  if (journals.length === 0) {
    print(`nothing to clean up in ${stateDir}`);
    return { failedRuns: 0 };
  }
  let failedRuns = 0;
  for (const journal of journals) {
    if (!(await cleanJournal(journal, dryRun, print))) failedRuns++;
  }
  if (!dryRun) removeDeadTemps(stateDir);
  return { failedRuns };
}

/** Undoes one journal's residues, newest first. True when nothing of the run is left to undo. */
async function cleanJournal(
  journal: FoundJournal,
  dryRun: boolean,
  print: (line: string) => void,
): Promise<boolean> {
  const run = `run ${journal.pid} (${describeStart(journal.startTime)})`;
  if (isSameProcess(journal.pid, journal.startTime)) {
    print(`${run} is still running; left alone (${journal.path})`);
    for (const record of journal.content?.records ?? [])
      announce(checked(record).description, 'skipped', `${run} is still running`);
    return true;
  }
  if (journal.content === undefined) {
    const why = `cannot read journal ${journal.path}: ${journal.error ?? 'unknown error'}; left in place`;
    print(why);
    publish({ type: 'cleanup', residue: `journal ${journal.path}`, outcome: 'failed', detail: why });
    return false;
  }
  print(`${run} is gone; ${dryRun ? 'would undo' : 'undoing'} ${journal.content.records.length} residue(s)`);
  const left: ResidueRecord[] = [];
  for (const record of [...journal.content.records].reverse()) {
    const check = checked(record);
    const outcome = await undo(check, dryRun);
    print(outcome.line);
    announce(
      check.description,
      !outcome.done ? 'failed' : outcome.gone ? 'gone' : dryRun ? 'skipped' : 'undone',
      outcome.line,
    );
    if (!outcome.done) left.unshift(record);
  }
  if (dryRun) return true;
  if (left.length === 0) {
    rmSync(journal.path, { force: true });
    print(`removed journal ${journal.path}`);
    return true;
  }
  // Keep what could not be undone, so a later cleanup (say, as root, or a build that knows the kind) can.
  rewriteJournal(journal, left);
  print(`kept journal ${journal.path}: ${left.length} residue(s) could not be undone`);
  return false;
}

/**
 * Publishes one residue's `cleanup` event. `undone` covers a residue already gone too (the undo's line says
 * which); `skipped`: a dry run, or a run still alive.
 */
function announce(residue: string, outcome: EventOf<'cleanup'>['outcome'], detail: string): void {
  publish({ type: 'cleanup', residue, outcome, detail });
}

/** A journal record with its kind's handler, validated once. */
interface CheckedRecord {
  readonly record: ResidueRecord;
  readonly handler: ResidueKind | undefined;
  /** What `validate` found wrong, if anything. */
  readonly problem: string | undefined;
  /** "cgroup /sys/fs/cgroup/memory/faultline-1-2", or the kind and id of a record no loaded module knows. */
  readonly description: string;
}

function checked(record: ResidueRecord): CheckedRecord {
  const handler = residueKind(record.kind);
  const problem = handler?.validate(record as unknown as Record<string, unknown>);
  let description = `${record.kind} record ${record.id}`;
  try {
    if (handler !== undefined && problem === undefined) description = handler.describe(record);
  } catch {
    // a handler that cannot describe its record still gets an event
  }
  return { record, handler, problem, description };
}

/** One record through its kind's validate and undo; an unknown kind or a bad record is kept, never guessed at. */
async function undo(
  { record, handler, problem, description }: CheckedRecord,
  dryRun: boolean,
): Promise<UndoOutcome> {
  if (handler === undefined) {
    return {
      done: false,
      line: `unknown residue kind "${record.kind}" (record ${record.id}); kept for a faultline that knows it (known: ${residueKindNames().join(', ')})`,
    };
  }
  if (problem !== undefined) {
    return { done: false, line: `refused ${record.kind} record ${record.id}: ${problem}` };
  }
  try {
    return await handler.undo(record, { dryRun });
  } catch (error) {
    return { done: false, line: `failed to undo ${description}: ${messageOf(error)}` };
  }
}

/** Temp files of journal writes interrupted by a crash of a run that is gone. */
function removeDeadTemps(stateDir: string): void {
  for (const temp of findJournalTemps(stateDir)) {
    if (!isSameProcess(temp.pid, temp.startTime)) rmSync(temp.path, { force: true });
  }
}
