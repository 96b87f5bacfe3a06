import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { invalid, requireNumber, requireString } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { signalGroup } from '../os/index.js';

/** A steady-state check. `check` resolves when healthy and throws with the reason when not. */
export interface Probe {
  readonly name: string;
  check(signal?: AbortSignal): Promise<void>;
}

export type LogStream = 'stdout' | 'stderr';

/** What a log probe needs from a target: where its log is. */
export interface LogSource {
  readonly name: string;
  logFile(stream: LogStream): string;
}

function unhealthy(probe: string, message: string, cause?: unknown): FaultlineError {
  return new FaultlineError(codes.probeFailed, `probe "${probe}": ${message}`, {
    cause,
    details: { probe },
  });
}

/** Runs `body` with a signal that aborts after `timeoutMs` (on `clock`) or when `outer` aborts. */
async function withTimeout<T>(
  clock: Clock,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = clock.setTimeout(
    () => controller.abort(new Error(`timed out after ${timeoutMs}ms`)),
    timeoutMs,
  );
  const onAbort = (): void => controller.abort(outer?.reason ?? new Error('aborted'));
  if (outer?.aborted) onAbort();
  outer?.addEventListener('abort', onAbort, { once: true });
  try {
    return await body(controller.signal);
  } finally {
    clock.clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export interface TcpProbeOptions {
  host?: string;
  port: number;
  timeoutMs?: number;
  name?: string;
  clock?: Clock;
}

/** Healthy when a TCP connection to host:port is accepted. */
export function tcpProbe(options: TcpProbeOptions): Probe {
  const host = options.host ?? '127.0.0.1';
  const port = requireNumber(options.port, 'tcpProbe.port', { min: 1, max: 65535, integer: true });
  const timeoutMs = requireNumber(options.timeoutMs ?? 1000, 'tcpProbe.timeoutMs', { min: 1 });
  const clock = options.clock ?? realClock;
  const name = options.name ?? `tcp ${host}:${port}`;
  return {
    name,
    check: (outer) =>
      withTimeout(clock, timeoutMs, outer, async (signal) => {
        const socket = connect({ host, port });
        try {
          await Promise.race([
            new Promise<void>((resolve, reject) => {
              socket.once('connect', resolve);
              socket.once('error', reject);
            }),
            abortPromise(signal),
          ]);
        } catch (error) {
          throw unhealthy(name, `cannot connect: ${messageOf(error)}`, error);
        } finally {
          socket.destroy();
        }
      }),
  };
}

export interface HttpProbeOptions {
  url: string;
  /** Expected status; default any 2xx. */
  status?: number;
  bodyIncludes?: string;
  bodyMatches?: RegExp;
  timeoutMs?: number;
  name?: string;
  clock?: Clock;
}

/** Healthy when a GET of `url` answers the expected status (and body, when asked). */
export function httpProbe(options: HttpProbeOptions): Probe {
  const url = requireString(options.url, 'httpProbe.url', { nonEmpty: true });
  if (options.bodyIncludes !== undefined && options.bodyMatches !== undefined) {
    throw invalid('httpProbe.bodyMatches', 'give bodyIncludes or bodyMatches, not both');
  }
  const timeoutMs = requireNumber(options.timeoutMs ?? 2000, 'httpProbe.timeoutMs', { min: 1 });
  const clock = options.clock ?? realClock;
  const name = options.name ?? `http ${url}`;
  const { status, bodyIncludes, bodyMatches } = options;
  return {
    name,
    check: (outer) =>
      withTimeout(clock, timeoutMs, outer, async (signal) => {
        let response: Response;
        let body: string;
        try {
          response = await fetch(url, { signal });
          body = await response.text();
        } catch (error) {
          throw unhealthy(
            name,
            `request failed: ${messageOf(signal.aborted ? signal.reason : error)}`,
            error,
          );
        }
        const statusOk =
          status === undefined ? response.status >= 200 && response.status < 300 : response.status === status;
        if (!statusOk) {
          throw unhealthy(
            name,
            `status ${response.status}, expected ${status ?? '2xx'}; body ${snippet(body)}`,
          );
        }
        if (bodyIncludes !== undefined && !body.includes(bodyIncludes)) {
          throw unhealthy(name, `body does not include ${JSON.stringify(bodyIncludes)}: ${snippet(body)}`);
        }
        if (bodyMatches !== undefined && !bodyMatches.test(body)) {
          throw unhealthy(name, `body does not match ${bodyMatches}: ${snippet(body)}`);
        }
      }),
  };
}

function snippet(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

export interface CommandProbeOptions {
  /** `[file, ...args]`, run without a shell. */
  argv: readonly string[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  name?: string;
  clock?: Clock;
}

/** Keeps only the last `limit` bytes of a command's stderr for error messages. */
const stderrTailBytes = 2048;

/** Healthy when the command exits 0. A command still running at the timeout is killed with its group. */
export function commandProbe(options: CommandProbeOptions): Probe {
  const argv = requireArgv(options.argv, 'commandProbe.argv');
  const timeoutMs = requireNumber(options.timeoutMs ?? 5000, 'commandProbe.timeoutMs', { min: 1 });
  const clock = options.clock ?? realClock;
  const name = options.name ?? `command ${argv.join(' ')}`;
  const [file, ...args] = argv as [string, ...string[]];
  return {
    name,
    check: (outer) =>
      withTimeout(clock, timeoutMs, outer, async (signal) => {
        const child = spawn(file, args, {
          stdio: ['ignore', 'ignore', 'pipe'],
          detached: true,
          ...(options.env === undefined ? {} : { env: options.env }),
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString('utf8')).slice(-stderrTailBytes);
        });
        const onAbort = (): void => {
          if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>(
            (resolve, reject) => {
              child.once('error', reject);
              child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]));
            },
          );
          if (signal.aborted) throw unhealthy(name, messageOf(signal.reason));
          if (code !== 0) {
            const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
            throw unhealthy(name, `${how}${stderr.trim() ? `; stderr: ${stderr.trim()}` : ''}`);
          }
        } catch (error) {
          if (error instanceof FaultlineError) throw error;
          throw unhealthy(name, `cannot run ${JSON.stringify(file)}: ${messageOf(error)}`, error);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }),
  };
}

export interface LogProbeOptions {
  /** A log file, or a supervised target whose log to read. */
  file?: string;
  target?: LogSource;
  stream?: LogStream;
  pattern: RegExp;
  /** 'now' (default): only lines written after the probe was made; 'start': the whole file. */
  since?: 'now' | 'start';
  name?: string;
}

/** How much of a log a single check reads at most: the tail, so a huge log cannot stall a check. */
const logReadLimitBytes = 4 * 1024 * 1024;

/** Healthy once a line matching `pattern` has appeared in the log. */
export function logProbe(options: LogProbeOptions): Probe {
  if ((options.file === undefined) === (options.target === undefined)) {
    throw invalid('logProbe', 'give exactly one of file or target', '{ file } or { target }');
  }
  if (!(options.pattern instanceof RegExp))
    throw invalid('logProbe.pattern', 'expected a RegExp', 'a RegExp');
  const stream = options.stream ?? 'stdout';
  const path = (): string => options.file ?? (options.target as LogSource).logFile(stream);
  const pattern = new RegExp(options.pattern.source, options.pattern.flags.replace(/[gy]/g, ''));
  const name = options.name ?? `log ${options.target?.name ?? options.file} ${stream} ${pattern}`;
  let offset = options.since === 'start' ? 0 : sizeOf(path());
  return {
    name,
    check: async () => {
      const file = path();
      const size = sizeOf(file);
      if (size < offset) offset = 0; // rotated or truncated: the new content is all after the probe was made
      const start = Math.max(offset, size - logReadLimitBytes);
      const text = readRange(file, start, size - start);
      for (const line of text.split('\n')) if (pattern.test(line)) return;
      throw unhealthy(name, `no line matching ${pattern} in ${file} (${size - offset} bytes read)`);
    },
  };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readRange(file: string, start: number, length: number): string {
  if (length <= 0) return '';
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, start);
    return buffer.toString('utf8', 0, read);
  } finally {
    closeSync(fd);
  }
}

/** A probe from any async function: healthy when it resolves. */
export function functionProbe(name: string, fn: (signal?: AbortSignal) => Promise<void> | void): Probe {
  requireString(name, 'functionProbe.name', { nonEmpty: true });
  if (typeof fn !== 'function') throw invalid('functionProbe.fn', 'expected a function', 'a function');
  return {
    name,
    check: async (signal) => {
      await fn(signal);
    },
  };
}

/** Validates an argv array: never a shell string. */
export function requireArgv(value: unknown, field: string): readonly [string, ...string[]] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string')) {
    throw invalid(
      field,
      `expected a non-empty array of strings [file, ...args], got ${typeof value === 'string' ? 'a string (shell strings are not run; split it into argv)' : JSON.stringify(value)}`,
      '[file, ...args]',
    );
  }
  if ((value[0] as string).length === 0) throw invalid(`${field}[0]`, 'must not be empty');
  return value as unknown as readonly [string, ...string[]];
}
