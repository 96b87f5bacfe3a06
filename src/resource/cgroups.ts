import { constants, type Dirent } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';

/** The controllers resource faults use. */
export type CgroupController = 'memory' | 'cpu' | 'pids';
export const cgroupControllers: readonly CgroupController[] = ['memory', 'cpu', 'pids'];

export interface ControllerSupport {
  readonly available: boolean;
  readonly version?: 1 | 2;
  /** Where the hierarchy holding this controller is mounted. */
  readonly mountPoint?: string;
  /** The hierarchy path seen at the mount point (not `/` inside a cgroup namespace). */
  readonly mountRoot?: string;
  readonly writable: boolean;
  /** Why it is unavailable or not writable, in words a person can act on. */
  readonly reason?: string;
}

export interface CgroupSupport {
  readonly version: 1 | 2 | 'none';
  readonly controllers: Readonly<Record<CgroupController, ControllerSupport>>;
  readonly reason?: string;
}

export interface CgroupProbeOptions {
  /** Defaults to /proc/self/mountinfo; tests point it at a fake. */
  readonly mountinfoPath?: string;
}

interface Mount {
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const left = line.slice(0, separator).split(' ');
    const right = line.slice(separator + 3).split(' ');
    const root = left[3];
    const mountPoint = left[4];
    const fsType = right[0];
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    mounts.push({
      root: unescapeMount(root),
      mountPoint: unescapeMount(mountPoint),
      fsType,
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return mounts;
}

async function writableReason(path: string): Promise<string | undefined> {
  try {
    await access(path, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    return `not permitted: writing ${path}: ${code}; run as root on a read-write cgroup mount`;
  }
}

/** Detects cgroup v1 (a mount per controller) or v2 (unified), which controllers exist and if we may write. */
export async function cgroupSupport(options: CgroupProbeOptions = {}): Promise<CgroupSupport> {
  const mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
  let mounts: Mount[];
  try {
    mounts = parseMountinfo(await readFile(mountinfoPath, 'utf8'));
  } catch (error) {
    const reason = `cannot read ${mountinfoPath}: ${messageOf(error)} (cgroups need Linux)`;
    const none: ControllerSupport = { available: false, writable: false, reason };
    return { version: 'none', controllers: { memory: none, cpu: none, pids: none }, reason };
  }
  const v2 = mounts.find((mount) => mount.fsType === 'cgroup2');
  let v2Controllers: string[] = [];
  if (v2 !== undefined) {
    try {
      v2Controllers = (await readFile(join(v2.mountPoint, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
    } catch {
      v2Controllers = [];
    }
  }
  const controllers = {} as Record<CgroupController, ControllerSupport>;
  for (const name of cgroupControllers) {
    const v1 = mounts.find((mount) => mount.fsType === 'cgroup' && mount.superOptions.includes(name));
    // A controller on a v1 mount wins: hybrid systems drive those through v1.
    const found =
      v1 !== undefined
        ? { version: 1 as const, mount: v1 }
        : v2 !== undefined && v2Controllers.includes(name)
          ? { version: 2 as const, mount: v2 }
          : undefined;
    if (found !== undefined) {
      const reason = await writableReason(found.mount.mountPoint);
      controllers[name] = {
        available: true,
        version: found.version,
        mountPoint: found.mount.mountPoint,
        mountRoot: found.mount.root,
        writable: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
      };
    } else {
      const where =
        v2 === undefined
          ? `cgroup v1 ${name} controller not mounted at /sys/fs/cgroup/${name} and no cgroup v2 hierarchy is mounted`
          : `cgroup v1 ${name} controller not mounted at /sys/fs/cgroup/${name}, and the cgroup v2 hierarchy at ${v2.mountPoint} does not offer it (cgroup.controllers: "${v2Controllers.join(' ')}")`;
      controllers[name] = { available: false, writable: false, reason: where };
    }
  }
  const versions = new Set(cgroupControllers.map((name) => controllers[name].version).filter((v) => v));
  if (versions.size === 0) {
    return {
      version: 'none',
      controllers,
      reason: `no cgroup hierarchy with the memory, cpu or pids controller is mounted (read ${mountinfoPath})`,
    };
  }
  // A hybrid system (some controllers on v1) is driven through v1.
  return { version: versions.has(1) ? 1 : 2, controllers };
}

/** The file operations a fault cgroup performs; tests substitute a temp-directory layout. */
export interface CgroupFs {
  readFile(path: string): Promise<string>;
  writeFile(path: string, data: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeCgroupFs: CgroupFs = {
  readFile: (path) => readFile(path, 'utf8'),
  writeFile: (path, data) => writeFile(path, data),
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  exists: async (path) => {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  },
};

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Wraps a failed cgroup file operation in an error that says what was refused and what to do. */
function cgroupError(action: string, path: string, error: unknown): FaultlineError {
  const errno = errnoOf(error) ?? messageOf(error);
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS') {
    return new FaultlineError(codes.permission, `not permitted: ${action} ${path}: ${errno}; run as root`, {
      cause: error,
      details: { path },
    });
  }
  if (errno === 'ENOENT') {
    return new FaultlineError(codes.unavailable, `cgroup file missing: ${action} ${path}: ENOENT`, {
      cause: error,
      details: { path },
    });
  }
  return new FaultlineError(codes.unavailable, `${action} ${path} failed: ${errno}`, {
    cause: error,
    details: { path },
  });
}

/** All live pids whose process group is `pgid`, read from /proc/<pid>/stat. */
export async function processGroupPids(pgid: number, procRoot = '/proc'): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await statFields(Number(name), procRoot);
    if (stat?.pgrp === pgid) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}

/** Fields of /proc/<pid>/stat after the command name, or undefined when the process is gone. */
export async function statFields(
  pid: number,
  procRoot = '/proc',
): Promise<{ state: string; pgrp: number; utimeTicks: number; stimeTicks: number } | undefined> {
  let text: string;
  try {
    text = await readFile(join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses; the fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: rest[0] ?? '?',
    pgrp: Number(rest[2]),
    utimeTicks: Number(rest[11]),
    stimeTicks: Number(rest[12]),
  };
}

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
      {
        cause: error,
        details: { field: 'pid', pid },
      },
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
    {
      details: { pid },
    },
  );
}

export interface FaultCgroupOptions {
  readonly controllers: readonly CgroupController[];
  readonly pids: readonly number[];
  /** Limit files to write before the pids move in, per controller: file name → value. */
  readonly limits: Partial<Record<CgroupController, readonly (readonly [file: string, value: string])[]>>;
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
  created: boolean;
}

/**
 * A faultline-owned cgroup `faultline-<runpid>-<n>` in every hierarchy the controllers need. Created with its
 * limits, then the target pids move in; `remove()` moves every pid still inside back and removes the group.
 */
export class FaultCgroup {
  private removed: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    private readonly placed: Placed[],
    private readonly fs: CgroupFs,
    private readonly clock: Clock,
  ) {}

  /** The group's directory holding `controller`. */
  dirOf(controller: CgroupController): string {
    const place = this.placed.find((p) => p.hierarchy.controllers.includes(controller));
    if (place === undefined) throw new Error(`no ${controller} hierarchy in this group`);
    return place.dir;
  }

  /** Every directory of the group with the group it sits in, for the run journal. */
  dirs(): { path: string; parentPath: string }[] {
    return this.placed.map((place) => ({ path: place.dir, parentPath: place.parent }));
  }

  versionOf(controller: CgroupController): 1 | 2 {
    const place = this.placed.find((p) => p.hierarchy.controllers.includes(controller));
    return place?.hierarchy.version ?? 1;
  }

  async read(controller: CgroupController, file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(join(this.dirOf(controller), file));
    } catch {
      return undefined;
    }
  }

  static async create(options: FaultCgroupOptions): Promise<FaultCgroup> {
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
          {
            details: { controller: name },
          },
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
    const name = `faultline-${process.pid}-${++sequence}`;
    const placed: Placed[] = [];
    const group = new FaultCgroup(name, placed, fs, options.clock);
    try {
      for (const hierarchy of hierarchies) {
        const first = options.pids[0];
        if (first === undefined) throw new FaultlineError(codes.invalidArgument, 'pids: no process to limit');
        const parent = await cgroupDirOf(first, hierarchy, fs, procRoot);
        const place: Placed = {
          hierarchy,
          parent,
          dir: join(parent, name),
          origins: new Map(),
          enabled: [],
          created: false,
        };
        placed.push(place);
        if (hierarchy.version === 2) await enableControllers(place, fs);
        try {
          await fs.mkdir(place.dir);
        } catch (error) {
          throw cgroupError('creating', place.dir, error);
        }
        place.created = true;
        for (const controller of hierarchy.controllers) {
          for (const [file, value] of options.limits[controller] ?? []) {
            const path = join(place.dir, file);
            try {
              await fs.writeFile(path, value);
            } catch (error) {
              throw cgroupError('writing', path, error);
            }
          }
        }
        for (const pid of options.pids) {
          const origin = await cgroupDirOf(pid, hierarchy, fs, procRoot);
          const procs = join(place.dir, 'cgroup.procs');
          try {
            await fs.writeFile(procs, String(pid));
          } catch (error) {
            if (errnoOf(error) === 'ESRCH') {
              throw new FaultlineError(
                codes.notFound,
                `pid ${pid} exited before it could be moved into ${place.dir}`,
                {
                  cause: error,
                  details: { pid },
                },
              );
            }
            throw cgroupError('writing', procs, error);
          }
          place.origins.set(pid, origin);
        }
      }
    } catch (error) {
      // Nothing half-made survives a refusal: pids go back, directories go.
      await group.remove().catch(() => {});
      throw error;
    }
    return group;
  }

  /** Moves every pid back where it came from (children born inside go to the parent) and removes the group. */
  remove(): Promise<void> {
    this.removed ??= this.removeAll();
    return this.removed;
  }

  private async removeAll(): Promise<void> {
    const failures: string[] = [];
    for (const place of [...this.placed].reverse()) {
      if (!place.created) {
        await this.disableControllers(place, failures);
        continue;
      }
      // Bounded: a group that keeps gaining pids (a fork bomb under no pids limit) gives up after 50 rounds.
      for (let round = 0; round < 50; round++) {
        const pids = await this.pidsIn(place.dir);
        if (pids.length === 0) break;
        for (const pid of pids) {
          const target = place.origins.get(pid) ?? place.parent;
          try {
            await this.fs.writeFile(join(target, 'cgroup.procs'), String(pid));
          } catch (error) {
            if (errnoOf(error) === 'ESRCH') continue;
            // The origin may have vanished; the parent always exists while our group does.
            try {
              await this.fs.writeFile(join(place.parent, 'cgroup.procs'), String(pid));
            } catch (again) {
              if (errnoOf(again) !== 'ESRCH')
                failures.push(`moving pid ${pid} out of ${place.dir}: ${messageOf(again)}`);
            }
          }
        }
      }
      let lastError: unknown;
      let gone = false;
      // rmdir is refused (EBUSY) until exiting tasks have left; retry for up to ~5 s.
      for (let attempt = 0; attempt < 100 && !gone; attempt++) {
        try {
          await this.fs.rmdir(place.dir);
          gone = true;
        } catch (error) {
          if (errnoOf(error) === 'ENOENT') gone = true;
          else {
            lastError = error;
            await this.clock.sleep(50);
          }
        }
      }
      if (!gone) failures.push(`removing ${place.dir}: ${messageOf(lastError)}`);
      await this.disableControllers(place, failures);
    }
    if (failures.length > 0) {
      throw new FaultlineError(
        codes.healFailed,
        `cgroup ${this.name} not fully removed: ${failures.join('; ')}`,
      );
    }
  }

  private async pidsIn(dir: string): Promise<number[]> {
    try {
      const text = await this.fs.readFile(join(dir, 'cgroup.procs'));
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(Number);
    } catch {
      return [];
    }
  }

  private async disableControllers(place: Placed, failures: string[]): Promise<void> {
    if (place.enabled.length === 0) return;
    const path = join(place.parent, 'cgroup.subtree_control');
    try {
      await this.fs.writeFile(path, place.enabled.map((c) => `-${c}`).join(' '));
    } catch (error) {
      // Another child group may still use the controller (EBUSY): leaving it enabled limits nothing.
      if (errnoOf(error) !== 'EBUSY') failures.push(`writing ${path}: ${messageOf(error)}`);
    }
    place.enabled.length = 0;
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
  const missing = place.hierarchy.controllers.filter((c) => !current.includes(c));
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
