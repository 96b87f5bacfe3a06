import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { invalid, requireNumber, requireString } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { signalGroup } from '../os/index.js';
import {
  clip,
  describeStatus,
  failsJsonCheck,
  type JsonCheck,
  outsideRange,
  requireExitCodes,
  requireStatus,
  type StatusTolerance,
  statusAccepted,
} from './tolerances.js';

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
  /** Accepted status: a code, a class (`"2xx"`) or a list of them; default any 2xx. */
  status?: StatusTolerance;
  bodyIncludes?: string;
  bodyMatches?: RegExp;
  /** A value in the JSON body that must equal a value, lie in a range or match a regex. */
  json?: JsonCheck;
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
  const status = requireStatus(options.status ?? '2xx', 'httpProbe.status');
  const { bodyIncludes, bodyMatches, json } = options;
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
        if (!statusAccepted(response.status, status)) {
          throw unhealthy(
            name,
            `status ${response.status}, expected ${describeStatus(status)}; body ${snippet(body)}`,
          );
        }
        if (bodyIncludes !== undefined && !body.includes(bodyIncludes)) {
          throw unhealthy(name, `body does not include ${JSON.stringify(bodyIncludes)}: ${snippet(body)}`);
        }
        if (bodyMatches !== undefined && !bodyMatches.test(body)) {
          throw unhealthy(name, `body does not match ${bodyMatches}: ${snippet(body)}`);
        }
        const wrong = json === undefined ? undefined : failsJsonCheck('body', body, json);
        if (wrong !== undefined) throw unhealthy(name, wrong);
      }),
  };
}

function snippet(text: string): string {
  return JSON.stringify(clip(text));
}

export interface CommandProbeOptions {
  /** `[file, ...args]`, run without a shell. */
  argv: readonly string[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  name?: string;
  clock?: Clock;
  /** Accepted exit codes (default 0): `1` makes a probe that passes when `grep` finds nothing. */
  exitCode?: number | readonly number[];
  /** A regular expression stdout must match. */
  stdoutMatches?: RegExp;
  /** A value in stdout parsed as JSON that must equal a value, lie in a range or match a regex. */
  json?: JsonCheck;
  /** stdout (trimmed) is a number that must lie in `[min, max]` — a queue depth, a lag. */
  range?: readonly [number, number];
}

/** Keeps only the last `limit` bytes of a command's stderr for error messages. */
const stderrTailBytes = 2048;
/** stdout is kept up to this much for the stdout checks; a command printing more fails them. */
const stdoutLimitBytes = 1024 * 1024;

/**
 * Healthy when the command exits with an accepted code (default 0) and its stdout passes the checks given.
 * A command still running at the timeout is killed with its group.
 */
export function commandProbe(options: CommandProbeOptions): Probe {
  const argv = requireArgv(options.argv, 'commandProbe.argv');
  const timeoutMs = requireNumber(options.timeoutMs ?? 5000, 'commandProbe.timeoutMs', { min: 1 });
  const clock = options.clock ?? realClock;
  const name = options.name ?? `command ${argv.join(' ')}`;
  const [file, ...args] = argv as [string, ...string[]];
  const exitCodes = requireExitCodes(options.exitCode ?? 0, 'commandProbe.exitCode');
  const { stdoutMatches, json, range } = options;
  const readsStdout = stdoutMatches !== undefined || json !== undefined || range !== undefined;
  return {
    name,
    check: (outer) =>
      withTimeout(clock, timeoutMs, outer, async (signal) => {
        const child = spawn(file, args, {
          stdio: ['ignore', readsStdout ? 'pipe' : 'ignore', 'pipe'],
          detached: true,
          ...(options.env === undefined ? {} : { env: options.env }),
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString('utf8')).slice(-stderrTailBytes);
        });
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        child.stdout?.on('data', (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes <= stdoutLimitBytes) stdout.push(chunk);
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
          if (code === null || !exitCodes.includes(code)) {
            const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
            const expected = `expected exit code ${exitCodes.join(' or ')}`;
            throw unhealthy(name, `${how}, ${expected}${stderr.trim() ? `; stderr: ${stderr.trim()}` : ''}`);
          }
          if (readsStdout) {
            if (stdoutBytes > stdoutLimitBytes)
              throw unhealthy(
                name,
                `stdout is over ${stdoutLimitBytes} bytes; the stdout checks read at most that`,
              );
            const text = Buffer.concat(stdout).toString('utf8');
            const wrong = [
              stdoutMatches === undefined || stdoutMatches.test(text)
                ? undefined
                : `stdout does not match ${stdoutMatches}: ${snippet(text)}`,
              json === undefined ? undefined : failsJsonCheck('stdout', text, json),
              range === undefined ? undefined : outsideRange('stdout', text, range),
            ].find((failure) => failure !== undefined);
            if (wrong !== undefined) throw unhealthy(name, wrong);
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

/** A probe from any async function: healthy when it resolves, unless it resolves `false`; a throw says why not. */
export function functionProbe(name: string, fn: (signal?: AbortSignal) => unknown): Probe {
  requireString(name, 'functionProbe.name', { nonEmpty: true });
  if (typeof fn !== 'function') throw invalid('functionProbe.fn', 'expected a function', 'a function');
  return {
    name,
    check: async (signal) => {
      if ((await fn(signal)) === false) throw unhealthy(name, 'the function returned false');
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
