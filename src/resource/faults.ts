import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../core/assert.js';
import { claim, releasing } from '../core/claims.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import {
  applyWithHeal,
  extendInjection,
  type Fault,
  type FaultContext,
  type Injection,
} from '../core/fault.js';
import { defineFault } from '../core/fault-registry.js';
import type { ParamSpecs } from '../core/params.js';
import {
  type CgroupController,
  type CgroupFs,
  type CgroupSupport,
  cgroupResidues,
  cgroupSupport,
  FaultCgroup,
  groupMembers,
  hasSysResource,
  limitFiles,
  nodeCgroupFs,
  processStartTime,
  readNofile,
  readProcStat,
  refuseNested,
  writeNofile,
} from '../os/index.js';

/** Whom a cgroup fault limits: one pid (with its whole process group when it leads one) or a list of pids. */
export interface ResourceTarget {
  /** A process; if it leads a process group, every member of the group is limited too. */
  readonly pid?: number;
  /** Exactly these processes (and the children they fork while limited). */
  readonly pids?: readonly number[];
}

/**
 * Advanced, not a parameter: where cgroups are found, for tests that lay out a fake hierarchy. Given to one
 * fault with `withCgroupEnvironment` (src/resource/faults.ts), so the registered kinds' schemas stay plain data.
 */
export interface CgroupEnvironment {
  readonly support?: CgroupSupport;
  readonly fs?: CgroupFs;
  readonly procRoot?: string;
}

export interface MemoryLimitParams extends ResourceTarget {
  readonly limitMiB: number;
}

export interface CpuQuotaParams extends ResourceTarget {
  /** 10 = a tenth of one core; 200 = two full cores. */
  readonly percentOfOneCore: number;
}

export interface PidsLimitParams extends ResourceTarget {
  /** Most tasks (processes and threads) the group may hold; forks beyond it fail with EAGAIN. */
  readonly maxTasks: number;
}

export interface FdLimitParams {
  readonly pid: number;
  readonly maxOpenFiles: number;
}

/** An applied cgroup fault. */
export interface CgroupInjection extends Injection {
  /** The faultline-owned group's name (`faultline-<runpid>-<n>`). */
  readonly cgroup: string;
  readonly pids: readonly number[];
}

export interface MemoryLimitInjection extends CgroupInjection {
  /** OOM kills in the group so far; after heal, the count read just before the group was removed. */
  oomKills(): Promise<number>;
}

export interface FdLimitInjection extends Injection {
  /** The limit before the fault, restored on heal. */
  readonly previous: { readonly soft: string; readonly hard: string };
  /** False when faultline lacks CAP_SYS_RESOURCE: then only the soft limit was lowered, so heal can restore it. */
  readonly lowersHard: boolean;
}

const environments = new WeakMap<object, CgroupEnvironment>();

/**
 * @internal The same fault acting on another cgroup hierarchy (a fake one laid out by a test): `fault` must
 * come from `memoryLimitFault`, `cpuQuotaFault` or `pidsLimitFault`. Kept out of the parameters, so the
 * registry's schemas stay what a scenario file can say.
 */
export function withCgroupEnvironment<F extends Fault<object>>(fault: F, environment: CgroupEnvironment): F {
  environments.set(fault.params, environment);
  return fault;
}

const pidSpec = { type: 'number', integer: true, min: 1, description: 'a process id' } as const;
const targetParams: ParamSpecs = {
  pid: {
    ...pidSpec,
    optional: true,
    description: 'a process; when it leads a process group, the whole group (give pid or pids)',
  },
  pids: {
    type: 'list',
    items: pidSpec,
    minItems: 1,
    optional: true,
    description: 'exactly these processes and what they fork while limited (give pid or pids)',
  },
};

/** The cross-field rule of pid/pids, checked before anything is read or applied. */
function validateTarget(params: ResourceTarget): void {
  if ((params.pid === undefined) === (params.pids === undefined)) {
    throw invalid('pid', 'give exactly one of pid or pids', 'pid: a process id, or pids: a non-empty list');
  }
  const own = params.pid ?? params.pids?.find((pid) => pid === process.pid);
  if (own === process.pid) {
    throw invalid('pids', `${process.pid} is faultline's own process; limit a target, not the runner`);
  }
}

const noSuchProcess = (pid: number): FaultlineError =>
  new FaultlineError(codes.notFound, `pid: process ${pid} does not exist`, { details: { field: 'pid' } });

