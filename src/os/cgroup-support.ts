import { constants } from 'node:fs';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';

/**
 * The controllers faults use. `freezer` is the v1 freezer hierarchy, or on v2 the `cgroup.freeze` file every
 * non-root group has (no controller to enable).
 */
export type CgroupController = 'memory' | 'cpu' | 'pids' | 'freezer';
export const cgroupControllers: readonly CgroupController[] = ['memory', 'cpu', 'pids', 'freezer'];

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
    return { version: 'none', controllers: { memory: none, cpu: none, pids: none, freezer: none }, reason };
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
        : v2 !== undefined && (v2Controllers.includes(name) || name === 'freezer')
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
  // The freezer alone (v2's cgroup.freeze comes with any cgroup2 mount) does not make a usable hierarchy.
  const limiting = cgroupControllers.filter((name) => name !== 'freezer');
  const versions = new Set(limiting.map((name) => controllers[name].version).filter((v) => v));
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

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Wraps a failed cgroup file operation in an error that says what was refused and what to do. */
export function cgroupError(action: string, path: string, error: unknown): FaultlineError {
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
