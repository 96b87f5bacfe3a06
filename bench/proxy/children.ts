/**
 * Child processes of the proxy benchmark: the `faultline server` under test and the sink/echo server,
 * plus what the benchmark reads about them (/proc) and the two Toxiproxy API calls it makes.
 * Every child is registered so `killAll` can end it on success, error or SIGINT.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { killAll, register, stopChild, withTimeout } from '../../test/support/children.js';
import type { RelayMessage, RelayRequest } from './reference-relay.js';
import type { SinkMessage, SinkPorts, SinkRequest } from './sink-server.js';

export { killAll, stopChild };

export interface Sink {
  readonly pid: number;
  readonly ports: SinkPorts;
  /** Connections the hold listener has open now. */
  held(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSink(script: string): Promise<Sink> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  register(child);
  const pending: ((held: number) => void)[] = [];
  const ports = await withTimeout(
    new Promise<SinkPorts>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`sink server exited early (code ${code})`)));
      child.on('message', (message: SinkMessage) => {
        if (message.type === 'ready') resolve(message.ports);
        else if (message.type === 'count') pending.shift()?.(message.held);
      });
    }),
    10_000,
    'sink server start',
  );
  const ask = (message: SinkRequest): void => {
    child.send(message);
  };
  return {
    pid: child.pid as number,
    ports,
    held: () =>
      withTimeout(
        new Promise<number>((resolve) => {
          pending.push(resolve);
          ask({ type: 'count' });
        }),
        5000,
        'sink connection count',
      ),
    stop: async () => {
      if (child.connected) ask({ type: 'stop' });
      await stopChild(child, 'SIGTERM', 2000);
    },
  };
}

export interface ReferenceRelay {
  readonly pid: number;
  /** Opens a bare relay to `upstreamPort`; returns its listening port. */
  relay(upstreamPort: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startReferenceRelay(script: string): Promise<ReferenceRelay> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  register(child);
  const pending: ((port: number) => void)[] = [];
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`reference relay exited early (code ${code})`)));
      child.on('message', (message: RelayMessage) => {
        if (message.type === 'ready') resolve();
        else pending.shift()?.(message.port);
      });
    }),
    10_000,
    'reference relay start',
  );
  const ask = (message: RelayRequest): void => {
    child.send(message);
  };
  return {
    pid: child.pid as number,
    relay: (upstreamPort) =>
      withTimeout(
        new Promise<number>((resolve) => {
          pending.push(resolve);
          ask({ type: 'relay', upstreamPort });
        }),
        5000,
        'reference relay listen',
      ),
    stop: async () => {
      if (child.connected) ask({ type: 'stop' });
      await stopChild(child, 'SIGTERM', 2000);
    },
  };
}

/** A free loopback TCP port (released before returning; the server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ProxyServer {
  readonly pid: number;
  readonly apiPort: number;
  /** POST /proxies; returns the real listen port. */
  createProxy(name: string, upstreamPort: number): Promise<number>;
  /** POST /proxies/{name}/toxics with a 0 ms latency toxic on `stream`. */
  addZeroLatency(proxy: string, stream: 'upstream' | 'downstream'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Spawns `node [nodeArgs] <script> server --host 127.0.0.1 --port <free> --seed <seed>` and waits for
 * its `listening on http://127.0.0.1:<port>` line.
 */
export async function startServer(
  script: string,
  nodeArgs: readonly string[],
  seed: number,
): Promise<ProxyServer> {
  const port = await freePort();
  const args = [
    ...nodeArgs,
    script,
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--seed',
    String(seed),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  register(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stderr?.on('data', keep);
  const apiPort = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`faultline server exited early (code ${code}, signal ${signal}):\n${output}`)),
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        keep(chunk);
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
    }),
    15_000,
    `faultline server start (${args.join(' ')})`,
  ).catch(async (error: unknown) => {
    await stopChild(child, 'SIGKILL');
    throw error;
  });
  const api = async (path: string, payload: unknown): Promise<unknown> => {
    const { status, text } = await post(apiPort, path, payload);
    if (status !== 200 && status !== 201) throw new Error(`POST ${path} → HTTP ${status}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  return {
    pid: child.pid as number,
    apiPort,
    createProxy: async (name, upstreamPort) => {
      const state = await api('/proxies', {
        name,
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${upstreamPort}`,
      });
      const listen = (state as { listen?: unknown }).listen;
      const match = typeof listen === 'string' ? /:(\d+)$/.exec(listen) : null;
      if (!match || Number(match[1]) === 0)
        throw new Error(`POST /proxies gave no listen port: ${JSON.stringify(state)}`);
      return Number(match[1]);
    },
    addZeroLatency: async (proxy, stream) => {
      await api(`/proxies/${encodeURIComponent(proxy)}/toxics`, {
        name: `latency_${stream}`,
        type: 'latency',
        stream,
        toxicity: 1,
        attributes: { latency: 0, jitter: 0 },
      });
    },
    stop: () => stopChild(child, 'SIGTERM', 5000),
  };
}

function post(port: number, path: string, payload: unknown): Promise<{ status: number; text: string }> {
  const body = JSON.stringify(payload);
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            connection: 'close',
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    }),
    10_000,
    `POST ${path}`,
  );
}

export interface Memory {
  readonly rssKiB: number;
  readonly hwmKiB: number;
}

/** VmRSS and VmHWM of a process, from /proc/<pid>/status (KiB). */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** User + system CPU time of a process so far, ms (from /proc/<pid>/stat, assuming 100 ticks/s). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The soft and hard limits on open files of this process (children inherit them). */
export function openFileLimits(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (text: string | undefined): number =>
    text === undefined || text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

interface CpuSample {
  /** Busy and total CPU time of the whole machine, ms (all CPUs together). */
  readonly busyMs: number;
  readonly totalMs: number;
  /** CPU time of the processes we count as ours, ms. */
  readonly ownMs: number;
}

function sampleCpu(ownPids: readonly number[]): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const own = process.cpuUsage();
  let ownMs = (own.user + own.system) / 1000;
  for (const pid of ownPids) {
    try {
      ownMs += cpuTimeMs(pid);
    } catch {
      // the process is gone; its time no longer counts either way
    }
  }
  return { busyMs: (total - idle) * 10, totalMs: total * 10, ownMs };
}

/**
 * Measures how busy the machine is with work other than this process and `ownPids` (other users'
 * tests, say): `start()` then `stop()` gives the fraction (0..1) of all CPUs' time used by others.
 */
export function backgroundLoad(ownPids: () => readonly number[]): { stop(): number } {
  const pids = ownPids();
  const before = sampleCpu(pids);
  return {
    stop: () => {
      const after = sampleCpu(pids);
      const total = after.totalMs - before.totalMs;
      const others = after.busyMs - before.busyMs - (after.ownMs - before.ownMs);
      return total > 0 ? Math.min(1, Math.max(0, others / total)) : 0;
    },
  };
}

/** Fraction (0..1) of all CPUs' time used by other processes over the next `ms`. */
export async function cpuBusyFraction(ms: number): Promise<number> {
  const load = backgroundLoad(() => []);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return load.stop();
}

/** Restricts every thread of process `pid` to the CPUs in `cpus` (taskset syntax, e.g. "0" or "0,1"). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