/** The pids to move: the list as given, or the pid's whole process group when it leads one. */
async function resolveTarget(params: ResourceTarget, procRoot: string | undefined): Promise<number[]> {
  if (params.pids !== undefined) return [...params.pids];
  const pid = params.pid as number;
  const stat = readProcStat(pid, procRoot);
  if (stat === undefined) throw noSuchProcess(pid);
  if (stat.pgrp !== pid) return [pid];
  const group = groupMembers(pid, procRoot);
  return group.filter((member) => member !== process.pid);
}

/**
 * Plans the fault's cgroup, records its heal with the directories it *will* create as residues, then creates
 * it: a crash at any instant of the creating leaves a journal that names every directory (cleanup tolerates
 * the ones never made). `heal` defaults to removing the group. A pid already limited by a fault of the same
 * controller is refused (FL_ERR_CONFLICT) before anything is made.
 */
async function applyCgroup(
  context: FaultContext,
  label: string,
  params: ResourceTarget,
  controllers: readonly CgroupController[],
  limits: (
    version: 1 | 2,
    group: { exists(file: string): Promise<boolean> },
  ) => Promise<Partial<Record<CgroupController, readonly (readonly [string, string])[]>>>,
  heal?: (group: FaultCgroup) => Promise<void>,
): Promise<{ entry: Injection; group: FaultCgroup; pids: number[] }> {
  const environment = environments.get(params) ?? {};
  const pids = await resolveTarget(params, environment.procRoot);
  const resolved = environment.support ?? (await cgroupSupport());
  const status = resolved.controllers[controllers[0] as CgroupController];
  const fs = environment.fs;
  const existsIn = {
    exists: (file: string): Promise<boolean> =>
      status.mountPoint === undefined
        ? Promise.resolve(false)
        : (fs ?? nodeCgroupFs).exists(join(status.mountPoint, file)),
  };
  const group = await FaultCgroup.plan({
    controllers,
    pids,
    limits: await limits(status.version ?? 1, existsIn),
    clock: context.clock,
    support: resolved,
    ...(fs === undefined ? {} : { fs }),
    ...(environment.procRoot === undefined ? {} : { procRoot: environment.procRoot }),
  });
  const field = params.pid === undefined ? 'pids' : 'pid';
  const keys = controllers.flatMap((controller) => pids.map((pid) => `${controller}:${pid}`));
  const hold = claim(keys, label, field, (key) => `pid ${key.split(':')[1]}'s ${key.split(':')[0]}`);
  try {
    refuseNested(group, controllers, field, `pid ${pids[0]}`);
  } catch (error) {
    hold.release();
    throw error;
  }
  const entry = await applyWithHeal(
    context,
    `${label} (${group.name})`,
    releasing(hold, () => (heal === undefined ? group.remove() : heal(group))),
    async () => {
      await group.apply();
      context.log?.(`${label}: ${group.name} holds pids ${pids.join(', ')}`);
    },
    cgroupResidues(group, label),
  );
  return { entry, group, pids };
}

/** Limits a target's memory; a process allocating past it is OOM-killed by the kernel. */
export const memoryLimitFault = defineFault<MemoryLimitParams, MemoryLimitInjection>({
  kind: 'resource.memory-limit',
  summary: 'Limits the memory of a process (group) with a cgroup; past it the kernel OOM-kills.',
  validate: validateTarget,
  params: {
    ...targetParams,
    limitMiB: { type: 'number', min: 1, unit: 'MiB', description: 'the memory limit' },
  },
  async apply(params, context) {
    const label = `memory-limit ${params.limitMiB} MiB`;
    let finalCount: number | undefined;
    /** OOM kills so far in `group`; after heal, the count read just before it was removed. */
    const countIn = async (group: FaultCgroup): Promise<number> => {
      if (finalCount !== undefined) return finalCount;
      const v2 = group.versionOf('memory') === 2;
      const counters = (await group.read('memory', v2 ? 'memory.events' : 'memory.oom_control')) ?? '';
      const kills = /^oom_kill (\d+)/m.exec(counters);
      if (kills !== null) return Number(kills[1]);
      if (v2) return 0;
      // Kernels before 4.13 lack the oom_kill counter; a hit limit is the closest evidence.
      return Number((await group.read('memory', 'memory.failcnt')) ?? 0) > 0 ? 1 : 0;
    };
    const { entry, group, pids } = await applyCgroup(
      context,
      label,
      params,
      ['memory'],
      async (version, root) => ({
        memory: await limitFiles('memory', params.limitMiB, version, (file) => root.exists(file)),
      }),
      async (planned) => {
        finalCount = await countIn(planned);
        await planned.remove();
      },
    );
    const count = (): Promise<number> => countIn(group);
    return extendInjection(entry, { cgroup: group.name, pids, oomKills: count });
  },
});

