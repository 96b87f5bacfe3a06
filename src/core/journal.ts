import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime } from '../os/index.js';
import { codes } from './codes.js';
import { FaultlineError, messageOf } from './errors.js';
import type { Residue } from './residue.js';

export type { Residue } from './residue.js';

export type ResidueRecord = Residue & { readonly id: number };

export interface JournalFile {
  readonly format: typeof journalFormat;
  /** The run that wrote it: alive while this process (same start time) is. */
  readonly pid: number;
  readonly startTime: number;
  readonly argv: readonly string[];
  /** In order of recording; cleanup undoes them newest first. */
  readonly records: readonly ResidueRecord[];
}

export interface JournalOptions {
  /** Default `$FAULTLINE_STATE_DIR`, else `<tmpdir>/faultline-state-<uid>`. */
  stateDir?: string;
  /** Refuse further records past this many (default 100 000): every add rewrites the whole file. */
  maxRecords?: number;
}

export const journalFormat = 'faultline-journal/1';
const defaultMaxRecords = 100_000;
let openedInProcess = 0;

/** Where journals live unless told otherwise. */
export function defaultStateDir(): string {
  const fromEnv = process.env.FAULTLINE_STATE_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return join(tmpdir(), `faultline-state-${process.getuid?.() ?? 'user'}`);
}

const runsPath = (stateDir: string): string => join(stateDir, 'runs');

/**
 * `<stateDir>/runs`, created private to this user. The state directory is checked before anything is
 * created inside it, and `runs` after: each must be a real directory (not a symbolic link) owned by this
 * user, or FL_ERR_PERMISSION is thrown and nothing is written there.
 */
export function runsDir(stateDir: string): string {
  // In a shared /tmp someone else could have made the directory (or a symlink) first, to plant or read journals.
  const uid = process.getuid?.();
  privateDirectory(stateDir, uid);
  const dir = runsPath(stateDir);
  privateDirectory(dir, uid);
  return dir;
}

/**
 * `<stateDir>/runs` to read (`findJournals`, `findJournalTemps`), or undefined when it or the state
 * directory does not exist (nothing is created). Both are checked as `runsDir` checks them: a symlinked
 * or foreign directory is refused (FL_ERR_PERMISSION), so cleanup never reads — or deletes in — a
 * directory someone else controls.
 */
function existingRunsDir(stateDir: string): string | undefined {
  const uid = process.getuid?.();
  if (!privateDirectory(stateDir, uid, false)) return undefined;
  const dir = runsPath(stateDir);
  return privateDirectory(dir, uid, false) ? dir : undefined;
}

/**
 * Refuses `path` unless it is a directory, not a symlink, owned by `uid`. When it is missing: creates it
 * (mode 0700) if `create`, else returns false.
 */
function privateDirectory(path: string, uid: number | undefined, create = true): boolean {
  let stat = lstatIfExists(path);
  if (stat === undefined) {
    if (!create) return false;
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new FaultlineError(
        codes.permission,
        `cannot create state directory ${path}: ${messageOf(error)}`,
        {
          cause: error,
          details: { path },
        },
      );
    }
    stat = lstatSync(path);
  }
  const problem = stat.isSymbolicLink()
    ? 'is a symbolic link'
    : !stat.isDirectory()
      ? 'is not a directory'
      : uid !== undefined && stat.uid !== uid
        ? `is owned by uid ${stat.uid}, not ${uid}`
        : undefined;
  if (problem !== undefined) {
    throw new FaultlineError(
      codes.permission,
      `state directory ${path} ${problem}: expected a directory owned by uid ${uid ?? 'of this user'}; set FAULTLINE_STATE_DIR or pass --state-dir`,
      { details: { path, expected: 'a directory (not a symlink) owned by this user' } },
    );
  }
  return true;
}

function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FaultlineError(
      codes.permission,
      `cannot inspect state directory ${path}: ${messageOf(error)}`,
      {
        cause: error,
        details: { path },
      },
    );
  }
}

/**
 * The run's on-disk record of residues. Every `add`/`remove` rewrites `<stateDir>/runs/<pid>-<start>.json`
 * synchronously and atomically (temp file + rename), so a SIGKILL right after an inject still finds it.
 */
