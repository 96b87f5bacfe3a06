/** Child-process bookkeeping shared by the benchmarks: every child is registered so none outlives a run. */
import type { ChildProcess } from 'node:child_process';

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

let interruptedBy: NodeJS.Signals | undefined;

/** Whether SIGINT/SIGTERM stopped the run: errors after that come from the teardown, not the benchmark. */
export function interrupted(): boolean {
  return interruptedBy !== undefined;
}

/**
 * On SIGINT/SIGTERM runs `cleanup` once and exits 130; past `deadlineMs` does the same and exits 1; on any
 * exit SIGKILLs children still running, so an interrupted or stuck benchmark leaves nothing behind.
 * Returns the deadline's timer, to clear when the run ends in time.
 */
export function cleanUpOnExit(
  cleanup: () => Promise<void>,
  progress: (line: string) => void,
  deadlineMs: number,
): NodeJS.Timeout {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interruptedBy !== undefined) return;
      interruptedBy = signal;
      progress(`${signal}: stopping children and closing sockets`);
      cleanup().finally(() => process.exit(130));
    });
  }
  process.on('exit', killAll);
  const deadline = setTimeout(() => {
    progress(`run exceeded ${deadlineMs / 1000} s; aborting`);
    cleanup().finally(() => process.exit(1));
  }, deadlineMs);
  deadline.unref();
  return deadline;
}
