import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { conflict } from '../core/claims.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { labelled, registerResidueKind, residueFields } from '../core/residue.js';
import {
  type CgroupController,
  type CgroupFs,
  type CgroupSupport,
  cgroupError,
  cgroupSupport,
  errnoOf,
  nodeCgroupFs,
} from './cgroup-support.js';

interface Hierarchy {
  readonly version: 1 | 2;
  readonly mountPoint: string;
  readonly mountRoot: string;
  readonly controllers: CgroupController[];
}

/** The directory of `pid`'s cgroup in `hierarchy`, from /proc/<pid>/cgroup. */
async function cgroupDirOf(
  pid: number,
  hierarchy: Hierarchy,
  fs: CgroupFs,
  procRoot: string,
): Promise<string> {
  const file = join(procRoot, String(pid), 'cgroup');
  let text: string;
  try {
    text = await fs.readFile(file);
  } catch (error) {
    throw new FaultlineError(
      codes.notFound,
      `pid ${pid}: no such process (reading ${file}: ${messageOf(error)})`,
      { cause: error, details: { field: 'pid', pid } },
    );
  }
  for (const line of text.split('\n')) {
    const [id, list, path] = [line.split(':')[0], line.split(':')[1], line.split(':').slice(2).join(':')];
    if (id === undefined || list === undefined || path === '') continue;
    const matches =
      hierarchy.version === 2
        ? id === '0' && list === ''
        : list.split(',').includes(hierarchy.controllers[0] ?? '');
    if (!matches) continue;
    const relative =
      hierarchy.mountRoot !== '/' && path.startsWith(hierarchy.mountRoot)
        ? path.slice(hierarchy.mountRoot.length)
        : path;
    return join(hierarchy.mountPoint, relative);
  }
  throw new FaultlineError(
    codes.unavailable,
    `pid ${pid} is in no cgroup of the hierarchy at ${hierarchy.mountPoint}`,
    { details: { pid } },
  );
}

export interface FaultCgroupOptions {
  readonly controllers: readonly CgroupController[];
  /** The processes to move in at `apply()`; may be empty when processes start inside (`argvInto`). */
  readonly pids: readonly number[];
  /** The process whose cgroup the group is made in (default the first of `pids`). */
  readonly besidePid?: number;
  /** Limit files to write before the pids move in, per controller: file name → value. */
  readonly limits?: Partial<Record<CgroupController, readonly (readonly [file: string, value: string])[]>>;
  readonly clock: Clock;
  readonly support?: CgroupSupport;
  readonly fs?: CgroupFs;
  readonly procRoot?: string;
}

let sequence = 0;

interface Placed {
  readonly hierarchy: Hierarchy;
  readonly parent: string;
  readonly dir: string;
  /** Where each moved pid was, to put it back. */
  readonly origins: Map<number, string>;
  /** Controllers we enabled in the parent's cgroup.subtree_control (v2), to disable again. */
  readonly enabled: CgroupController[];
}

/** How a group freezes: v1's freezer hierarchy, or v2's `cgroup.freeze` in the group itself. */
export type FreezeMechanism = 'cgroup-v1-freezer' | 'cgroup-v2-freeze';

/**
 * A faultline-owned cgroup `faultline-<runpid>-<n>` in every hierarchy the controllers need, in two steps so
 * its residue can be journalled between them: `plan()` works out the directories (touching nothing), `apply()`
 * creates them with their limits and moves the target pids in. `remove()` — safe at any point, even on a
 * group never or half applied — moves every pid still inside back and removes the directories.
 */
