import { claim, conflict, releasing } from '../core/claims.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { applyWithHeal, extendInjection, type FaultContext, type Injection } from '../core/fault.js';
import { defineFault } from '../core/fault-registry.js';
import type { ParamSpec, RefParam, StringParam } from '../core/params.js';
import {
  cgroupResidues,
  cgroupSupport,
  FaultCgroup,
  groupMembers,
  processStartTime,
  readProcStat,
  refuseNested,
  type SignalName,
  signalGroup,
  signalNames,
} from '../os/index.js';
import { defaultGraceMs, type ExitInfo, exitWithin, type StopResult, Target } from './supervisor.js';

/** An injection that also says what happened (which signal ended it, which pause method was used …). */
export interface ProcessInjection<D> extends Injection {
  readonly details: D;
}

const isTarget = (value: unknown): value is Target => value instanceof Target;

const targetParam: RefParam = {
  type: 'ref',
  ref: 'process-target',
  is: isTarget,
  description: 'a Supervisor target',
};

const signalParam = (description: string): StringParam => ({
  type: 'string',
  oneOf: signalNames,
  default: 'SIGKILL',
  description,
});

const graceParam: ParamSpec = {
  type: 'number',
  min: 0,
  unit: 'ms',
  default: defaultGraceMs,
  description: 'how long SIGTERM has before SIGKILL',
};

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

export interface KillParams {
  readonly target: Target;
  /** Default SIGKILL. */
  readonly signal?: SignalName;
  /** How long to wait for the exit (default 5000); a target that outlives it handled the signal. */
  readonly exitTimeoutMs?: number;
}

/**
 * Sends `signal` to the target's process group and waits (up to `exitTimeoutMs`) for it to exit.
 * Heal: if the target's own restart policy brings it back, wait for that; otherwise start it again.
 */
