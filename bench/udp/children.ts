import { fork, spawn } from 'node:child_process';
import { register, stopChild, withTimeout } from '../shared/children.js';
import type { SinkMessage } from './sink.js';

export { killAll } from '../shared/children.js';

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
    stop: () => stopChild(child, 'SIGTERM', 2000),
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
