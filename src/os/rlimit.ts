import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { labelled, registerResidueKind, residueFields, skippedReused } from '../core/residue.js';
import { withDeathSignal } from './death-signal.js';
import { identifyProcess } from './proc.js';

/** A limit as prlimit prints and takes it: a number of files, or 'unlimited'. */
export interface NofileLimit {
  readonly soft: string;
  readonly hard: string;
}

const prlimitPath = '/usr/bin/prlimit';
const capSysResource = 24n;
const limitValue = /^(\d+|unlimited)$/;

/** Whether this process may raise hard limits (CAP_SYS_RESOURCE), read from /proc/self/status. */
export async function hasSysResource(): Promise<boolean> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
    return hex !== undefined && ((BigInt(`0x${hex}`) >> capSysResource) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Runs prlimit (argv, no shell), turning its refusals into errors that say what to do. */
function runPrlimit(args: readonly string[], pid: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Dies with this process: a prlimit still running after faultline was SIGKILLed would set the limit
    // after `faultline cleanup` had restored it.
    const [file, ...rest] = withDeathSignal([prlimitPath, ...args]);
    execFile(file as string, rest, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const text = `${stderr}`.trim() || messageOf(error);
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') {
        return reject(
          new FaultlineError(codes.unavailable, `prlimit not found at ${prlimitPath} (install util-linux)`, {
            cause: error,
          }),
        );
      }
      if (/not permitted|permission denied/i.test(text)) {
        return reject(
          new FaultlineError(
            codes.permission,
            `not permitted: prlimit --pid ${pid}: ${text}; run as root or as the target's user`,
            { cause: error, details: { pid } },
          ),
        );
      }
      if (/no such process/i.test(text)) {
        return reject(
          new FaultlineError(codes.notFound, `pid: process ${pid} does not exist (${text})`, {
            cause: error,
            details: { field: 'pid' },
          }),
        );
      }
      reject(
        new FaultlineError(codes.unavailable, `prlimit ${args.join(' ')} failed: ${text}`, { cause: error }),
      );
    });
  });
}

/** RLIMIT_NOFILE of a live process. */
export async function readNofile(pid: number): Promise<NofileLimit> {
  const out = await runPrlimit(
    ['--pid', String(pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'],
    pid,
  );
  const [soft, hard] = out.trim().split(/\s+/);
  if (soft === undefined || hard === undefined || !limitValue.test(soft) || !limitValue.test(hard)) {
    throw new FaultlineError(
      codes.unavailable,
      `prlimit printed no limit for pid ${pid}: ${JSON.stringify(out)}`,
    );
  }
  return { soft, hard };
}

/** Sets RLIMIT_NOFILE of a live process. */
export async function writeNofile(pid: number, limit: NofileLimit): Promise<void> {
  await runPrlimit(['--pid', String(pid), `--nofile=${limit.soft}:${limit.hard}`], pid);
}

declare module '../core/residue.js' {
  interface ResidueShapes {
    /** Restore the limit with prlimit, if the pid's start time still matches. `soft`/`hard` may be 'unlimited'. */
    rlimit: { pid: number; startTime: number; resource: 'nofile'; soft: string; hard: string };
  }
}

registerResidueKind({
  kind: 'rlimit',
  validate: (record) =>
    residueFields.first(
      residueFields.integer(record, 'pid', 1),
      residueFields.integer(record, 'startTime'),
      record.resource === 'nofile'
        ? undefined
        : `resource: expected "nofile", got ${JSON.stringify(record.resource)}`,
      ...(['soft', 'hard'] as const).map((field) =>
        typeof record[field] === 'string' && limitValue.test(record[field])
          ? undefined
          : `${field}: expected a number or "unlimited", got ${JSON.stringify(record[field])}`,
      ),
    ),
  describe: (residue) => `nofile limit of pid ${residue.pid}${labelled(residue.label)}`,
  async undo(residue, { dryRun }) {
    const { pid, startTime, soft, hard } = residue;
    const state = identifyProcess(pid, startTime);
    if (state === 'reused') return skippedReused(pid);
    if (state === 'gone')
      return { done: true, gone: true, line: `pid ${pid} is gone; its nofile limit went with it` };
    if (dryRun) return { done: true, line: `would restore nofile of pid ${pid} to ${soft}:${hard}` };
    // Recorded before the limit was lowered: restoring one that never was lowered changes nothing.
    await writeNofile(pid, { soft, hard });
    return { done: true, line: `restored nofile of pid ${pid} to ${soft}:${hard}` };
  },
});