export class Journal {
  private readonly records: ResidueRecord[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    /** The journal file. */
    readonly path: string,
    private readonly stateDir: string,
    private readonly pid: number,
    private readonly startTime: number,
    private readonly maxRecords: number,
  ) {}

  static open(options: JournalOptions = {}): Journal {
    const stateDir = options.stateDir ?? defaultStateDir();
    const dir = runsDir(stateDir);
    const startTime = processStartTime(process.pid) ?? 0;
    // A second journal in the same process gets a suffix; cleanup reads the run from the name either way.
    const suffix = openedInProcess++ === 0 ? '' : `-${openedInProcess}`;
    const maxRecords = options.maxRecords ?? defaultMaxRecords;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new FaultlineError(
        codes.invalidArgument,
        `maxRecords: expected an integer >= 1, got ${maxRecords}`,
        {
          details: { field: 'maxRecords', expected: 'an integer >= 1' },
        },
      );
    }
    return new Journal(
      join(dir, `${process.pid}-${startTime}${suffix}.json`),
      stateDir,
      process.pid,
      startTime,
      maxRecords,
    );
  }

  get size(): number {
    return this.records.length;
  }

  /** A copy of the records still owed, oldest first. */
  list(): ResidueRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  /** Records a residue (written before this returns) and gives its id for `remove`. */
  add(residue: Residue): number {
    if (this.closed) throw new FaultlineError(codes.invalidArgument, `journal ${this.path} is closed`);
    if (this.records.length >= this.maxRecords) {
      throw new FaultlineError(
        codes.unavailable,
        `journal ${this.path} holds ${this.records.length} records, the most it takes; heal something first`,
        { details: { maxRecords: this.maxRecords } },
      );
    }
    const record: ResidueRecord = { ...residue, id: this.nextId++ };
    this.records.push(record);
    try {
      this.write();
    } catch (error) {
      this.records.pop();
      throw error;
    }
    return record.id;
  }

  /**
   * Forgets a residue that has been undone. Unknown ids are ignored (remove is idempotent). The file goes
   * with the last record: a run killed by a signal after healing everything leaves no journal behind.
   */
  remove(id: number): void {
    const index = this.records.findIndex((record) => record.id === id);
    if (index < 0 || this.closed) return;
    this.records.splice(index, 1);
    if (this.records.length === 0) this.discard();
    else this.write();
  }

  /** Stops recording; deletes the file when nothing is owed, else leaves it for `faultline cleanup`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.records.length === 0) this.discard();
  }

  /**
   * Deletes the file, then the runs and state directories if nothing else is in them: a run that owes
   * nothing leaves nothing in the temp dir. Another process's journal keeps them (rmdir of a non-empty
   * directory fails, and is let fail).
   */
  private discard(): void {
    rmSync(this.path, { force: true });
    for (const dir of [runsPath(this.stateDir), this.stateDir]) {
      try {
        rmdirSync(dir);
      } catch {
        return; // not empty (another run's journal), or already gone
      }
    }
  }

  private write(): void {
    const content: JournalFile = {
      format: journalFormat,
      pid: this.pid,
      startTime: this.startTime,
      argv: process.argv,
      records: this.records,
    };
    try {
      try {
        writeAtomically(this.path, content);
      } catch (error) {
        // Another process's discard may have removed the empty directories since this journal opened.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        runsDir(this.stateDir);
        writeAtomically(this.path, content);
      }
    } catch (error) {
      throw new FaultlineError(codes.unavailable, `cannot write journal ${this.path}: ${messageOf(error)}`, {
        cause: error,
        details: { path: this.path },
      });
    }
  }
}

export interface FoundJournal {
  readonly path: string;
  readonly pid: number;
  readonly startTime: number;
  /** Undefined when the file could not be read or is not a journal. */
  readonly content?: JournalFile;
  readonly error?: string;
}

const journalName = /^(\d+)-(\d+)(?:-\d+)?\.json$/;
/** `<journal>.<pid>.tmp`, what writeAtomically leaves if the process dies mid-write. */
const journalTempName = /^(\d+)-(\d+)(?:-\d+)?\.json\.\d+\.tmp$/;

