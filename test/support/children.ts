/**
 * Child-process bookkeeping shared by the benchmarks and the tests that fork children: every child is
 * registered so none outlives a run.
 */
import { type ChildProcess, fork, type StdioOptions, spawn } from 'node:child_process';

const live = new Set<ChildProcess>();

export function register(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Sends SIGKILL to every child still running (synchronous: safe in an 'exit' handler). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Asks a child to stop with `signal`, then SIGKILL after `graceMs`. Resolves once it has exited. */
export function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Parses a command-line integer in 1..max, or exits 2 with the usage. */
export function positiveInt(name: string, text: string, max: number, usage: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`--${name}: expected an integer in 1..${max}, got "${text}"\n${usage}`);
    process.exit(2);
  }
  return value;
}

let interruptedBy: string | undefined;

/** Whether SIGINT/SIGTERM (or the end of stdin, see `cleanUpOnExit`) stopped the run: errors after that come from the teardown, not the benchmark. */
export function interrupted(): boolean {
  return interruptedBy !== undefined;
}

/**
 * On SIGINT/SIGTERM runs `cleanup` once and exits 130; past `deadlineMs` does the same and exits 1; on any
 * exit SIGKILLs children still running, so an interrupted or stuck benchmark leaves nothing behind.
 * With `exitWithStdin`, the end of stdin stops the run like SIGTERM: a parent that holds the other end
 * of a pipe (a test) takes the run down with it however it dies, even by SIGKILL. Off by default: a run
 * started with stdin closed (`< /dev/null`, a detached CI step) would stop at once.
 * Returns the deadline's timer, to clear when the run ends in time.
 */
export function cleanUpOnExit(
  cleanup: () => Promise<void>,
  progress: (line: string) => void,
  deadlineMs: number,
  options: { exitWithStdin?: boolean } = {},
): NodeJS.Timeout {
  const stop = (reason: string): void => {
    if (interruptedBy !== undefined) return;
    interruptedBy = reason;
    progress(`${reason}: stopping children and closing sockets`);
    cleanup().finally(() => process.exit(130));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));
  if (options.exitWithStdin === true) {
    const stdin = process.stdin;
    stdin.on('end', () => stop('stdin ended'));
    stdin.on('close', () => stop('stdin closed'));
    stdin.on('error', () => stop('stdin failed'));
    stdin.resume(); // reads (and discards) whatever comes, so 'end' is seen
    // Watching stdin must not keep a finished run alive.
    (stdin as { unref?: () => void }).unref?.();
  }
  process.on('exit', killAll);
  const deadline = setTimeout(() => {
    progress(`run exceeded ${deadlineMs / 1000} s; aborting`);
    cleanup().finally(() => process.exit(1));
  }, deadlineMs);
  deadline.unref();
  return deadline;
}

/** A forked child that talks over IPC: requests out, one answer per request, in order. */
export interface IpcChild<Request, Message> {
  readonly pid: number;
  /**
   * Sends `request` and resolves with the child's next message. Messages are matched to requests by
   * order alone: after its first (ready) message the child must send exactly one per request, nothing
   * unsolicited.
   */
  ask(request: Request, what: string, timeoutMs?: number): Promise<Message>;
  /** Sends `stopRequest` (if still connected), then SIGTERM and SIGKILL after `graceMs`. */
  stop(): Promise<void>;
}

/**
 * Forks `script` with `args` and an IPC channel (registered, so `killAll` ends it) and waits for its
 * first message, which `ready` turns into the child's start-up result (or rejects). Later messages
 * answer `ask` calls in order. With `beforeExec` (a shell command such as `ulimit -n 256`) the child is
 * started as `sh -c '<beforeExec> && exec node <script> <args>'`: the IPC channel survives the exec, and
 * the pid is node's.
 */
export async function forkWithIpc<Request, Message, Ready>(
  script: string,
  args: readonly string[],
  ready: (message: Message) => Ready,
  options: {
    what: string;
    stopRequest: Request;
    startTimeoutMs?: number;
    graceMs?: number;
    beforeExec?: string;
  },
): Promise<{ child: IpcChild<Request, Message>; ready: Ready }> {
  const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
  const child =
    options.beforeExec === undefined
      ? fork(script, [...args], { stdio })
      : spawn('sh', ['-c', `${options.beforeExec} && exec "$0" "$@"`, process.execPath, script, ...args], {
          stdio,
        });
  register(child);
  const waiting: { resolve: (message: Message) => void; reject: (error: Error) => void }[] = [];
  let started: ((message: Message) => void) | undefined;
  child.on('message', (message: Message) => {
    if (started !== undefined) {
      const first = started;
      started = undefined;
      first(message);
    } else waiting.shift()?.resolve(message);
  });
  child.once('exit', (code, signal) => {
    for (const { reject } of waiting.splice(0))
      reject(new Error(`${options.what} exited (code ${code}, signal ${signal})`));
  });
  const result = await withTimeout(
    new Promise<Ready>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${options.what} exited early (code ${code})`)));
      started = (message) => {
        try {
          resolve(ready(message));
        } catch (error) {
          reject(error);
        }
      };
    }),
    options.startTimeoutMs ?? 10_000,
    `${options.what} start`,
  ).catch(async (error: unknown) => {
    await stopChild(child, 'SIGKILL');
    throw error;
  });
  return {
    ready: result,
    child: {
      pid: child.pid as number,
      ask: (request, what, timeoutMs = 5000) =>
        withTimeout(
          new Promise<Message>((resolve, reject) => {
            if (!child.connected) return reject(new Error(`${options.what} is gone (${what})`));
            waiting.push({ resolve, reject });
            child.send(request as object);
          }),
          timeoutMs,
          `${options.what}: ${what}`,
        ),
      stop: async () => {
        if (child.connected) child.send(options.stopRequest as object);
        await stopChild(child, 'SIGTERM', options.graceMs ?? 3000);
      },
    },
  };
}
