import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import type { CheckResult } from '../checker/index.js';
import { type Clock, realClock } from '../core/clock.js';
import { openedProcessJournal } from '../core/journal.js';
import {
  environValue,
  findFaultCgroups,
  groupTokenPrefix,
  groupTokenVariable,
  listBoundSockets,
  listProcesses,
  processCommand,
  processLinks,
  socketInodes,
} from '../os/index.js';

/**
 * The hermeticity check: what a run created and still exists after its cleanup is a leak. A snapshot at the
 * start of the run says what was already there; after cleanup, the items that are new and provably the
 * run's are listed. What counts as the run's (other processes on the machine create temp files and
 * sockets too, and must not fail this run):
 * - processes: new since the snapshot, and descendants of this process or carrying this process's
 *   `FAULTLINE_GROUP` token in their environment (which survives a double fork into a new session);
 * - listening TCP and bound UDP sockets: held by a leaked process, or by this process and not at the snapshot;
 * - temp files and dirs: the paths the run names (its run directory), the `file` residues this process's
 *   journal recorded during the run and still holds, and new entries of os.tmpdir() that a leaked process
 *   holds open (its cwd or a descriptor);
 * - cgroups: `faultline-<this pid>-*` under /sys/fs/cgroup, new since the snapshot.
 * Network namespaces and nftables tables join once faultline creates them (src/net has no kernel hosts yet).
 */

/** What existed when the run began. */
export interface HermeticitySnapshot {
  /** pid → start time. */
  readonly processes: ReadonlyMap<number, number>;
  /** The sockets this process held (reading /proc/net/tcp costs ~100 ms with many TIME_WAIT entries). */
  readonly socketInodes: ReadonlySet<number>;
  readonly tempDir: string;
  readonly tempEntries: ReadonlySet<string>;
  readonly cgroups: ReadonlySet<string>;
  /** Journal record ids up to this one were recorded before the run. */
  readonly journalId: number;
}

export interface Leak {
  readonly kind: 'process' | 'socket' | 'temp' | 'cgroup';
  /** "process 1234 (node server.js) still running", "listening socket tcp 127.0.0.1:4567 (pid 1234)", … */
  readonly message: string;
}

export interface HermeticityOptions {
  /** Default os.tmpdir(). */
  readonly tempDir?: string;
  /** Default /sys/fs/cgroup. */
  readonly cgroupRoot?: string;
}

/** At most this many leaks are named (a fork bomb left behind is still one failed check). */
const maxLeaks = 100;

function journalMaxId(): number {
  let max = 0;
  for (const record of openedProcessJournal()?.list() ?? []) max = Math.max(max, record.id);
  return max;
}

