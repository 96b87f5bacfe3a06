import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalid, requireNumber, requireObject, requireOneOf, requireString } from '../core/assert.js';
import { type Clock, realClock, type TimerHandle } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { type Journal, journalFor } from '../core/journal.js';
import { offTermination, onTermination } from '../core/termination.js';
import {
  findExecutable,
  groupTokenVariable,
  isAlive,
  newGroupToken,
  processGroupResidue,
  requireSignal,
  type SignalName,
  signalGroup,
  withDeathSignal,
} from '../os/index.js';
import { type LogStream, type Probe, requireArgv } from './probes.js';
import { waitFor } from './recovery.js';

export type RestartPolicy =
  | 'never'
  | {
      policy: 'on-failure' | 'always';
      /** First delay before a restart (default 100 ms); doubles per consecutive restart. */
      backoffMs?: number;
      /** Cap on the delay (default 5 s). A run that lasted this long resets the back-off. */
      maxBackoffMs?: number;
      /** Give up after this many policy restarts (default unlimited). */
      maxRestarts?: number;
    };

export interface TargetSpec {
  name: string;
  /** `[file, ...args]`, spawned without a shell. */
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where `<name>.stdout.log` / `<name>.stderr.log` go; default the supervisor's temp dir. */
  logDir?: string;
  /** Per stream; past it the log rotates to `.1`, so at most twice this is kept (default 8 MiB). */
  maxLogBytes?: number;
  /** Readiness; a function gets the target, e.g. to watch its log: `(t) => logProbe({ target: t, … })`. */
  ready?: Probe | ((target: Target) => Probe);
  /** Default 10 s. */
  readyTimeoutMs?: number;
  /** Pause between readiness checks (default 50 ms). */
  readyIntervalMs?: number;
  /** Aborting it ends a wait for readiness at once: the start fails (FL_ERR_ABORTED), the process stopped. */
  readySignal?: AbortSignal;
  restart?: RestartPolicy;
  /**
   * Wraps `argv` for every launch, to start the process through something that prepares it first (a cgroup's
   * `argvInto`: it runs limited from its first instruction). Not used when argv[0] cannot be found, so a
   * missing program still fails the start with its own ENOENT.
   */
  launchThrough?: (argv: readonly string[]) => readonly string[];
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StopResult {
  /** What ended it; 'not-running' when it had already exited. */
  readonly endedBy: 'SIGTERM' | 'SIGKILL' | 'not-running';
  /** From the SIGTERM to the exit. */
  readonly afterMs: number;
}

/** How long `stop` (and the faults that stop a target) wait after SIGTERM before SIGKILL, by default. */
export const defaultGraceMs = 5000;

/** The exit `exited` settles with if it does within `timeoutMs` of `clock` time, else undefined. */
export async function exitWithin(
  clock: Clock,
  exited: Promise<ExitInfo>,
  timeoutMs: number,
): Promise<ExitInfo | undefined> {
  const controller = new AbortController();
  try {
    return await Promise.race([
      exited,
      clock.sleep(timeoutMs, controller.signal).then(
        () => undefined,
        () => undefined,
      ),
    ]);
  } finally {
    controller.abort();
  }
}

const defaultMaxLogBytes = 8 * 1024 * 1024;
/** How long to wait for a dead target's pipes to flush before reading its stderr for an error message. */
const drainMs = 500;

/** Appends a stream to a file, rotating to `<file>.1` past `maxBytes`: never more than 2×maxBytes on disk. */
class BoundedLog {
  private fd: number;
  private bytes: number;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(path, 'a');
    this.bytes = statSync(path).size;
  }

  write(chunk: Buffer): void {
    if (this.fd < 0) return;
    let data = chunk;
    if (this.bytes + data.length > this.maxBytes) {
      closeSync(this.fd);
      renameSync(this.path, `${this.path}.1`);
      this.fd = openSync(this.path, 'w');
      this.bytes = 0;
      if (data.length > this.maxBytes) data = data.subarray(data.length - this.maxBytes);
    }
    writeSync(this.fd, data);
    this.bytes += data.length;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The last `lines` lines of a file (reads at most its last 4 KiB). */
export function tailLines(file: string, lines = 10): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 4096);
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

interface TargetEvents {
  exit: [ExitInfo];
  start: [number];
}

/** One supervised process (a process-group leader) and its restarts. */
export class Target {
  readonly name: string;
  /** The current (or last) run's pid; also its process-group id. */
  pid = 0;
  /** /proc/<pid>/stat start time of the current run (clock ticks since boot): pid-reuse safety. */
  startTime: number | undefined;
  running = false;
  exitCode: number | null | undefined;
  exitSignal: NodeJS.Signals | null | undefined;
  /** Runs after the first: by policy, `restart()` or a heal. */
  restarts = 0;

