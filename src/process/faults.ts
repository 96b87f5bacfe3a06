import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid, requireNumber, requireOneOf } from '../core/assert.js';
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import {
  applyWithHeal,
  extendInjection,
  type Fault,
  type FaultContext,
  type Injection,
} from '../core/fault.js';
import type { Residue } from '../core/journal.js';
import { groupMembers, requireSignal, type SignalName, signalGroup } from './signals.js';
import { defaultGraceMs, type ExitInfo, exitWithin, type StopResult, type Target } from './supervisor.js';

/** An injection that also says what happened (which signal ended it, which pause method was used …). */
export interface ProcessInjection<D> extends Injection {
  readonly details: D;
}

export interface ProcessFault<P, D> extends Fault<P> {
  inject(context: FaultContext): Promise<ProcessInjection<D>>;
}

/** Validates a fault's `graceMs` option (default: the supervisor's own). */
function requireGrace(graceMs: number | undefined): number {
  return requireNumber(graceMs ?? defaultGraceMs, 'graceMs', { min: 0 });
}

function requireRunning(target: Target, what: string): void {
  if (!target.running) {
    throw new FaultlineError(codes.processFailed, `${what}: target "${target.name}" is not running`, {
      details: { target: target.name },
    });
  }
}

export interface KillDetails {
  readonly signal: SignalName;
  readonly pid: number;
  /** How the killed run ended, or undefined if it outlived `exitTimeoutMs` (it handled the signal). */
  exit: ExitInfo | undefined;
  /** Whether the target's own restart policy was expected to bring it back. */
  readonly selfRestarts: boolean;
}

/**
 * Sends `signal` to the target's process group and waits (up to `exitTimeoutMs`) for it to exit.
 * Heal: if the target's own restart policy brings it back, wait for that; otherwise start it again.
 */
export function killFault(
  target: Target,
  signal: SignalName = 'SIGKILL',
  options: { exitTimeoutMs?: number } = {},
): ProcessFault<{ target: string; signal: SignalName }, KillDetails> {
  const checked = requireSignal(signal, 'signal');
  const exitTimeoutMs = requireNumber(options.exitTimeoutMs ?? 5000, 'exitTimeoutMs', { min: 0 });
  return {
    kind: 'process.kill',
    params: { target: target.name, signal: checked },
    async inject(context) {
      requireRunning(target, `kill -${checked}`);
      const details: KillDetails = {
        signal: checked,
        pid: target.pid,
        exit: undefined,
        selfRestarts: target.selfRestarts,
      };
      const exited = target.waitForExit();
      const entry = await applyWithHeal(
        context,
        `kill -${checked} ${target.name} (pid ${details.pid})`,
        async () => {
          // A stopped target would otherwise stay stopped: continuing it is harmless for a running one.
          if (target.running && target.pid === details.pid) signalGroup(details.pid, 'SIGCONT');
          await target.ensureRunning();
        },
        async () => {
          context.log?.(`kill -${checked} ${target.name} (pid ${details.pid})`);
          target.signal(checked);
          details.exit = await exitWithin(context.clock, exited, exitTimeoutMs);
        },
      );
      return extendInjection(entry, { details });
    },
  };
}

export interface GracefulStopDetails extends StopResult {
  readonly pid: number;
}

/** SIGTERM, then SIGKILL after `graceMs`; records which one ended it and when. Heal: start it again. */
export function gracefulStopFault(
  target: Target,
  options: { graceMs?: number } = {},
): ProcessFault<{ target: string; graceMs: number }, GracefulStopDetails> {
  const graceMs = requireGrace(options.graceMs);
  return {
    kind: 'process.graceful-stop',
    params: { target: target.name, graceMs },
    async inject(context) {
      requireRunning(target, 'graceful stop');
      const details: { pid: number; endedBy: StopResult['endedBy']; afterMs: number } = {
        pid: target.pid,
        endedBy: 'not-running',
        afterMs: 0,
      };
      const entry = await applyWithHeal(
        context,
        `stop ${target.name} (pid ${details.pid}, grace ${graceMs}ms)`,
        () => target.ensureRunning(),
        async () => {
          const result = await target.stop({ graceMs });
          details.endedBy = result.endedBy;
          details.afterMs = result.afterMs;
          context.log?.(
            `stopped ${target.name}: ended by ${result.endedBy} after ${result.afterMs.toFixed(0)}ms`,
          );
        },
      );
      return extendInjection(entry, { details });
    },
  };
}

