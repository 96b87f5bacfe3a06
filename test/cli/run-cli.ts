import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `faultline …` to completion (bounded by `timeoutMs`). Resolves on `'close'`, not `'exit'`: the
 * process can exit while its stdout/stderr pipes still hold data, and the output must be complete.
 */
export async function runCli(
  args: string[],
  timeoutMs = 20_000,
  options: CliOptions = {},
): Promise<CliResult> {
  const child = startCli(args, options);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child.process, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

export interface RunningCli {
  readonly process: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first match of `pattern` in stdout (or stderr); rejects if the process ends (its
   * pipes closed, so all its output has been read) without printing it, or time runs out.
   */
  waitFor(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  /** Kills it (SIGKILL) if still running. */
  kill(): void;
}

export interface CliOptions {
  /** Its working directory (default this process's): where `faultline run` writes its journals. */
  readonly cwd?: string;
}

export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [cliPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    waitFor: (pattern, timeoutMs = 15_000, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        const source = child[stream];
        const check = (): void => {
          const match = pattern.exec(stream === 'stdout' ? out : err);
          if (match) finish(() => resolve(match));
        };
        // 'close', not 'exit': after 'exit' the pipes may still hold the very output being waited for.
        const onClose = (): void => {
          check();
          finish(() => reject(new Error(`exited before ${pattern}: ${out}${err}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${pattern}: ${out}${err}`))),
          timeoutMs,
        );
        let settled = false;
        const finish = (settle: () => void): void => {
          if (settled) return;
          clearTimeout(timer);
          source.off('data', check);
          child.off('close', onClose);
          settled = true;
          settle();
        };
        source.on('data', check);
        child.once('close', onClose);
        check();
      }),
  };
}