  private readonly emitter = new EventEmitter<TargetEvents>();
  private readonly logs: Record<LogStream, BoundedLog>;
  private readonly policy: Exclude<RestartPolicy, 'never'> | undefined;
  private readonly groups = new Set<number>();
  /** Journal record of each process group still ours, by pgid. */
  private readonly recorded = new Map<number, number>();
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  private startedAt = 0;
  private stopping = false;
  private armed = false;
  private consecutive = 0;
  private restartTimer: TimerHandle | undefined;
  private pending: { promise: Promise<void>; cancel: () => void } | undefined;
  /** Why the last policy restart failed, if it did. */
  lastRestartError: unknown;

  /** @internal use Supervisor.start */
  constructor(
    readonly spec: TargetSpec,
    private readonly clock: Clock,
    logDir: string,
    private readonly journal?: Journal,
  ) {
    this.name = spec.name;
    const maxBytes = spec.maxLogBytes ?? defaultMaxLogBytes;
    this.logs = {
      stdout: new BoundedLog(join(logDir, `${spec.name}.stdout.log`), maxBytes),
      stderr: new BoundedLog(join(logDir, `${spec.name}.stderr.log`), maxBytes),
    };
    this.policy = spec.restart === undefined || spec.restart === 'never' ? undefined : spec.restart;
  }

  on<E extends keyof TargetEvents>(event: E, listener: (...args: TargetEvents[E]) => void): this {
    this.emitter.on(event, listener as never);
    return this;
  }

  off<E extends keyof TargetEvents>(event: E, listener: (...args: TargetEvents[E]) => void): this {
    this.emitter.off(event, listener as never);
    return this;
  }

  logFile(stream: LogStream): string {
    return this.logs[stream].path;
  }

  /** Resolves when the current run exits (at once if it already has). */
  waitForExit(): Promise<ExitInfo> {
    return this.exited;
  }

  /** Whether the target's own restart policy will bring it back after it dies. */
  get selfRestarts(): boolean {
    if (this.policy === undefined || this.stopping) return false;
    return this.policy.maxRestarts === undefined || this.restarts < this.policy.maxRestarts;
  }

  /** Sends `signal` to the target's whole process group. */
  signal(signal: SignalName): void {
    requireSignal(signal);
    if (!this.running || !signalGroup(this.pid, signal)) {
      throw new FaultlineError(
        codes.processFailed,
        `target "${this.name}" is not running; cannot send ${signal}`,
        {
          details: { target: this.name },
        },
      );
    }
  }

  /**
   * SIGTERM to the group, then SIGKILL after `graceMs`; stragglers in the group are killed too.
   * Disables the restart policy until the next start.
   */
  async stop(options: { graceMs?: number } = {}): Promise<StopResult> {
    const graceMs = requireNumber(options.graceMs ?? defaultGraceMs, 'graceMs', { min: 0 });
    this.stopping = true;
    this.cancelPending();
    if (!this.running) {
      this.killStragglers();
      return { endedBy: 'not-running', afterMs: 0 };
    }
    const exited = this.exited;
    const begin = this.clock.now();
    signalGroup(this.pid, 'SIGTERM');
    signalGroup(this.pid, 'SIGCONT'); // a stopped process only acts on SIGTERM once continued
    const inTime = (await exitWithin(this.clock, exited, graceMs)) !== undefined;
    let endedBy: 'SIGTERM' | 'SIGKILL' = 'SIGTERM';
    if (!inTime) {
      endedBy = 'SIGKILL';
      signalGroup(this.pid, 'SIGKILL');
      await exited;
    }
    const afterMs = this.clock.now() - begin;
    this.killStragglers();
    return { endedBy, afterMs };
  }

  /** Stops (gracefully) and starts again, waiting for readiness. */
  async restart(options: { graceMs?: number } = {}): Promise<void> {
    await this.stop(options);
    this.restarts++;
    await this.launch();
  }

