import { type ChildProcess, fork, spawn } from 'node:child_process';
import type { SinkMessage } from './sink.js';

const live = new Set<ChildProcess>();

function register(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** SIGKILLs every child still running (synchronous: safe in an 'exit' handler). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Sink {
  readonly port: number;
  count(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSink(script: string): Promise<Sink> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  register(child);
  const waiting: ((count: number) => void)[] = [];
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`sink exited early (code ${code})`)));
      child.on('message', (message: SinkMessage) => {
        if (message.type === 'ready') resolve(message.port);
        else waiting.shift()?.(message.count);
      });
    }),
    10_000,
    'sink start',
  );
  return {
    port,
    count: () =>
      withTimeout(
        new Promise<number>((resolve) => {
          waiting.push(resolve);
          child.send({ type: 'count' });
        }),
        5000,
        'sink count',
      ),
    stop: () => stopChild(child),
  };
}

export interface ProxyChild {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs proxy-child.js in front of `upstreamPort` and waits for its "port <n>" line. */
export async function startProxy(
  script: string,
  upstreamPort: number,
  impairments?: object,
): Promise<ProxyChild> {
  const args = [script, String(upstreamPort), ...(impairments ? [JSON.stringify(impairments)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  register(child);
  let output = '';
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`proxy exited early (code ${code}): ${output}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /port (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
    }),
    10_000,
    'proxy start',
  );
  return { port, pid: child.pid as number, stop: () => stopChild(child) };
}