/** Caps a target's CPU time at a share of one core with the CFS bandwidth controller. */
export const cpuQuotaFault = defineFault<CpuQuotaParams, CgroupInjection>({
  kind: 'resource.cpu-quota',
  summary: 'Caps the CPU time of a process (group) at a share of one core (CFS bandwidth).',
  validate: validateTarget,
  params: {
    ...targetParams,
    percentOfOneCore: {
      type: 'number',
      min: 1,
      max: 100 * availableParallelism(),
      unit: '% of one core',
      description: '10 = a tenth of one core; 200 = two full cores (at most 100 × the CPU count)',
    },
  },
  async apply(params, context) {
    const percent = params.percentOfOneCore;
    const label = `cpu-quota ${percent}% of one core`;
    const { entry, group, pids } = await applyCgroup(
      context,
      label,
      params,
      ['cpu'],
      async (version, root) => ({
        cpu: await limitFiles('cpu', percent, version, (file) => root.exists(file)),
      }),
    );
    return extendInjection(entry, { cgroup: group.name, pids });
  },
});

/** Caps how many tasks a target may hold; further fork/clone calls fail with EAGAIN. */
export const pidsLimitFault = defineFault<PidsLimitParams, CgroupInjection>({
  kind: 'resource.pids-limit',
  summary: 'Caps how many tasks a process (group) may hold; further forks fail with EAGAIN.',
  validate: validateTarget,
  params: {
    ...targetParams,
    maxTasks: {
      type: 'number',
      integer: true,
      min: 1,
      unit: 'tasks',
      description: 'most processes and threads the group may hold',
    },
  },
  async apply(params, context) {
    const label = `pids-limit ${params.maxTasks}`;
    const { entry, group, pids } = await applyCgroup(
      context,
      label,
      params,
      ['pids'],
      async (version, root) => ({
        pids: await limitFiles('pids', params.maxTasks, version, (file) => root.exists(file)),
      }),
    );
    return extendInjection(entry, { cgroup: group.name, pids });
  },
});

/** Lowers RLIMIT_NOFILE of a live process; its further opens fail with EMFILE. Heal restores the old limit. */
export const fdLimitFault = defineFault<FdLimitParams, FdLimitInjection>({
  kind: 'resource.fd-limit',
  summary: "Lowers a live process's open-files limit (RLIMIT_NOFILE); further opens fail with EMFILE.",
  params: {
    pid: { ...pidSpec, description: 'the process whose limit is lowered' },
    maxOpenFiles: {
      type: 'number',
      integer: true,
      min: 0,
      unit: 'files',
      description: 'the new limit on open file descriptors',
    },
  },
  async apply(params, context) {
    const { pid, maxOpenFiles: max } = params;
    const label = `fd-limit ${max} on pid ${pid}`;
    const startTime = processStartTime(pid);
    if (startTime === undefined) throw noSuchProcess(pid);
    const { soft, hard } = await readNofile(pid);
    // Raising a hard limit back needs CAP_SYS_RESOURCE; without it lowering the hard limit could never be
    // healed, so only the soft limit (which is what opens are checked against) is lowered.
    const lowersHard = await hasSysResource();
    if (!lowersHard && hard !== 'unlimited' && Number(hard) < max) {
      throw invalid(
        'maxOpenFiles',
        `${max} is above pid ${pid}'s hard limit ${hard}`,
        `an integer <= ${hard}`,
      );
    }
    // A second limit would restore the first one's value when healed first.
    const hold = claim([`nofile:${pid}`], label, 'pid', () => `pid ${pid}'s open-files limit`);
    // Recorded before the limit is lowered; restoring a limit never lowered changes nothing.
    const entry = await applyWithHeal(
      context,
      label,
      releasing(hold, async () => {
        try {
          await writeNofile(pid, { soft, hard });
        } catch (error) {
          // A target that exited holds no limit to restore.
          if (error instanceof FaultlineError && error.code === codes.notFound) return;
          throw error;
        }
      }),
      async () => {
        await writeNofile(pid, { soft: String(max), hard: lowersHard ? String(max) : hard });
        context.log?.(
          `${label} (was ${soft}:${hard}${lowersHard ? '' : '; soft limit only, no CAP_SYS_RESOURCE'})`,
        );
      },
      { kind: 'rlimit', pid, startTime, resource: 'nofile', soft, hard, label },
    );
    return extendInjection(entry, { previous: { soft, hard }, lowersHard });
  },
});