  /** Makes sure the target runs: waits for a pending policy restart, else starts it. */
  async ensureRunning(): Promise<void> {
    if (this.running) return;
    // A restart that fails before ready may schedule another; follow a few, then start it ourselves.
    for (let i = 0; i < 3 && this.pending !== undefined && !this.running; i++) await this.pending.promise;
    if (this.running) return;
    this.restarts++;
    await this.launch();
  }

  /** Resolves at the next 'start' event (or rejects at the next exit if the start never comes). */
  nextStart(): Promise<number> {
    return new Promise((resolve) => this.emitter.once('start', resolve));
  }

  /** @internal Spawns a run and waits for readiness. Throws (leaving nothing running) if it fails. */
  async launch(): Promise<void> {
    this.stopping = false;
    const file = this.spec.argv[0] as string;
    // The target gets SIGKILL if faultline dies, even by SIGKILL (os/death-signal.ts); its descendants are
    // covered by the journalled process group.
    const path = this.spec.env?.PATH ?? process.env.PATH;
    const through = this.spec.launchThrough;
    const argv =
      through === undefined || findExecutable(file, path, this.spec.cwd) === undefined
        ? this.spec.argv
        : through(this.spec.argv);
    const [command, ...args] = withDeathSignal(argv, { path, cwd: this.spec.cwd }) as [string, ...string[]];
    // Inherited by every descendant: lets cleanup prove they are ours even after the leader is gone.
    const token = newGroupToken();
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(this.spec.env ?? process.env), [groupTokenVariable]: token },
      ...(this.spec.cwd === undefined ? {} : { cwd: this.spec.cwd }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const what =
        code === 'ENOENT'
          ? `${JSON.stringify(file)} not found (ENOENT)`
          : code === 'EACCES'
            ? `${JSON.stringify(file)} is not executable (EACCES)`
            : messageOf(error);
      throw new FaultlineError(codes.processFailed, `cannot start target "${this.name}": ${what}`, {
        cause: error,
        details: { target: this.name, field: 'argv[0]', argv0: file, errno: code },
      });
    }
    const pid = child.pid as number;
    this.child = child;
    this.pid = pid;
    this.groups.add(pid);
    const residue = processGroupResidue(pid, `target ${this.name}`, token);
    this.startTime = residue?.startTime;
    if (this.journal !== undefined && residue !== undefined) {
      try {
        this.recorded.set(pid, this.journal.add(residue));
      } catch (error) {
        // A target a crash could not clean up is not started at all.
        signalGroup(pid, 'SIGKILL');
        this.groups.delete(pid);
        throw error;
      }
    }
    if (this.stopping) {
      // stop() came while this run was being spawned (a policy restart racing a stop): it must not outlive
      // the stop, and its unread pipes must not keep the event loop alive.
      child.stdout?.destroy();
      child.stderr?.destroy();
      this.killStragglers();
      throw new FaultlineError(codes.aborted, `target "${this.name}" was stopped while it was starting`, {
        details: { target: this.name },
      });
    }
    this.running = true;
    this.startedAt = this.clock.now();
    this.exitCode = undefined;
    this.exitSignal = undefined;
    child.stdout?.on('data', (chunk: Buffer) => this.logs.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.logs.stderr.write(chunk));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const info = { code, signal };
        if (this.child === child) this.onExit(info);
        resolve(info);
      });
    });
    this.emitter.emit('start', pid);
    const ready = typeof this.spec.ready === 'function' ? this.spec.ready(this) : this.spec.ready;
    if (ready !== undefined) await this.awaitReady(ready, this.exited, closed);
    this.armed = true;
  }

  private async awaitReady(probe: Probe, exited: Promise<ExitInfo>, closed: Promise<void>): Promise<void> {
    const controller = new AbortController();
    const cut = this.spec.readySignal;
    const ready = waitFor(probe, {
      timeoutMs: this.spec.readyTimeoutMs ?? 10_000,
      intervalMs: this.spec.readyIntervalMs ?? 50,
      clock: this.clock,
      signal: cut === undefined ? controller.signal : AbortSignal.any([controller.signal, cut]),
    }).then(
      () => ({ kind: 'ready' as const }),
      (error: unknown) => ({ kind: 'never' as const, error }),
    );
    const outcome = await Promise.race([ready, exited.then((info) => ({ kind: 'exited' as const, info }))]);
    controller.abort();
    if (outcome.kind === 'ready') return;
    if (outcome.kind === 'exited') {
      // Let the pipes flush so the stderr tail includes the last words.
      const stopWaiting = new AbortController();
      await Promise.race([closed, this.clock.sleep(drainMs, stopWaiting.signal).catch(() => {})]);
      stopWaiting.abort();
      this.killStragglers();
      const { code, signal } = outcome.info;
      const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      const stderr = tailLines(this.logFile('stderr'));
      throw new FaultlineError(
        codes.processFailed,
        `target "${this.name}" ${how} before it was ready${stderr ? `; last stderr lines:\n${stderr}` : ''}`,
        { details: { target: this.name, exitCode: code, signal, stderr } },
      );
    }
    await this.stop({ graceMs: 1000 });
    if (cut?.aborted) {
      throw new FaultlineError(
        codes.aborted,
        `target "${this.name}": aborted while waiting for it to be ready; it was stopped`,
        { cause: cut.reason, details: { target: this.name, field: 'ready' } },
      );
    }
    throw new FaultlineError(
      codes.processFailed,
      `target "${this.name}" never became ready (${messageOf(outcome.error)}); it was stopped`,
      // `field`: a scenario names it `targets.NAME.ready`.
      { cause: outcome.error, details: { target: this.name, field: 'ready' } },
    );
  }

  private onExit(info: ExitInfo): void {
    this.running = false;
    this.exitCode = info.code;
    this.exitSignal = info.signal;
    this.emitter.emit('exit', info);
    const policy = this.policy;
    if (policy === undefined || this.stopping || !this.armed) return;
    if (policy.policy === 'on-failure' && info.code === 0) return;
    if (policy.maxRestarts !== undefined && this.restarts >= policy.maxRestarts) return;
    const base = policy.backoffMs ?? 100;
    const cap = policy.maxBackoffMs ?? 5000;
    if (this.clock.now() - this.startedAt >= cap) this.consecutive = 0;
    const delayMs = Math.min(cap, base * 2 ** this.consecutive);
    this.consecutive++;
    let cancel = (): void => {};
    const promise = new Promise<void>((resolve) => {
      cancel = () => {
        if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        resolve();
      };
      this.restartTimer = this.clock.setTimeout(() => {
        this.restartTimer = undefined;
        this.restarts++;
        this.launch().then(
          () => resolve(),
          (error: unknown) => {
            this.lastRestartError = error;
            resolve();
          },
        );
      }, delayMs);
    }).finally(() => {
      if (this.pending?.promise === promise) this.pending = undefined;
    });
    this.pending = { promise, cancel };
  }

  private cancelPending(): void {
    this.pending?.cancel();
    this.pending = undefined;
  }

  private killStragglers(): void {
    for (const pgid of this.groups) {
      signalGroup(pgid, 'SIGCONT');
      signalGroup(pgid, 'SIGKILL');
      if (pgid === this.pid && this.running) continue;
      this.groups.delete(pgid);
      const id = this.recorded.get(pgid);
      this.recorded.delete(pgid);
      if (id !== undefined) this.forgetRecord(id);
    }
  }

  private forgetRecord(id: number): void {
    try {
      this.journal?.remove(id);
    } catch {
      // A stale record is harmless: cleanup kills a group only while its leader's start time matches.
    }
  }

  /** @internal */
  closeLogs(): void {
    this.logs.stdout.close();
    this.logs.stderr.close();
  }

  /** @internal whether anything of this target is still alive. */
  alive(): boolean {
    return this.running || (this.pid !== 0 && isAlive(this.pid));
  }
}