export class FaultCgroup {
  private applying: Promise<void> | undefined;
  private removed: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    private readonly placed: readonly Placed[],
    private readonly pids: readonly number[],
    private readonly limits: NonNullable<FaultCgroupOptions['limits']>,
    private readonly fs: CgroupFs,
    private readonly clock: Clock,
    private readonly procRoot: string,
  ) {}

  /** Resolves hierarchies and directories; creates nothing. Throws if a controller is missing or read-only. */
  static async plan(options: FaultCgroupOptions): Promise<FaultCgroup> {
    const fs = options.fs ?? nodeCgroupFs;
    const procRoot = options.procRoot ?? '/proc';
    const support = options.support ?? (await cgroupSupport());
    const hierarchies: Hierarchy[] = [];
    for (const name of options.controllers) {
      const status = support.controllers[name];
      if (!status.available || status.mountPoint === undefined || status.version === undefined) {
        throw new FaultlineError(
          codes.unavailable,
          `cgroups unavailable: ${status.reason ?? `no ${name} controller`}`,
          { details: { controller: name } },
        );
      }
      if (!status.writable) {
        throw new FaultlineError(codes.permission, status.reason ?? `not permitted: ${status.mountPoint}`, {
          details: { controller: name, path: status.mountPoint },
        });
      }
      const same = hierarchies.find((h) => h.mountPoint === status.mountPoint);
      if (same !== undefined) same.controllers.push(name);
      else
        hierarchies.push({
          version: status.version,
          mountPoint: status.mountPoint,
          mountRoot: status.mountRoot ?? '/',
          controllers: [name],
        });
    }
    const first = options.besidePid ?? options.pids[0];
    if (first === undefined) throw new FaultlineError(codes.invalidArgument, 'pids: no process to limit');
    const name = `faultline-${process.pid}-${++sequence}`;
    const placed: Placed[] = [];
    for (const hierarchy of hierarchies) {
      const parent = await cgroupDirOf(first, hierarchy, fs, procRoot);
      placed.push({ hierarchy, parent, dir: join(parent, name), origins: new Map(), enabled: [] });
    }
    return new FaultCgroup(
      name,
      placed,
      [...options.pids],
      options.limits ?? {},
      fs,
      options.clock,
      procRoot,
    );
  }

  /** Every directory of the group with the group it sits in: the residue to journal before `apply`. */
  dirs(): { path: string; parentPath: string }[] {
    return this.placed.map((place) => ({ path: place.dir, parentPath: place.parent }));
  }

  /**
   * `argv` as it must be spawned to run inside the group from its first instruction: /bin/sh writes its own
   * pid into each directory's cgroup.procs, then execs `argv` (same pid), so the process and everything it
   * forks are limited. Call after `apply()`. A failed write exits 125 before `argv` runs.
   */
  argvInto(argv: readonly string[]): string[] {
    const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
    const procs = this.placed.map((place) => join(place.dir, 'cgroup.procs'));
    return ['/bin/sh', '-c', script, 'faultline-cgroup', ...procs, '--', ...argv];
  }

  /** The group's directory holding `controller`. */
  dirOf(controller: CgroupController): string {
    return this.placeOf(controller).dir;
  }

  versionOf(controller: CgroupController): 1 | 2 {
    return this.placeOf(controller).hierarchy.version;
  }

  async read(controller: CgroupController, file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(join(this.dirOf(controller), file));
    } catch {
      return undefined;
    }
  }

  /** Creates the directories, writes the limits, moves the pids in. Once only; refused after `remove()`. */
  apply(): Promise<void> {
    if (this.removed !== undefined) {
      return Promise.reject(
        new FaultlineError(codes.aborted, `cgroup ${this.name} was removed before applied`),
      );
    }
    this.applying ??= this.applyAll();
    return this.applying;
  }

  /** Freezes every task in the group and waits until the kernel says all are frozen (bounded). */
  async freeze(): Promise<FreezeMechanism> {
    const place = this.placeOf('freezer');
    const v1 = place.hierarchy.version === 1;
    const [file, value] = v1 ? ['freezer.state', 'FROZEN'] : ['cgroup.freeze', '1'];
    const path = join(place.dir, file);
    try {
      await this.fs.writeFile(path, value);
    } catch (error) {
      throw cgroupError('writing', path, error);
    }
    // Freezing is asynchronous (FREEZING until every task has stopped). Bounded: 200 polls, ~2 s.
    for (let i = 0; i < 200; i++) {
      const state = v1
        ? (await this.fs.readFile(path)).trim() === 'FROZEN'
        : /^frozen 1$/m.test(await this.fs.readFile(join(place.dir, 'cgroup.events')));
      if (state) return v1 ? 'cgroup-v1-freezer' : 'cgroup-v2-freeze';
      await this.clock.sleep(10);
    }
    throw new FaultlineError(codes.unavailable, `cgroup ${place.dir} did not reach frozen within 200 polls`);
  }

  /** Moves every pid back where it came from (children born inside go to the parent) and removes the group. */
  remove(): Promise<void> {
    this.removed ??= (async () => {
      // A heal racing the inject (say, a drain on SIGTERM) must not remove before the mkdir it would miss.
      await this.applying?.catch(() => {});
      await this.removeAll();
    })();
    return this.removed;
  }

  private placeOf(controller: CgroupController): Placed {
    const place = this.placed.find((p) => p.hierarchy.controllers.includes(controller));
    if (place === undefined) throw new Error(`no ${controller} hierarchy in cgroup ${this.name}`);
    return place;
  }

  private async applyAll(): Promise<void> {
    for (const place of this.placed) {
      if (place.hierarchy.version === 2) await enableControllers(place, this.fs);
      try {
        await this.fs.mkdir(place.dir);
      } catch (error) {
        throw cgroupError('creating', place.dir, error);
      }
      for (const controller of place.hierarchy.controllers) {
        for (const [file, value] of this.limits[controller] ?? []) {
          const path = join(place.dir, file);
          try {
            await this.fs.writeFile(path, value);
          } catch (error) {
            throw cgroupError('writing', path, error);
          }
        }
      }
      for (const pid of this.pids) {
        const origin = await cgroupDirOf(pid, place.hierarchy, this.fs, this.procRoot);
        const procs = join(place.dir, 'cgroup.procs');
        place.origins.set(pid, origin);
        try {
          await this.fs.writeFile(procs, String(pid));
        } catch (error) {
          if (errnoOf(error) === 'ESRCH') {
            throw new FaultlineError(
              codes.notFound,
              `pid ${pid} exited before it could be moved into ${place.dir}`,
              { cause: error, details: { pid } },
            );
          }
          throw cgroupError('writing', procs, error);
        }
      }
    }
  }

  private async removeAll(): Promise<void> {
    const failures: string[] = [];
    for (const place of [...this.placed].reverse()) {
      failures.push(
        ...(await removeGroupDir({
          fs: this.fs,
          clock: this.clock,
          dir: place.dir,
          parent: place.parent,
          origins: place.origins,
        })),
      );
      await disableControllers(place, this.fs, failures);
    }
    if (failures.length > 0) {
      throw new FaultlineError(
        codes.healFailed,
        `cgroup ${this.name} not fully removed: ${failures.join('; ')}`,
      );
    }
  }
}

