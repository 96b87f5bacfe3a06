import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The fields of /proc/<pid>/stat faultline uses. */
export interface ProcStat {
  /** R, S, D, T (stopped), t (traced), Z (zombie), … */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** CPU time in clock ticks (1/100 s). */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Clock ticks since boot (field 22): with the pid, it identifies one process across pid reuse. */
  readonly startTime: number;
}

/** /proc/<pid>/stat of a process (or a thread, with procRoot `/proc/<pid>/task`), or undefined when gone. */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses; the fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    utimeTicks: Number(rest[11]),
    stimeTicks: Number(rest[12]),
    startTime: Number(rest[19]),
  };
}

/** Start time in clock ticks since boot (/proc/<pid>/stat field 22): with the pid, identifies a process. */
export function processStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

const isGoneState = (state: string): boolean => state === 'Z' || state === 'X';

/**
 * Whether the process recorded as `pid` with `startTime` is gone (zombies count as gone), its pid now
 * belongs to another process (reused), or it is still that process (ours).
 */
export function identifyProcess(pid: number, startTime: number): 'gone' | 'reused' | 'ours' {
  const stat = readProcStat(pid);
  if (stat === undefined || isGoneState(stat.state)) return 'gone';
  return stat.startTime === startTime ? 'ours' : 'reused';
}

/** Whether `pid` is alive and is the process that started at `startTime` (zombies count as gone). */
export function isSameProcess(pid: number, startTime: number): boolean {
  return identifyProcess(pid, startTime) === 'ours';
}

/** Whether `pid` is a live process. Zombies count as dead: PID 1 here may never reap them. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = readProcStat(pid)?.state;
  return state !== undefined && !isGoneState(state);
}

/** Live members of process group `pgid`, ascending (a /proc scan; empty off Linux). */
export function groupMembers(pgid: number, procRoot = '/proc'): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry), procRoot);
    if (stat !== undefined && stat.pgrp === pgid && !isGoneState(stat.state)) members.push(Number(entry));
  }
  return members.sort((a, b) => a - b);
}

/** USER_HZ: 100 on every mainstream Linux build; /proc reports start times in these ticks. */
const ticksPerSecond = 100;

/** The wall-clock time a /proc start time corresponds to, for messages; undefined off Linux. */
export function startTimeToDate(startTime: number): Date | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (btime === undefined) return undefined;
    return new Date((Number(btime) + startTime / ticksPerSecond) * 1000);
  } catch {
    return undefined;
  }
}

/** "started <ISO time>" for a /proc start time, or "start time <ticks>" when boot time is unknown. */
export function describeStart(startTime: number): string {
  const date = startTimeToDate(startTime);
  return date === undefined ? `start time ${startTime}` : `started ${date.toISOString()}`;
}

/** One process of a /proc scan. */
export interface ProcEntry extends ProcStat {
  readonly pid: number;
}

/** Every live process (zombies left out), by a /proc scan; empty off Linux. Bounded by the kernel's pid_max. */
export function listProcesses(procRoot = '/proc'): ProcEntry[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [];
  }
  const found: ProcEntry[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry), procRoot);
    if (stat !== undefined && !isGoneState(stat.state)) found.push({ pid: Number(entry), ...stat });
  }
  return found;
}

/** A process's command line for messages ("node server.js"), cut at `maxChars`; undefined when gone. */
export function processCommand(pid: number, maxChars = 120): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\0').filter(Boolean).join(' ');
  if (line === '') return readProcComm(pid);
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

function readProcComm(pid: number): string | undefined {
  try {
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return undefined;
  }
}

/** The value of `name` in a process's initial environment (/proc/<pid>/environ); undefined when unreadable. */
export function environValue(pid: number, name: string): string | undefined {
  try {
    const prefix = `${name}=`;
    const line = readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .find((entry) => entry.startsWith(prefix));
    return line?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

/**
 * What a process holds open: its working directory and the targets of its first `maxFds` descriptors
 * (`socket:[inode]` for sockets, paths for files). Empty when the process is gone or not ours to read.
 */
export function processLinks(pid: number, maxFds = 4096): { cwd?: string; fds: string[] } {
  const fds: string[] = [];
  let cwd: string | undefined;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {}
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`).slice(0, maxFds)) {
      try {
        fds.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {}
    }
  } catch {}
  return cwd === undefined ? { fds } : { cwd, fds };
}
