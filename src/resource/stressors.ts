import { type ChildProcess, spawn } from 'node:child_process';
import { rm, statfs } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalid } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { applyWithHeal, extendInjection, type FaultContext, type Injection } from '../core/fault.js';
import { defineFault } from '../core/fault-registry.js';
import type { Residue } from '../core/journal.js';
import type { NumberParam } from '../core/params.js';
import { processGroupResidue, trySignalGroup } from '../os/index.js';
import type { StressorSpec } from './stressor-main.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const stressorScript = fileURLToPath(new URL('./stressor-main.js', import.meta.url));
/** How long a stressor may take to report ready before the injection is refused. */
const readyTimeoutMs = 30_000;
/** How long a stressor gets to exit on SIGTERM before SIGKILL. */
const termGraceMs = 2_000;
/** Longest a stressor may run: a day. */
const maxDurationMs = 24 * 60 * 60 * 1000;

export interface CpuBurnParams {
  readonly cores: number;
  /** The stressor exits by itself after this long, even if faultline has died. */
  readonly durationMs: number;
}

export interface MemoryHogParams {
  readonly sizeMiB: number;
  readonly durationMs: number;
  /** Allow more than half of the machine's memory. */
  readonly force?: boolean;
}

export interface DiskFillParams {
  readonly dir: string;
  readonly sizeMiB: number;
  readonly durationMs: number;
}

export interface StressorExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StressorInjection extends Injection {
  readonly pid: number;
  /** Settles when the stressor process has exited and been reaped. */
  readonly exited: Promise<StressorExit>;
}

export interface DiskFillInjection extends StressorInjection {
  /** The faultline-owned fill file, removed on heal. */
  readonly path: string;
}

let sequence = 0;

const durationMs: NumberParam = {
  type: 'number',
  integer: true,
  min: 1,
  max: maxDurationMs,
  unit: 'ms',
  description: 'how long it runs; the stressor exits by itself after it, even if faultline has died',
};
const sizeMiB = (description: string): NumberParam => ({
  type: 'number',
  integer: true,
  min: 1,
  unit: 'MiB',
  description,
});

async function startStressor(
  context: FaultContext,
  label: string,
  spec: StressorSpec,
  afterExit: () => Promise<void> = async () => {},
  /** Residues recorded before the stressor's own process group (so a crash cleanup undoes them after it). */
  residues: readonly Residue[] = [],
): Promise<StressorInjection> {
  const child: ChildProcess = spawn(process.execPath, [stressorScript, JSON.stringify(spec)], {
    // Its own process group, so heal can signal the stressor and anything it runs at once.
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<StressorExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    child.once('error', () => resolveExit({ code: null, signal: null }));
  });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => {
    if (stderr.length < 4096) stderr += data.toString();
  });
  const pid = child.pid;
  const leader = pid === undefined ? undefined : processGroupResidue(pid, label);
  const group: Residue[] = leader === undefined ? [] : [leader];
  const entry = await applyWithHeal(
    context,
    `${label}${pid === undefined ? '' : ` (pid ${pid})`}`,
    async () => {
      await stopStressor(context, child, exited);
      await afterExit();
    },
    async () => {
      if (pid === undefined) {
        const error = await new Promise<unknown>((r) => child.once('error', r));
        throw new FaultlineError(codes.unavailable, `${label}: cannot start stressor: ${messageOf(error)}`, {
          cause: error,
        });
      }
      await waitReady(context, child, exited, label, () => stderr);
    },
    [...residues, ...group],
  );
  // Applying throws when there is no pid, so from here on there is one.
  const started = pid as number;
  context.log?.(`${label} (pid ${started})`);
  return extendInjection(entry, { pid: started, exited });
}

function waitReady(
  context: FaultContext,
  child: ChildProcess,
  exited: Promise<StressorExit>,
  label: string,
  stderr: () => string,
): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let buffered = '';
    const timer = context.clock.setTimeout(() => {
      reject(
        new FaultlineError(codes.unavailable, `${label}: stressor not ready after ${readyTimeoutMs} ms`),
      );
    }, readyTimeoutMs);
    child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString();
      if (buffered.includes('"ready":true')) {
        context.clock.clearTimeout(timer);
        resolveReady();
      }
    });
    void exited.then((exit) => {
      context.clock.clearTimeout(timer);
      reject(
        new FaultlineError(
          codes.unavailable,
          `${label}: stressor exited before it was ready (code ${exit.code}, signal ${exit.signal}): ${stderr().trim()}`,
        ),
      );
    });
  });
}

