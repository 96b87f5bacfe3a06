import { readdirSync } from 'node:fs';
import { invalid } from '../core/assert.js';
import { readProcStat } from '../core/proc-stat.js';

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

/** Start time in clock ticks since boot (/proc/<pid>/stat field 22): with the pid, identifies a process. */
export function processStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

/** Whether `pid` is a live process. Zombies count as dead: PID 1 here may never reap them. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Live members of process group `pgid` (Linux /proc scan; empty elsewhere). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** Sends `signal` to the whole process group led by `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: SignalName): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
