import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { realClock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import {
  defaultStateDir,
  type FoundJournal,
  findJournals,
  findJournalTemps,
  type ResidueRecord,
  rewriteJournal,
} from '../core/journal.js';
import { identifyProcess, isSameProcess, readProcStat, startTimeToDate } from '../core/proc-stat.js';
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

interface Outcome {
  /** False when the residue is still there afterwards. */
  readonly done: boolean;
  readonly line: string;
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
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const dryRun = values['dry-run'];
  const journals = findJournals(stateDir);
  if (journals.length === 0) {
    printLine(`nothing to clean up in ${stateDir}`);
    return 0;
  }
  let failed = 0;
  for (const journal of journals) {
    if (!(await cleanJournal(journal, dryRun))) failed++;
  }
  if (!dryRun) removeDeadTemps(stateDir);
  if (failed > 0) {
    process.stderr.write(`faultline: ${failed} run(s) could not be fully cleaned up; see above\n`);
    return 1;
  }
  return 0;
}

/** Undoes one journal's residues, newest first. True when nothing of the run is left to undo. */
async function cleanJournal(journal: FoundJournal, dryRun: boolean): Promise<boolean> {
  const run = `run ${journal.pid} (${describeStart(journal.startTime)})`;
  if (isSameProcess(journal.pid, journal.startTime)) {
    printLine(`${run} is still running; left alone (${journal.path})`);
    return true;
  }
  if (journal.content === undefined) {
    printLine(`cannot read journal ${journal.path}: ${journal.error ?? 'unknown error'}; left in place`);
    return false;
  }
  printLine(
    `${run} is gone; ${dryRun ? 'would undo' : 'undoing'} ${journal.content.records.length} residue(s)`,
  );
  const left: ResidueRecord[] = [];
  for (const record of [...journal.content.records].reverse()) {
    let outcome: Outcome;
    try {
      outcome = await undo(record, dryRun);
    } catch (error) {
      outcome = { done: false, line: `failed to undo ${describe(record)}: ${messageOf(error)}` };
    }
    printLine(outcome.line);
    if (!outcome.done) left.unshift(record);
  }
  if (dryRun) return true;
  if (left.length === 0) {
    rmSync(journal.path, { force: true });
    printLine(`removed journal ${journal.path}`);
    return true;
  }
  // Keep what could not be undone, so a later cleanup (say, as root) can try again.
  rewriteJournal(journal, left);
  printLine(`kept journal ${journal.path}: ${left.length} residue(s) could not be undone`);
  return false;
}

function describeStart(startTime: number): string {
  const date = startTimeToDate(startTime);
  return date === undefined ? `start time ${startTime}` : `started ${date.toISOString()}`;
}

function describe(record: ResidueRecord): string {
  const what = record.label === undefined ? '' : ` (${record.label})`;
  switch (record.kind) {
    case 'process-group':
      return `process group ${record.pgid}${what}`;
    case 'cgroup':
      return `cgroup ${record.path}${what}`;
    case 'rlimit':
      return `nofile limit of pid ${record.pid}${what}`;
    case 'file':
      return `${record.path}${what}`;
    case 'stopped-process':
      return `stopped pid ${record.pid}${what}`;
  }
}

function undo(record: ResidueRecord, dryRun: boolean): Promise<Outcome> | Outcome {
  switch (record.kind) {
    case 'process-group':
      return killGroup(record, dryRun);
    case 'cgroup':
      return removeCgroup(record, dryRun);
    case 'rlimit':
      return restoreLimit(record, dryRun);
    case 'file':
      return removeFile(record, dryRun);
    case 'stopped-process':
      return continueProcess(record, dryRun);
  }
}

function skippedReused(pid: number): Outcome {
  return { done: true, line: `skipped pid ${pid}: start time differs, not ours` };
}

function liveMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X')
      members.push(Number(name));
  }
  return members;
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function killGroup(
  record: Extract<ResidueRecord, { kind: 'process-group' }>,
  dryRun: boolean,
): Promise<Outcome> {
  const { pid, pgid, startTime } = record;
  const who = describe(record);
  const state = identifyProcess(pid, startTime);
  if (state === 'reused') return skippedReused(pid);
  if (state === 'gone') {
    const members = liveMembers(pgid);
    if (members.length === 0) return { done: true, line: `${who} already gone` };
    // Without the leader nothing proves the group number was not reused: leave it to a person.
    return {
      done: false,
      line: `not killed ${who}: leader ${pid} is gone, so its ${members.length} remaining member(s) (${members.join(', ')}) cannot be proven ours`,
    };
  }
  const started = describeStart(startTime);
  if (dryRun) return { done: true, line: `would kill ${who} (${started})` };
  const wholeGroup = readProcStat(pid)?.pgrp === pgid;
  // A stopped process acts on SIGKILL anyway, but its group mates may be waiting for SIGCONT too.
  signal(wholeGroup ? -pgid : pid, 'SIGCONT');
  signal(wholeGroup ? -pgid : pid, 'SIGKILL');
  for (let i = 0; i < 100 && identifyProcess(pid, startTime) === 'ours'; i++) await realClock.sleep(20);
  if (identifyProcess(pid, startTime) === 'ours') {
    return { done: false, line: `could not kill ${who}: pid ${pid} still alive after SIGKILL (frozen?)` };
  }
  return { done: true, line: `killed ${who} (${started})` };
}