async function thawDir(fs: CgroupFs, dir: string): Promise<void> {
  for (const [file, value] of [
    ['freezer.state', 'THAWED'],
    ['cgroup.freeze', '0'],
  ] as const) {
    const path = join(dir, file);
    if (!(await fs.exists(path))) continue;
    try {
      await fs.writeFile(path, value);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw cgroupError('writing', path, error);
    }
  }
}

async function pidsIn(fs: CgroupFs, dir: string): Promise<number[]> {
  try {
    return (await fs.readFile(join(dir, 'cgroup.procs')))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Thaws `dir`, moves its pids to their `origins` (else to `parent`) and removes it, retrying while the kernel
 * reports it busy. A directory that does not exist (never made, or already removed) is fine. Returns what
 * could not be done, empty when the group is gone. The one removal path, for heals and for cleanup alike.
 */
export async function removeGroupDir(options: {
  readonly dir: string;
  readonly parent: string;
  readonly origins?: ReadonlyMap<number, string>;
  readonly fs?: CgroupFs;
  readonly clock?: Clock;
}): Promise<string[]> {
  const { dir, parent } = options;
  const fs = options.fs ?? nodeCgroupFs;
  const clock = options.clock ?? realClock;
  if (!(await fs.exists(dir))) return [];
  const failures: string[] = [];
  // A frozen task moved out of a v1 freezer group may stay frozen, and would not even die: thaw first.
  try {
    await thawDir(fs, dir);
  } catch (error) {
    failures.push(messageOf(error));
  }
  // Bounded: a group that keeps gaining pids (a fork bomb under no pids limit) gives up after 50 rounds.
  for (let round = 0; round < 50; round++) {
    const pids = await pidsIn(fs, dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      const target = options.origins?.get(pid) ?? parent;
      try {
        await fs.writeFile(join(target, 'cgroup.procs'), String(pid));
      } catch (error) {
        if (errnoOf(error) === 'ESRCH') continue;
        // The origin may have vanished; the parent always exists while our group does.
        try {
          await fs.writeFile(join(parent, 'cgroup.procs'), String(pid));
        } catch (again) {
          if (errnoOf(again) !== 'ESRCH')
            failures.push(`moving pid ${pid} out of ${dir}: ${messageOf(again)}`);
        }
      }
    }
  }
  // rmdir is refused (EBUSY) until exiting tasks have left; retry for up to ~5 s.
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rmdir(dir);
      return failures;
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return failures;
      if (attempt >= 100) return [...failures, `removing ${dir}: ${messageOf(error)}`];
      await clock.sleep(50);
    }
  }
}