export interface SupervisorOptions {
  clock?: Clock;
  /** Default directory for target logs; default a temp dir removed by `stopAll` unless `keepLogs`. */
  logDir?: string;
  keepLogs?: boolean;
  /** Grace before SIGKILL in `stopAll` (default 2 s). */
  stopGraceMs?: number;
  /**
   * Where every target's process group (and the temp log dir) is recorded, for `faultline cleanup` after a
   * crash. Default: the process's own journal (`processJournal()`); `false` records nothing.
   */
  journal?: Journal | false;
  /**
   * On SIGINT or SIGTERM, `stopAll()` (targets stopped, temp log dir and their journal records removed), then
   * let the signal end the process as it would have (default false). Listens only while targets exist.
   */
  handleSignals?: boolean;
}

/** Starts and owns targets; `stopAll` (or `await using`) stops every one of them and their groups. */
export class Supervisor implements AsyncDisposable {
  private readonly clock: Clock;
  private readonly targets = new Map<string, Target>();
  private readonly options: SupervisorOptions;
  private tempDir: string | undefined;
  private tempDirRecord: number | undefined;

  constructor(options: SupervisorOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? realClock;
  }

  /** The journal in use, resolved when first needed (so a supervisor that starts nothing opens none). */
  private get journal(): Journal | undefined {
    return journalFor(this.options.journal);
  }

