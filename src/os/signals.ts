import { readFileSync } from 'node:fs';
import { invalid } from '../core/assert.js';
import { realClock } from '../core/clock.js';
import { labelled, registerResidueKind, residueFields, skippedReused } from '../core/residue.js';
import { describeStart, groupMembers, identifyProcess, processStartTime, readProcStat } from './proc.js';

/** Signals faultline sends. A closed list so a typo is caught before anything is touched. */
export const signalNames = [
  'SIGKILL',
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGSTOP',
  'SIGCONT',
  'SIGABRT',
  'SIGALRM',
  'SIGPIPE',
] as const;

export type SignalName = (typeof signalNames)[number];

/** Validates a signal name, naming `field` and listing the valid ones when it is unknown. */
export function requireSignal(value: unknown, field = 'signal'): SignalName {
  if (typeof value !== 'string' || !(signalNames as readonly string[]).includes(value)) {
    const list = signalNames.join(', ');
    throw invalid(field, `unknown signal ${JSON.stringify(value)}; valid: ${list}`, `one of ${list}`);
  }
  return value as SignalName;
}

/** Sends `signal` to a pid (negative: a process group); false when there is no such process (ESRCH). */
export function sendSignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Sends `signal` to the whole process group led by `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: SignalName | NodeJS.Signals): boolean {
  return sendSignal(-pgid, signal);
}

/**
 * Like `signalGroup`, but never throws: for heals that must go on to wait for an exit even when a signal is
 * refused (say EPERM from an LSM policy). False when the signal was not delivered.
 */
export function trySignalGroup(pgid: number, signal: SignalName | NodeJS.Signals): boolean {
  try {
    return signalGroup(pgid, signal);
  } catch {
    return false;
  }
}

declare module '../core/residue.js' {
  interface ResidueShapes {
    /**
     * Kill the group, if the leader's start time still matches (never a reused pid). With the leader gone,
     * only members whose environment carries `FAULTLINE_GROUP=<token>` are provably ours and killed.
     */
    'process-group': { pid: number; pgid: number; startTime: number; token?: string };
    /** SIGCONT the process (its group when it leads one), if its start time still matches. */
    'stopped-process': { pid: number; startTime: number };
  }
}

/**
 * The variable a supervised process (and so every descendant that keeps its environment) carries, so that
 * cleanup can tell its descendants from a reused group after the leader died.
 */
export const groupTokenVariable = 'FAULTLINE_GROUP';
let tokens = 0;

/** A token unique to one process group this run starts: `<runpid>.<run start time>.<n>`. */
export function newGroupToken(): string {
  return `${groupTokenPrefix()}${++tokens}`;
}

/** What every group token this process hands out starts with: a process carrying it descends from ours. */
export function groupTokenPrefix(): string {
  return `${process.pid}.${processStartTime(process.pid) ?? 0}.`;
}

/** The residue of a process group faultline started; undefined when the leader is already gone. */
export function processGroupResidue(
  pid: number,
  label?: string,
  token?: string,
):
  | { kind: 'process-group'; pid: number; pgid: number; startTime: number; token?: string; label?: string }
  | undefined {
  const startTime = processStartTime(pid);
  if (startTime === undefined) return undefined;
  return {
    kind: 'process-group',
    pid,
    pgid: pid,
    startTime,
    ...(token === undefined ? {} : { token }),
    ...(label === undefined ? {} : { label }),
  };
}

/** Whether `pid`'s environment holds `FAULTLINE_GROUP=<token>` (false when unreadable). */
function carriesToken(pid: number, token: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .includes(`${groupTokenVariable}=${token}`);
  } catch {
    return false;
  }
}

/** SIGCONT then SIGKILL to each pid (a stopped one may hold others waiting), then waits ~2 s for them to go. */
async function killEach(pids: readonly { pid: number; startTime: number }[]): Promise<number[]> {
  for (const { pid, startTime } of pids) {
    if (identifyProcess(pid, startTime) !== 'ours') continue;
    sendSignal(pid, 'SIGCONT');
    sendSignal(pid, 'SIGKILL');
  }
  const alive = () => pids.filter(({ pid, startTime }) => identifyProcess(pid, startTime) === 'ours');
  for (let i = 0; i < 100 && alive().length > 0; i++) await realClock.sleep(20);
  return alive().map(({ pid }) => pid);
}

registerResidueKind({
  kind: 'process-group',
  validate: (record) =>
    residueFields.first(
      residueFields.integer(record, 'pid', 1),
      residueFields.integer(record, 'pgid', 1),
      residueFields.integer(record, 'startTime'),
      residueFields.string(record, 'token', true),
    ),
  describe: (residue) => `process group ${residue.pgid}${labelled(residue.label)}`,
  async undo(residue, { dryRun }) {
    const { pid, pgid, startTime } = residue;
    const who = `process group ${pgid}${labelled(residue.label)}`;
    const state = identifyProcess(pid, startTime);
    if (state === 'reused') return skippedReused(pid);
    if (state === 'gone') {
      const members = groupMembers(pgid);
      if (members.length === 0) return { done: true, gone: true, line: `${who} already gone` };
      // Without the leader, only the token in a member's environment proves the group number was not reused.
      const token = residue.token;
      const ours = token === undefined ? [] : members.filter((member) => carriesToken(member, token));
      const unproven = members.filter((member) => !ours.includes(member));
      if (unproven.length > 0) {
        return {
          done: false,
          line: `not killed ${who}: leader ${pid} is gone, so its ${unproven.length} remaining member(s) (${unproven.join(', ')}) cannot be proven ours`,
        };
      }
      if (dryRun)
        return { done: true, line: `would kill ${who}: leader ${pid} gone, members ${ours.join(', ')}` };
      const withStart = ours.map((member) => ({
        pid: member,
        startTime: processStartTime(member) ?? -1,
      }));
      const left = await killEach(withStart);
      return left.length === 0
        ? { done: true, line: `killed ${who}: leader ${pid} gone, members ${ours.join(', ')}` }
        : {
            done: false,
            line: `could not kill ${who}: members ${left.join(', ')} alive after SIGKILL (frozen?)`,
          };
    }
    const started = describeStart(startTime);
    if (dryRun) return { done: true, line: `would kill ${who} (${started})` };
    const target = readProcStat(pid)?.pgrp === pgid ? -pgid : pid;
    // A stopped process acts on SIGKILL anyway, but its group mates may be waiting for SIGCONT too.
    sendSignal(target, 'SIGCONT');
    sendSignal(target, 'SIGKILL');
    for (let i = 0; i < 100 && identifyProcess(pid, startTime) === 'ours'; i++) await realClock.sleep(20);
    if (identifyProcess(pid, startTime) === 'ours') {
      return { done: false, line: `could not kill ${who}: pid ${pid} still alive after SIGKILL (frozen?)` };
    }
    return { done: true, line: `killed ${who} (${started})` };
  },
});

registerResidueKind({
  kind: 'stopped-process',
  validate: (record) =>
    residueFields.first(residueFields.integer(record, 'pid', 1), residueFields.integer(record, 'startTime')),
  describe: (residue) => `stopped pid ${residue.pid}${labelled(residue.label)}`,
  undo(residue, { dryRun }) {
    const { pid, startTime } = residue;
    const state = identifyProcess(pid, startTime);
    if (state === 'reused') return skippedReused(pid);
    if (state === 'gone') return { done: true, gone: true, line: `stopped pid ${pid} already gone` };
    const leads = readProcStat(pid)?.pgrp === pid;
    const what = leads ? `process group ${pid}` : `pid ${pid}`;
    if (dryRun) return { done: true, line: `would continue ${what}` };
    // Recorded before the SIGSTOP: continuing a process that was never stopped is harmless.
    sendSignal(leads ? -pid : pid, 'SIGCONT');
    return { done: true, line: `continued ${what}` };
  },
});
