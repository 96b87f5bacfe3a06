import { invalid, requireNumber, requireOneOf } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import {
  applyWithHeal,
  extendInjection,
  type Fault,
  type FaultContext,
  type Injection,
} from '../core/fault.js';
import {
  cgroupResidues,
  cgroupSupport,
  FaultCgroup,
  groupMembers,
  processStartTime,
  requireSignal,
  type SignalName,
  signalGroup,
} from '../os/index.js';
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

function requireRunning(target: Pick<Target, 'name' | 'running'>, what: string): void {
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

/** How a pause stopped the target: the cgroup v1 freezer, cgroup v2 `cgroup.freeze`, or SIGSTOP. */
export type PauseMechanism = 'cgroup-v1-freezer' | 'cgroup-v2-freeze' | 'sigstop';

export interface PauseDetails {
  readonly mechanism: PauseMechanism;
  /** The same in the words of the `method` option: 'freezer' for either cgroup mechanism. */
  readonly method: 'freezer' | 'signals';
  /** The freezer cgroup used, when `method` is 'freezer'. */
  readonly cgroup?: string;
  readonly pids: readonly number[];
}

/** What a pause needs of a target: a Supervisor `Target`, or any running process-group leader. */
export type PauseTarget = Pick<Target, 'name' | 'pid' | 'running' | 'startTime'>;

/**
 * Freezes the target's process group through the cgroup layer when it can — the v1 freezer, or v2
 * `cgroup.freeze` (the processes cannot see or catch it) — else with SIGSTOP. The residue (the freezer group
 * to remove, or the stopped process to continue) is journalled before anything is stopped. Heal: thaw and
 * remove the group (or SIGCONT).
 */
export function pauseFault(
  target: PauseTarget,
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
      if (method !== 'signals') {
        try {
          return await freezeGroup(context, target, pids);
        } catch (error) {
          if (method === 'freezer') {
            throw new FaultlineError(
              codes.unavailable,
              `method: cannot freeze "${target.name}" through the cgroup freezer: ${messageOf(error)}`,
              { cause: error, details: { field: 'method', target: target.name } },
            );
          }
          requireRunning(target, 'pause');
          // 'auto': the freezer is missing, read-only or refused; fall back to signals.
        }
      }
      const details: PauseDetails = { mechanism: 'sigstop', method: 'signals', pids };
      const label = `pause ${target.name} (pid ${pgid}, ${details.mechanism})`;
      const startTime = target.startTime ?? processStartTime(pgid);
      const entry = await applyWithHeal(
        context,
        label,
        async () => void signalGroup(pgid, 'SIGCONT'),
        async () => {
          if (!signalGroup(pgid, 'SIGSTOP')) requireRunning(target, 'pause');
          context.log?.(label);
        },
        startTime === undefined ? undefined : { kind: 'stopped-process', pid: pgid, startTime, label },
      );
      return extendInjection(entry, { details });
    },
  };
}

/** Pauses `pids` in a faultline freezer cgroup; throws (with nothing left applied) when it cannot. */
async function freezeGroup(
  context: FaultContext,
  target: PauseTarget,
  pids: readonly number[],
): Promise<ProcessInjection<PauseDetails>> {
  const support = await cgroupSupport();
  const group = await FaultCgroup.plan({ controllers: ['freezer'], pids, clock: context.clock, support });
  const mechanism = group.versionOf('freezer') === 1 ? 'cgroup-v1-freezer' : 'cgroup-v2-freeze';
  const details: PauseDetails = { mechanism, method: 'freezer', cgroup: group.dirOf('freezer'), pids };
  const label = `pause ${target.name} (pid ${target.pid}, ${mechanism})`;
  const entry = await applyWithHeal(
    context,
    label,
    () => group.remove(),
    async () => {
      await group.apply();
      await group.freeze();
      context.log?.(label);
    },
    cgroupResidues(group, label),
  );
  return extendInjection(entry, { details });
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