async function stopStressor(
  context: FaultContext,
  child: ChildProcess,
  exited: Promise<StressorExit>,
): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    await exited;
    return;
  }
  // Never throws (trySignalGroup): if a signal is refused (say EPERM from an LSM policy), heal still awaits
  // the exit (the stressor ends itself after durationMs) and runs `afterExit` rather than failing.
  trySignalGroup(child.pid, 'SIGTERM');
  const timedOut = Symbol('timeout');
  let timer: ReturnType<typeof context.clock.setTimeout> | undefined;
  const first = await Promise.race([
    exited,
    new Promise<typeof timedOut>((r) => {
      timer = context.clock.setTimeout(() => r(timedOut), termGraceMs);
    }),
  ]);
  if (timer !== undefined) context.clock.clearTimeout(timer);
  if (first === timedOut) trySignalGroup(child.pid, 'SIGKILL');
  // Its group has no other members (the stressor starts no processes), so the reaped leader ends it; a
  // further group signal could hit a reused pid.
  await exited;
  child.stdin?.destroy();
}

/** Burns `cores` CPU cores (one busy thread each) for durationMs. */
export const cpuBurnFault = defineFault<CpuBurnParams, StressorInjection>({
  kind: 'resource.cpu-burn',
  summary: 'Burns CPU cores (one busy thread each) in a bounded stressor process.',
  params: {
    cores: {
      type: 'number',
      integer: true,
      min: 1,
      max: availableParallelism(),
      unit: 'cores',
      description: 'how many cores to keep busy (at most the CPU count)',
    },
    durationMs,
  },
  apply: ({ cores, durationMs }, context) =>
    startStressor(context, `cpu-burn ${cores} core(s)`, { kind: 'cpu', cores, durationMs }),
});

/** Allocates and touches `sizeMiB` MiB in a child process for durationMs. */
export const memoryHogFault = defineFault<MemoryHogParams, StressorInjection>({
  kind: 'resource.memory-hog',
  summary: 'Allocates and touches memory in a bounded stressor process.',
  params: {
    sizeMiB: sizeMiB('memory to allocate and keep resident; at most half of the machine unless force'),
    durationMs,
    force: { type: 'boolean', default: false, description: "allow more than half of the machine's memory" },
  },
  validate({ sizeMiB: mib, force }) {
    const halfMiB = Math.floor(totalmem() / MiB / 2);
    if (mib > halfMiB && force !== true) {
      throw invalid(
        'sizeMiB',
        `${mib} MiB is more than half of this machine's ${Math.floor(totalmem() / MiB)} MiB; pass force: true to allow it`,
        `an integer <= ${halfMiB}, or force: true`,
      );
    }
  },
  async apply({ sizeMiB: mib, durationMs }, context) {
    return startStressor(context, `memory-hog ${mib} MiB`, { kind: 'memory', mib, durationMs });
  },
});

/**
 * Writes a faultline-owned file of `sizeMiB` MiB into `dir`. Refuses to leave less than max(1 GiB, 10 %) of
 * the filesystem free; the file is removed on heal, and by the stressor itself when it ends.
 */
export const diskFillFault = defineFault<DiskFillParams, DiskFillInjection>({
  kind: 'resource.disk-fill',
  summary: 'Fills a filesystem with a faultline-owned file, keeping max(1 GiB, 10 %) free.',
  params: {
    dir: { type: 'string', description: 'an existing directory on the filesystem to fill' },
    sizeMiB: sizeMiB('size of the fill file'),
    durationMs,
  },
  async apply(params, context) {
    if (params.dir === '') throw invalid('dir', 'must not be empty', 'an existing directory');
    const dir = resolve(params.dir);
    const { sizeMiB: mib, durationMs } = params;
    let stats: Awaited<ReturnType<typeof statfs>>;
    try {
      stats = await statfs(dir);
    } catch (error) {
      throw invalid('dir', `cannot inspect ${dir}: ${messageOf(error)}`, 'an existing directory');
    }
    const free = stats.bavail * stats.bsize;
    const reserve = Math.max(GiB, 0.1 * stats.blocks * stats.bsize);
    const allowedMiB = Math.max(0, Math.floor((free - reserve) / MiB));
    if (mib > allowedMiB) {
      throw invalid(
        'sizeMiB',
        `filling ${mib} MiB in ${dir} would leave less than ${Math.round(reserve / MiB)} MiB (max of 1 GiB and 10 %) free; ${Math.round(free / MiB)} MiB are free now`,
        `an integer <= ${allowedMiB}`,
      );
    }
    const path = join(dir, `.faultline-fill-${process.pid}-${++sequence}`);
    const injection = await startStressor(
      context,
      `disk-fill ${mib} MiB in ${dir}`,
      { kind: 'disk', path, mib, durationMs },
      () => rm(path, { force: true }),
      [{ kind: 'file', path, label: 'disk-fill file' }],
    );
    return Object.assign(injection, { path });
  },
});
