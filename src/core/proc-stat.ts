import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, T (stopped), Z (zombie), … */
  readonly state: string;
  readonly pgrp: number;
  /** Clock ticks since boot (field 22): with the pid, it identifies one process across pid reuse. */
  readonly startTime: number;
}

/** /proc/<pid>/stat of a process, or undefined when it is gone (or this is not Linux). */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses; the fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', pgrp: Number(rest[2]), startTime: Number(rest[19]) };
}

/**
 * Whether the process recorded as `pid` with `startTime` is gone (zombies count as gone), its pid now
 * belongs to another process (reused), or it is still that process (ours).
 */
export function identifyProcess(pid: number, startTime: number): 'gone' | 'reused' | 'ours' {
  const stat = readProcStat(pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return 'gone';
  return stat.startTime === startTime ? 'ours' : 'reused';
}

/** Whether `pid` is alive and is the process that started at `startTime` (zombies count as gone). */
export function isSameProcess(pid: number, startTime: number): boolean {
  return identifyProcess(pid, startTime) === 'ours';
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