/** v2: a child group gets a controller only if its parent enables it in cgroup.subtree_control. */
async function enableControllers(place: Placed, fs: CgroupFs): Promise<void> {
  const path = join(place.parent, 'cgroup.subtree_control');
  let current: string[] = [];
  try {
    current = (await fs.readFile(path)).trim().split(/\s+/);
  } catch {
    current = [];
  }
  // cgroup.freeze is in every v2 group: the freezer is not a controller to enable.
  const missing = place.hierarchy.controllers.filter((c) => c !== 'freezer' && !current.includes(c));
  if (missing.length === 0) return;
  try {
    await fs.writeFile(path, missing.map((c) => `+${c}`).join(' '));
  } catch (error) {
    if (errnoOf(error) === 'EBUSY') {
      throw new FaultlineError(
        codes.unavailable,
        `cgroup v2: cannot enable ${missing.join(', ')} in ${path}: EBUSY (the parent group holds processes itself; cgroup v2 allows controllers only below groups without processes — start the target in its own cgroup)`,
        { cause: error, details: { path } },
      );
    }
    throw cgroupError('writing', path, error);
  }
  place.enabled.push(...missing);
}

async function disableControllers(place: Placed, fs: CgroupFs, failures: string[]): Promise<void> {
  if (place.enabled.length === 0) return;
  const path = join(place.parent, 'cgroup.subtree_control');
  try {
    await fs.writeFile(path, place.enabled.map((c) => `-${c}`).join(' '));
  } catch (error) {
    // Another child group may still use the controller (EBUSY): leaving it enabled limits nothing.
    if (errnoOf(error) !== 'EBUSY') failures.push(`writing ${path}: ${messageOf(error)}`);
  }
  place.enabled.length = 0;
}

const MiB = 1024 * 1024;

/**
 * The files (name, value) that set one limit in a group of a `version` hierarchy — memory in MiB, cpu in
 * percent of one core, pids in tasks. `rootHas(file)` says whether the hierarchy offers an optional file (v1's
 * swap limit). The one translation of limits to cgroup files, for resource faults and limited targets alike.
 */