export interface PauseDetails {
  method: 'freezer' | 'signals';
  /** The freezer cgroup used, when `method` is 'freezer'. */
  cgroup?: string;
  readonly pids: readonly number[];
}

const freezerRoot = '/sys/fs/cgroup/freezer';
let freezerSequence = 0;

/**
 * Freezes the target's process group: the cgroup v1 freezer when available and permitted (the
 * processes cannot see or catch it), else SIGSTOP. Heal: thaw (or SIGCONT) and remove the cgroup.
 */
export function pauseFault(
  target: Target,
  options: { method?: 'auto' | 'freezer' | 'signals' } = {},
): ProcessFault<{ target: string; method: string }, PauseDetails> {
  const method = requireOneOf(options.method ?? 'auto', 'method', ['auto', 'freezer', 'signals'] as const);
  return {
    kind: 'process.pause',
    params: { target: target.name, method },
    async inject(context) {
      requireRunning(target, 'pause');
      const pgid = target.pid;
      const pids = groupMembers(pgid);
      if (pids.length === 0) pids.push(pgid);
      let frozen: Frozen | undefined;
      if (method !== 'signals' && existsSync(join(freezerRoot, 'cgroup.procs'))) {
        try {
          frozen = await freeze(pids, context.clock);
        } catch (error) {
          if (method === 'freezer') {
            throw new FaultlineError(
              codes.processFailed,
              `cannot freeze "${target.name}": ${messageOf(error)}`,
              {
                cause: error,
              },
            );
          }
        }
      } else if (method === 'freezer') {
        throw new FaultlineError(
          codes.unavailable,
          `the cgroup v1 freezer is not available at ${freezerRoot}`,
        );
      }
      const details: PauseDetails = { method: frozen ? 'freezer' : 'signals', pids };
      if (frozen) details.cgroup = frozen.dir;
      const label = `pause ${target.name} (pid ${pgid}, ${details.method})`;
      context.log?.(label);
      const startTime = target.startTime;
      const residue: Residue | undefined = frozen
        ? { kind: 'cgroup', path: frozen.dir, parentPath: freezerRoot, label }
        : startTime === undefined
          ? undefined
          : { kind: 'stopped-process', pid: pgid, startTime, label };
      const entry = await applyWithHeal(
        context,
        label,
        async () => {
          if (frozen) thaw(frozen);
          else signalGroup(pgid, 'SIGCONT');
        },
        async () => {
          if (!frozen && !signalGroup(pgid, 'SIGSTOP')) requireRunning(target, 'pause');
        },
        residue,
      );
      return extendInjection(entry, { details });
    },
  };
}

interface Frozen {
  readonly dir: string;
  readonly origins: Map<number, string>;
}

function freezerPathOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => /^\d+:([^:]*,)?freezer(,[^:]*)?:/.test(l));
  return line === undefined ? '/' : line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