/**
 * Every journal in `<stateDir>/runs` (none when the directory does not exist), by file name. Throws
 * FL_ERR_PERMISSION when the state directory or `runs` is a symlink, not a directory, or not this user's.
 */
export function findJournals(stateDir: string): FoundJournal[] {
  const dir = existingRunsDir(stateDir);
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const found: FoundJournal[] = [];
  for (const name of names) {
    const match = journalName.exec(name);
    if (match === null) continue;
    const path = join(dir, name);
    const base = { path, pid: Number(match[1]), startTime: Number(match[2]) };
    try {
      // Cleanup acts on what a journal says: only trust files this user wrote.
      const stat = lstatSync(path);
      const uid = process.getuid?.();
      if (!stat.isFile() || (uid !== undefined && stat.uid !== uid)) {
        throw new Error(`not a regular file owned by uid ${uid}; ignored`);
      }
      found.push({ ...base, content: parseJournal(readFileSync(path, 'utf8')) });
    } catch (error) {
      found.push({ ...base, error: messageOf(error) });
    }
  }
  return found;
}

/** Leftover temp files of journal writes (`<journal>.<pid>.tmp`) in `<stateDir>/runs`; checked as `findJournals`. */
export function findJournalTemps(stateDir: string): { path: string; pid: number; startTime: number }[] {
  const dir = existingRunsDir(stateDir);
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = journalTempName.exec(name);
    return match === null
      ? []
      : [{ path: join(dir, name), pid: Number(match[1]), startTime: Number(match[2]) }];
  });
}

/** Writes `records` back to a found journal (atomically), e.g. the ones cleanup could not undo. */
export function rewriteJournal(found: FoundJournal, records: readonly ResidueRecord[]): void {
  if (found.content === undefined) return;
  writeAtomically(found.path, { ...found.content, records });
}

/** Writes JSON to `<path>.<pid>.tmp`, private to this user, then renames it over `path`. */
function writeAtomically(path: string, value: unknown): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(value, null, 1)}\n`, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function parseJournal(text: string): JournalFile {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error('not a JSON object');
  const file = value as Partial<JournalFile>;
  if (file.format !== journalFormat) throw new Error(`format is not ${journalFormat}`);
  if (!Array.isArray(file.records)) throw new Error('records: expected an array');
  // Each record's fields are checked by its kind's `validate` when cleanup acts on it (core/residue.ts): a
  // kind this build does not know is kept for one that does, not a reason to distrust the whole file.
  for (const [index, record] of file.records.entries()) {
    const kind = (record as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || kind === '') throw new Error(`records[${index}].kind: expected a string`);
    if (!Number.isInteger((record as { id?: unknown }).id)) {
      throw new Error(`records[${index}].id: expected an integer`);
    }
  }
  return file as JournalFile;
}

let processWide: Journal | null | undefined;

/**
 * This process's own journal, opened at its first record: where every Ledger (and Supervisor) given no
 * journal of its own records residue, so a crash at any instant leaves nothing `faultline cleanup` does not
 * know about. Its file exists only while something is owed. When the state directory cannot be used it
 * warns once (FL_WARN_NO_JOURNAL) and returns undefined: the run goes on, without that net.
 */
export function processJournal(): Journal | undefined {
  if (processWide === undefined) {
    try {
      processWide = Journal.open();
    } catch (error) {
      processWide = null;
      process.emitWarning(
        `cannot open a crash journal (${messageOf(error)}); residue of a crash during a fault will not be ` +
          'known to `faultline cleanup`. Set FAULTLINE_STATE_DIR to a directory this user owns.',
        { code: 'FL_WARN_NO_JOURNAL' },
      );
    }
  }
  return processWide ?? undefined;
}

/** This process's own journal if something opened it already; never opens it (nor its directory). */
export function openedProcessJournal(): Journal | undefined {
  return processWide ?? undefined;
}

/** The journal an option names: the one given, none (`false`), or the process's own (`processJournal()`). */
export function journalFor(option: Journal | false | undefined): Journal | undefined {
  return option === false ? undefined : (option ?? processJournal());
}