export async function limitFiles(
  controller: Exclude<CgroupController, 'freezer'>,
  value: number,
  version: 1 | 2,
  rootHas: (file: string) => Promise<boolean>,
): Promise<(readonly [string, string])[]> {
  switch (controller) {
    case 'memory': {
      const bytes = String(Math.floor(value * MiB));
      if (version === 2) return [['memory.max', bytes]];
      // Without a swap limit the kernel would swap the target instead of killing it.
      const memsw = (await rootHas('memory.memsw.limit_in_bytes'))
        ? [['memory.memsw.limit_in_bytes', bytes] as const]
        : [];
      return [['memory.limit_in_bytes', bytes], ...memsw, ['memory.oom_control', '0']];
    }
    case 'cpu': {
      const periodUs = 100_000;
      const quotaUs = Math.round((value / 100) * periodUs);
      return version === 2
        ? [['cpu.max', `${quotaUs} ${periodUs}`]]
        : [
            ['cpu.cfs_period_us', String(periodUs)],
            ['cpu.cfs_quota_us', String(quotaUs)],
          ];
    }
    case 'pids':
      return [['pids.max', String(value)]];
  }
}

/** Every directory named faultline-* in the mounted hierarchies (for cleanup checks), to `depth` levels. */
export async function findFaultCgroups(root = '/sys/fs/cgroup', depth = 6): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    if (level > depth) return;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('faultline-')) found.push(path);
      await walk(path, level + 1);
    }
  };
  await walk(root, 0);
  return found;
}

declare module '../core/residue.js' {
  interface ResidueShapes {
    /** Thaw, move its pids to the parent, rmdir. Journalled before the group is made: it may not exist. */
    cgroup: { path: string; parentPath?: string };
  }
}

/** The residues of a planned group, one per directory: journal them before `apply()`. */
export function cgroupResidues(
  group: FaultCgroup,
  label?: string,
): { kind: 'cgroup'; path: string; parentPath: string; label?: string }[] {
  return group.dirs().map((dir) => ({ kind: 'cgroup', ...dir, ...(label === undefined ? {} : { label }) }));
}

registerResidueKind({
  kind: 'cgroup',
  validate: (record) =>
    residueFields.first(
      residueFields.string(record, 'path'),
      residueFields.string(record, 'parentPath', true),
      typeof record.path === 'string' && !record.path.startsWith('/')
        ? `path: expected an absolute path, got ${JSON.stringify(record.path)}`
        : undefined,
    ),
  describe: (residue) => `cgroup ${residue.path}${labelled(residue.label)}`,
  async undo(residue, { dryRun }) {
    const { path } = residue;
    // Only faultline's own groups: a tampered journal must not move processes out of someone else's.
    if (!basename(path).startsWith('faultline-')) {
      return { done: false, line: `refused to remove cgroup ${path}: not a faultline-* group` };
    }
    if (!(await nodeCgroupFs.exists(path)))
      return { done: true, gone: true, line: `cgroup ${path} already removed` };
    const parent = residue.parentPath ?? join(path, '..');
    if (dryRun) {
      const pids = await pidsIn(nodeCgroupFs, path);
      return { done: true, line: `would remove cgroup ${path} (${pids.length} pid(s) back to ${parent})` };
    }
    const failures = await removeGroupDir({ dir: path, parent });
    return failures.length === 0
      ? { done: true, line: `removed cgroup ${path}` }
      : { done: false, line: `could not remove cgroup ${path}: ${failures.join('; ')}` };
  },
});

/**
 * Refuses a group whose pids already sit in a faultline group of one of `controllers` (a fault of another run,
 * or one this process no longer tracks). Only cgroup v1 hierarchies are checked: in v2 every controller shares
 * one tree, so a pid in another kind's group is no clash.
 */
export function refuseNested(
  group: FaultCgroup,
  controllers: readonly CgroupController[],
  field: string,
  whom: string,
): void {
  for (const controller of controllers) {
    if (group.versionOf(controller) !== 1) continue;
    const parent = dirname(group.dirOf(controller));
    if (basename(parent).startsWith('faultline-')) {
      throw conflict(
        field,
        `${whom} is already in faultline's ${controller} cgroup ${parent}; heal that fault first`,
      );
    }
  }
}