export const killFault = defineFault<KillParams, ProcessInjection<KillDetails>>({
  kind: 'process.kill',
  summary: "Sends a signal to a target's process group and waits for it to exit; heal makes it run again.",
  params: {
    target: targetParam,
    signal: signalParam('the signal to send'),
    exitTimeoutMs: {
      type: 'number',
      min: 0,
      unit: 'ms',
      default: 5000,
      description: 'how long to wait for the exit; a target that outlives it handled the signal',
    },
  },
  async apply(params, context) {
    const { target } = params;
    const checked = params.signal as SignalName;
    const exitTimeoutMs = params.exitTimeoutMs as number;
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
});

export interface GracefulStopDetails extends StopResult {
  readonly pid: number;
}

export interface GracefulStopParams {
  readonly target: Target;
  /** How long SIGTERM has before SIGKILL; default the supervisor's (5000). */
  readonly graceMs?: number;
}

/** SIGTERM, then SIGKILL after `graceMs`; records which one ended it and when. Heal: start it again. */
export const gracefulStopFault = defineFault<GracefulStopParams, ProcessInjection<GracefulStopDetails>>({
  kind: 'process.graceful-stop',
  summary: 'Stops a target with SIGTERM, then SIGKILL after graceMs; heal starts it again.',
  params: { target: targetParam, graceMs: graceParam },
  async apply(params, context) {
    const { target } = params;
    const graceMs = params.graceMs as number;
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
});

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

export interface PauseParams {
  readonly target: PauseTarget;
  /** 'auto' (default): the cgroup freezer when it can, else SIGSTOP. */
  readonly method?: PauseMethod;
}

export type PauseMethod = 'auto' | 'freezer' | 'signals';

const isPauseTarget = (value: unknown): value is PauseTarget => {
  const v = value as Partial<PauseTarget> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    Number.isInteger(v.pid) &&
    typeof v.running === 'boolean'
  );
};

/** What a pause holds: one per process group, so a paused target cannot be paused again. */
function claimPause(target: PauseTarget, label: string) {
  return claim([`pause:${target.pid}`], label, 'target', () => `target "${target.name}" (pid ${target.pid})`);
}

/**
 * Freezes the target's process group through the cgroup layer when it can — the v1 freezer, or v2
 * `cgroup.freeze` (the processes cannot see or catch it) — else with SIGSTOP. The residue (the freezer group
 * to remove, or the stopped process to continue) is journalled before anything is stopped. Heal: thaw and
 * remove the group (or SIGCONT).
 */
export const pauseFault = defineFault<PauseParams, ProcessInjection<PauseDetails>>({
  kind: 'process.pause',
  summary: "Freezes a target's process group (cgroup freezer, else SIGSTOP) so it cannot run; heal thaws it.",
  params: {
    target: {
      type: 'ref',
      ref: 'process',
      is: isPauseTarget,
      description:
        'a Supervisor target, or any running process-group leader { name, pid, running, startTime? }',
    },
    method: {
      type: 'string',
      oneOf: ['auto', 'freezer', 'signals'],
      default: 'auto',
      description:
        "'freezer' (cgroup v1 freezer or v2 cgroup.freeze), 'signals' (SIGSTOP) or 'auto': the freezer when it can",
    },
  },
  async apply(params, context) {
    const { target } = params;
    const method = params.method as PauseMethod;
    requireRunning(target, 'pause');
    const pgid = target.pid;
    if (readProcStat(pgid)?.state === 'T') {
      throw conflict('target', `target "${target.name}" (pid ${pgid}) is already stopped; continue it first`);
    }
    const pids = groupMembers(pgid);
    if (pids.length === 0) pids.push(pgid);
    if (method !== 'signals') {
      try {
        return await freezeGroup(context, target, pids);
      } catch (error) {
        if (error instanceof FaultlineError && error.code === codes.conflict) throw error;
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
    const hold = claimPause(target, label);
    const entry = await applyWithHeal(
      context,
      label,
      releasing(hold, async () => void signalGroup(pgid, 'SIGCONT')),
      async () => {
        if (!signalGroup(pgid, 'SIGSTOP')) requireRunning(target, 'pause');
        context.log?.(label);
      },
      startTime === undefined ? undefined : { kind: 'stopped-process', pid: pgid, startTime, label },
    );
    return extendInjection(entry, { details });
  },
});

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
  refuseNested(group, ['freezer'], 'target', `target "${target.name}" (pid ${target.pid})`);
  const hold = claimPause(target, label);
  const entry = await applyWithHeal(
    context,
    label,
    releasing(hold, () => group.remove()),
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

export type RestartParams = GracefulStopParams;

/** Restarts the target (graceful stop, start, readiness). Heal: make sure it runs. */
export const restartFault = defineFault<RestartParams, ProcessInjection<RestartDetails>>({
  kind: 'process.restart',
  summary: 'Restarts a target: graceful stop, start, readiness; heal makes sure it runs.',
  params: { target: targetParam, graceMs: graceParam },
  async apply(params, context) {
    const { target } = params;
    const graceMs = params.graceMs as number;
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
});

export interface CrashLoopDetails {
  /** Kills sent so far. */
  kills: number;
  readonly pids: number[];
  /** Settles when the loop ends (after `forMs`, or at heal). */
  readonly finished: Promise<void>;
}

export interface CrashLoopParams {
  readonly target: Target;
  readonly everyMs: number;
  readonly forMs: number;
  /** Default SIGKILL. */
  readonly signal?: SignalName;
}

/**
 * Kills the target every `everyMs` for `forMs` (Clock time). When its own restart policy does not bring
 * it back, the loop starts it again after each kill. Heal: end the loop and make sure it runs.
 */
export const crashLoopFault = defineFault<CrashLoopParams, ProcessInjection<CrashLoopDetails>>({
  kind: 'process.crash-loop',
  summary: 'Kills a target every everyMs for forMs, starting it again when its own policy does not.',
  params: {
    target: targetParam,
    everyMs: { type: 'number', min: 1, unit: 'ms', description: 'time between kills' },
    forMs: { type: 'number', min: 0, unit: 'ms', description: 'how long the loop runs' },
    signal: signalParam('the signal of each kill'),
  },
  async apply(params, context) {
    const { target, everyMs, forMs } = params;
    const signal = params.signal as SignalName;
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
});

export interface CascadeDetails {
  readonly order: { name: string; pid: number; atMs: number }[];
}

export interface CascadingKillParams {
  readonly targets: readonly Target[];
  /** Default SIGKILL. */
  readonly signal?: SignalName;
  /** Time between two kills (default 0). */
  readonly gapMs?: number;
}

/** Kills `targets` in order, `gapMs` apart. Heal: make sure each runs again, in the same order. */
export const cascadingKillFault = defineFault<CascadingKillParams, ProcessInjection<CascadeDetails>>({
  kind: 'process.cascading-kill',
  summary: 'Kills targets in order, gapMs apart; heal makes each run again, in the same order.',
  params: {
    targets: { type: 'list', items: targetParam, minItems: 1, description: 'the targets, in kill order' },
    signal: signalParam('the signal of each kill'),
    gapMs: { type: 'number', min: 0, unit: 'ms', default: 0, description: 'time between two kills' },
  },
  async apply(params, context) {
    const { targets } = params;
    const signal = params.signal as SignalName;
    const gapMs = params.gapMs as number;
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
});