  get(name: string): Target | undefined {
    return this.targets.get(name);
  }

  list(): Target[] {
    return [...this.targets.values()];
  }

  /** Starts a target and waits until its ready probe passes. On failure nothing of it is left running. */
  async start(spec: TargetSpec): Promise<Target> {
    const checked = validateSpec(spec);
    if (this.targets.has(checked.name)) {
      throw new FaultlineError(codes.alreadyExists, `target "${checked.name}" already exists`, {
        details: { field: 'name' },
      });
    }
    const logDir = checked.logDir ?? this.defaultLogDir();
    if (!existsSync(logDir)) mkdirSync(logDir, { recursive: true });
    const target = new Target(checked, this.clock, logDir, this.journal);
    this.targets.set(checked.name, target);
    if (this.options.handleSignals === true) onTermination(this, () => this.stopAll());
    try {
      await target.launch();
    } catch (error) {
      await target.stop({ graceMs: 0 }).catch(() => {});
      target.closeLogs();
      this.targets.delete(checked.name);
      throw error;
    }
    return target;
  }

  /** Stops every target (newest first), kills their groups and removes the temp log dir. */
  async stopAll(): Promise<void> {
    offTermination(this);
    const graceMs = this.options.stopGraceMs ?? 2000;
    const failures: unknown[] = [];
    for (const target of this.list().reverse()) {
      try {
        await target.stop({ graceMs });
      } catch (error) {
        failures.push(error);
      }
      target.closeLogs();
      this.targets.delete(target.name);
    }
    if (this.tempDir !== undefined && !this.options.keepLogs) {
      rmSync(this.tempDir, { recursive: true, force: true });
      this.tempDir = undefined;
      if (this.tempDirRecord !== undefined) this.journal?.remove(this.tempDirRecord);
      this.tempDirRecord = undefined;
    }
    if (failures.length > 0) {
      throw new FaultlineError(
        codes.processFailed,
        `stopping targets failed: ${failures.map(messageOf).join('; ')}`,
        {
          cause: new AggregateError(failures),
        },
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopAll();
  }

  private defaultLogDir(): string {
    if (this.options.logDir !== undefined) return this.options.logDir;
    if (this.tempDir === undefined) {
      this.tempDir = mkdtempSync(join(tmpdir(), 'faultline-logs-'));
      if (!this.options.keepLogs) {
        const residue = { path: this.tempDir, recursive: true, label: 'target logs' };
        this.tempDirRecord = this.journal?.add({ kind: 'file', ...residue });
      }
    }
    return this.tempDir;
  }
}

function validateSpec(spec: TargetSpec): TargetSpec {
  requireObject(spec, 'spec');
  const name = requireString(spec.name, 'name', { nonEmpty: true });
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw invalid(
      'name',
      `${JSON.stringify(name)} is not a valid target name`,
      'letters, digits, ".", "_", "-"',
    );
  }
  requireArgv(spec.argv, 'argv');
  if (spec.maxLogBytes !== undefined)
    requireNumber(spec.maxLogBytes, 'maxLogBytes', { min: 1024, integer: true });
  if (spec.readyTimeoutMs !== undefined) requireNumber(spec.readyTimeoutMs, 'readyTimeoutMs', { min: 0 });
  const restart = spec.restart;
  if (restart !== undefined && restart !== 'never') {
    requireObject(restart, 'restart');
    requireOneOf(restart.policy, 'restart.policy', ['on-failure', 'always'] as const);
    if (restart.backoffMs !== undefined) requireNumber(restart.backoffMs, 'restart.backoffMs', { min: 0 });
    if (restart.maxBackoffMs !== undefined)
      requireNumber(restart.maxBackoffMs, 'restart.maxBackoffMs', { min: 0 });
    if (restart.maxRestarts !== undefined) {
      requireNumber(restart.maxRestarts, 'restart.maxRestarts', { min: 0, integer: true });
    }
  }
  return spec;
}