function listTemp(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

/** What exists now. Never throws: an unreadable source is an empty one. */
export async function takeSnapshot(options: HermeticityOptions = {}): Promise<HermeticitySnapshot> {
  const tempDir = options.tempDir ?? tmpdir();
  const mine = `faultline-${process.pid}-`;
  const cgroups = (await findFaultCgroups(options.cgroupRoot).catch(() => [] as string[])).filter((path) =>
    basename(path).startsWith(mine),
  );
  return {
    processes: new Map(listProcesses().map((entry) => [entry.pid, entry.startTime])),
    socketInodes: socketInodes(processLinks(process.pid).fds),
    tempDir,
    tempEntries: listTemp(tempDir),
    cgroups: new Set(cgroups),
    journalId: journalMaxId(),
  };
}

/**
 * The run's items that still exist: `owned` are paths the run created itself (its run directory). Sorted by
 * kind then message; at most `maxLeaks`.
 */
export async function findLeaks(
  before: HermeticitySnapshot,
  owned: readonly string[] = [],
  options: HermeticityOptions = {},
): Promise<Leak[]> {
  const leaks: Leak[] = [];
  // Processes: new, and ours by lineage or by the group token the Supervisor gives every target.
  const all = listProcesses();
  const parents = new Map(all.map((entry) => [entry.pid, entry.ppid]));
  const descends = (pid: number): boolean => {
    let at = parents.get(pid);
    for (let depth = 0; at !== undefined && at > 1 && depth < 256; depth++) {
      if (at === process.pid) return true;
      at = parents.get(at);
    }
    return false;
  };
  const prefix = groupTokenPrefix();
  const leaked = all.filter(
    (entry) =>
      entry.pid !== process.pid &&
      before.processes.get(entry.pid) !== entry.startTime &&
      (descends(entry.pid) || (environValue(entry.pid, groupTokenVariable) ?? '').startsWith(prefix)),
  );
  const links = new Map(
    [process.pid, ...leaked.map((entry) => entry.pid)].map((pid) => [pid, processLinks(pid)]),
  );
  for (const entry of leaked) {
    const command = processCommand(entry.pid) ?? '?';
    leaks.push({ kind: 'process', message: `process ${entry.pid} (${command}) still running` });
  }
  // Sockets: held by a leaked process, or by this one and not at the snapshot; /proc/net only read for them.
  const holders = new Map<number, number>();
  for (const [pid, held] of links)
    for (const inode of socketInodes(held.fds))
      if (pid !== process.pid || !before.socketInodes.has(inode)) holders.set(inode, pid);
  for (const socket of holders.size === 0 ? [] : listBoundSockets()) {
    const pid = holders.get(socket.inode);
    if (pid === undefined) continue;
    const what = socket.protocol === 'tcp' ? 'listening socket tcp' : 'bound socket udp';
    leaks.push({ kind: 'socket', message: `${what} ${socket.address} (pid ${pid})` });
  }
  // Temp files and dirs.
  const temps = new Set<string>();
  for (const path of owned) if (existsSync(path)) temps.add(path);
  for (const record of openedProcessJournal()?.list() ?? []) {
    if (record.id <= before.journalId || record.kind !== 'file') continue;
    if (existsSync(record.path)) temps.add(record.path);
  }
  const tempDir = options.tempDir ?? before.tempDir;
  const fresh = [...listTemp(tempDir)].filter((name) => !before.tempEntries.has(name));
  if (fresh.length > 0 && leaked.length > 0) {
    const held = leaked.flatMap(({ pid }) => {
      const link = links.get(pid);
      return link === undefined ? [] : [...(link.cwd === undefined ? [] : [link.cwd]), ...link.fds];
    });
    for (const name of fresh) {
      const path = join(tempDir, name);
      if (held.some((link) => link === path || link.startsWith(`${path}${sep}`))) temps.add(path);
    }
  }
  for (const path of temps) leaks.push({ kind: 'temp', message: `temp path ${path} still exists` });
  // Cgroups of this process, new since the snapshot.
  const mine = `faultline-${process.pid}-`;
  for (const path of await findFaultCgroups(options.cgroupRoot ?? '/sys/fs/cgroup').catch(() => [])) {
    if (basename(path).startsWith(mine) && !before.cgroups.has(path))
      leaks.push({ kind: 'cgroup', message: `cgroup ${path} still exists` });
  }
  const order = ['process', 'socket', 'temp', 'cgroup'];
  leaks.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.message.localeCompare(b.message));
  return leaks.slice(0, maxLeaks);
}

export interface CheckHermeticityOptions extends HermeticityOptions {
  /** Paths the run created itself (its run directory). */
  readonly owned?: readonly string[];
  /** The cleanup phase's duration, reported in the stats. */
  readonly cleanupMs?: number;
  /**
   * How long leaks may take to go (a target's grandchild exits a moment after its group's SIGKILL; a socket
   * closes once its owner is reaped): polled every `intervalMs` until clean or this much time passed.
   * Default 2000 ms.
   */
  readonly graceMs?: number;
  readonly intervalMs?: number;
  /** For the grace polls. Default the real clock: a run on a VirtualClock still waits real time here. */
  readonly clock?: Clock;
}

/**
 * The `hermeticity` check of a run, after its cleanup: valid when nothing the run created survives (after
 * the grace), else invalid with one anomaly per leaked item. Stats: `cleanupMs`, `settleMs` (from the
 * check's start until clean, or the grace spent), `leaks`.
 */
export async function checkHermeticity(
  before: HermeticitySnapshot,
  options: CheckHermeticityOptions = {},
): Promise<CheckResult> {
  const clock = options.clock ?? realClock;
  const graceMs = options.graceMs ?? 2000;
  const intervalMs = options.intervalMs ?? 50;
  const started = clock.now();
  let leaks = await findLeaks(before, options.owned, options);
  // Bounded: at most graceMs / intervalMs polls.
  while (leaks.length > 0 && clock.now() - started < graceMs) {
    await clock.sleep(intervalMs);
    leaks = await findLeaks(before, options.owned, options);
  }
  const stats = {
    ...(options.cleanupMs === undefined ? {} : { cleanupMs: Math.round(options.cleanupMs) }),
    settleMs: Math.round(clock.now() - started),
    leaks: leaks.length,
  };
  const anomalies: CheckResult['anomalies'][number][] = leaks.map((leak) => ({
    type: `leaked-${leak.kind}`,
    message: leak.message,
  }));
  return { checker: 'hermeticity', valid: leaks.length === 0, anomalies, stats };
}