async function removeCgroup(
  record: Extract<ResidueRecord, { kind: 'cgroup' }>,
  dryRun: boolean,
): Promise<Outcome> {
  const { path } = record;
  // Only faultline's own groups: a tampered journal must not move processes out of someone else's.
  if (!basename(path).startsWith('faultline-')) {
    return { done: false, line: `refused to remove cgroup ${path}: not a faultline-* group` };
  }
  if (!existsSync(path)) return { done: true, line: `cgroup ${path} already removed` };
  const parent = record.parentPath ?? dirname(path);
  const frozen = existsSync(join(path, 'freezer.state'));
  if (dryRun) {
    const pids = pidsIn(path);
    return {
      done: true,
      line: `would ${frozen ? 'thaw and ' : ''}remove cgroup ${path} (${pids.length} pid(s) back to ${parent})`,
    };
  }
  if (frozen) writeFileSync(join(path, 'freezer.state'), 'THAWED');
  // Bounded: a group that keeps forking new pids in gives up after 50 rounds.
  for (let round = 0; round < 50; round++) {
    const pids = pidsIn(path);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        writeFileSync(join(parent, 'cgroup.procs'), String(pid));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
  // rmdir is refused (EBUSY) until exiting tasks have left; retry for up to ~5 s.
  let lastError: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      rmdirSync(path);
      return { done: true, line: `removed cgroup ${path}` };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { done: true, line: `removed cgroup ${path}` };
      lastError = error;
      await realClock.sleep(50);
    }
  }
  return { done: false, line: `could not remove cgroup ${path}: ${messageOf(lastError)}` };
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

async function restoreLimit(
  record: Extract<ResidueRecord, { kind: 'rlimit' }>,
  dryRun: boolean,
): Promise<Outcome> {
  const { pid, startTime, soft, hard } = record;
  const state = identifyProcess(pid, startTime);
  if (state === 'reused') return skippedReused(pid);
  if (state === 'gone') return { done: true, line: `pid ${pid} is gone; its nofile limit went with it` };
  if (!/^(\d+|unlimited)$/.test(soft) || !/^(\d+|unlimited)$/.test(hard)) {
    return {
      done: false,
      line: `refused to restore nofile of pid ${pid}: bad limit ${soft}:${hard} in journal`,
    };
  }
  if (dryRun) return { done: true, line: `would restore nofile of pid ${pid} to ${soft}:${hard}` };
  await new Promise<void>((resolve, reject) => {
    execFile(
      '/usr/bin/prlimit',
      ['--pid', String(pid), `--nofile=${soft}:${hard}`],
      { timeout: 10_000 },
      (error, _stdout, stderr) => {
        if (error === null) resolve();
        else reject(new Error(`prlimit: ${`${stderr}`.trim() || messageOf(error)}`));
      },
    );
  });
  return { done: true, line: `restored nofile of pid ${pid} to ${soft}:${hard}` };
}

function removeFile(record: Extract<ResidueRecord, { kind: 'file' }>, dryRun: boolean): Outcome {
  const { path } = record;
  const name = basename(path);
  // Only names faultline gives its own files and directories.
  if (!name.startsWith('.faultline-') && !name.startsWith('faultline-')) {
    return { done: false, line: `refused to remove ${path}: not a faultline-owned name` };
  }
  if (!existsSync(path)) return { done: true, line: `${path} already gone` };
  if (dryRun) return { done: true, line: `would remove ${path}` };
  rmSync(path, { force: true, recursive: record.recursive === true });
  return { done: true, line: `removed ${path}` };
}

function continueProcess(
  record: Extract<ResidueRecord, { kind: 'stopped-process' }>,
  dryRun: boolean,
): Outcome {
  const { pid, startTime } = record;
  const state = identifyProcess(pid, startTime);
  if (state === 'reused') return skippedReused(pid);
  if (state === 'gone') return { done: true, line: `stopped pid ${pid} already gone` };
  const leads = readProcStat(pid)?.pgrp === pid;
  const what = leads ? `process group ${pid}` : `pid ${pid}`;
  if (dryRun) return { done: true, line: `would continue ${what}` };
  signal(leads ? -pid : pid, 'SIGCONT');
  return { done: true, line: `continued ${what}` };
}

/** Temp files of journal writes interrupted by a crash of a run that is gone. */
function removeDeadTemps(stateDir: string): void {
  for (const temp of findJournalTemps(stateDir)) {
    if (!isSameProcess(temp.pid, temp.startTime)) rmSync(temp.path, { force: true });
  }
}