async function freeze(pids: readonly number[], clock: Clock): Promise<Frozen> {
  const dir = join(freezerRoot, `faultline-${process.pid}-${++freezerSequence}`);
  mkdirSync(dir);
  const frozen: Frozen = { dir, origins: new Map() };
  try {
    for (const pid of pids) {
      frozen.origins.set(pid, freezerPathOf(pid));
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    }
    writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
    // Freezing is asynchronous: FREEZING until every task has stopped. Bounded at 100 polls.
    for (let i = 0; i < 100; i++) {
      if (readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN') return frozen;
      await clock.sleep(10);
    }
    throw new Error('the freezer did not reach FROZEN within 100 polls');
  } catch (error) {
    thaw(frozen);
    throw error;
  }
}

function thaw(frozen: Frozen): void {
  writeFileSync(join(frozen.dir, 'freezer.state'), 'THAWED');
  const inside = readFileSync(join(frozen.dir, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const pid of inside) {
    const origin = frozen.origins.get(pid) ?? '/';
    try {
      writeFileSync(join(freezerRoot, origin, 'cgroup.procs'), String(pid));
    } catch {
      writeFileSync(join(freezerRoot, 'cgroup.procs'), String(pid));
    }
  }
  rmdirSync(frozen.dir);
}

export interface RestartDetails {
  readonly oldPid: number;
  newPid: number;
}

/** Restarts the target (graceful stop, start, readiness). Heal: make sure it runs. */
export function restartFault(
  target: Target,
  options: { graceMs?: number } = {},
): ProcessFault<{ target: string; graceMs: number }, RestartDetails> {
  const graceMs = requireGrace(options.graceMs);
  return {
    kind: 'process.restart',
    params: { target: target.name, graceMs },
    async inject(context) {
      const details: RestartDetails = { oldPid: target.pid, newPid: 0 };
      const entry = await applyWithHeal(
        context,
        `restart ${target.name}`,
        () => target.ensureRunning(),
        async () => {
          context.log?.(`restart ${target.name} (pid ${details.oldPid})`);
          await target.restart({ graceMs });
          details.newPid = target.pid;
        },
      );
      return extendInjection(entry, { details });
    },
  };
}

export interface CrashLoopDetails {
  /** Kills sent so far. */
  kills: number;
  readonly pids: number[];
  /** Settles when the loop ends (after `forMs`, or at heal). */
  readonly finished: Promise<void>;
}

/**
 * Kills the target every `everyMs` for `forMs` (Clock time). When its own restart policy does not bring
 * it back, the loop starts it again after each kill. Heal: end the loop and make sure it runs.
 */
export function crashLoopFault(
  target: Target,
  options: { everyMs: number; forMs: number; signal?: SignalName },
): ProcessFault<{ target: string; everyMs: number; forMs: number; signal: SignalName }, CrashLoopDetails> {
  const everyMs = requireNumber(options.everyMs, 'everyMs', { min: 1 });
  const forMs = requireNumber(options.forMs, 'forMs', { min: 0 });
  const signal = requireSignal(options.signal ?? 'SIGKILL', 'signal');
  return {
    kind: 'process.crash-loop',
    params: { target: target.name, everyMs, forMs, signal },
    async inject(context) {
      requireRunning(target, 'crash loop');
      const { clock } = context;
      const stop = new AbortController();
      const pids: number[] = [];
      const state = { kills: 0 };
      const loop = async (): Promise<void> => {
        const end = clock.now() + forMs;
        while (!stop.signal.aborted && clock.now() < end) {
          if (target.running) {
            const exited = target.waitForExit();
            const pid = target.pid;
            try {
              target.signal(signal);
              state.kills++;
              pids.push(pid);
              context.log?.(`crash loop: kill -${signal} ${target.name} (pid ${pid})`);
            } catch {
              // it died on its own between the check and the kill
            }
            if (!target.selfRestarts) {
              await exitWithin(clock, exited, everyMs);
              if (!stop.signal.aborted) await target.ensureRunning().catch(() => {});
            }
          }
          const wait = Math.min(everyMs, end - clock.now());
          if (wait > 0) await clock.sleep(wait, stop.signal).catch(() => {});
        }
      };
      const finished = loop();
      const details: CrashLoopDetails = {
        get kills() {
          return state.kills;
        },
        pids,
        finished,
      };
      const entry = context.ledger.push(
        `crash loop ${target.name} every ${everyMs}ms for ${forMs}ms`,
        async () => {
          stop.abort();
          await finished;
          await target.ensureRunning();
        },
      );
      return extendInjection(entry, { details });
    },
  };
}

export interface CascadeDetails {
  readonly order: { name: string; pid: number; atMs: number }[];
}

/** Kills `targets` in order, `gapMs` apart. Heal: make sure each runs again, in the same order. */
export function cascadingKillFault(
  targets: readonly Target[],
  options: { signal?: SignalName; gapMs?: number } = {},
): ProcessFault<{ targets: string[]; signal: SignalName; gapMs: number }, CascadeDetails> {
  if (!Array.isArray(targets) || targets.length === 0) {
    throw invalid('targets', 'expected a non-empty list of targets', 'at least one target');
  }
  const signal = requireSignal(options.signal ?? 'SIGKILL', 'signal');
  const gapMs = requireNumber(options.gapMs ?? 0, 'gapMs', { min: 0 });
  return {
    kind: 'process.cascading-kill',
    params: { targets: targets.map((t) => t.name), signal, gapMs },
    async inject(context) {
      for (const target of targets) requireRunning(target, 'cascading kill');
      const details: CascadeDetails = { order: [] };
      const begin = context.clock.now();
      const entry = await applyWithHeal(
        context,
        `cascading kill -${signal} ${targets.map((t) => t.name).join(' → ')}`,
        async () => {
          for (const target of targets) await target.ensureRunning();
        },
        async () => {
          for (const [i, target] of targets.entries()) {
            if (i > 0 && gapMs > 0) await context.clock.sleep(gapMs, context.signal);
            const pid = target.pid;
            target.signal(signal);
            details.order.push({ name: target.name, pid, atMs: context.clock.now() - begin });
            context.log?.(`cascade: kill -${signal} ${target.name} (pid ${pid})`);
          }
        },
      );
      return extendInjection(entry, { details });
    },
  };
}
