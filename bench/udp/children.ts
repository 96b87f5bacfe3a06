import { fork, spawn } from 'node:child_process';
import { register, stopChild, withTimeout } from '../../test/support/children.js';
import type { SinkMessage } from './sink.js';

export { killAll } from '../../test/support/children.js';

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
  /** The I/O the proxy settled on (batch or dgram). */
  readonly io: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs proxy-child.js in front of `upstreamPort` and waits for its "port <n> io <io>" line. */
export async function startProxy(
  script: string,
  upstreamPort: number,
  options: { impairments?: object; io?: 'auto' | 'batch' | 'dgram' } = {},
): Promise<ProxyChild> {
  const { impairments, io = 'auto' } = options;
  const args = [script, String(upstreamPort), ...(impairments ? [JSON.stringify(impairments)] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FAULTLINE_UDP_IO: io },
  });
  register(child);
  let output = '';
  const { port, io: used } = await withTimeout(
    new Promise<{ port: number; io: string }>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`proxy exited early (code ${code}): ${output}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /port (\d+) io (\w+)/.exec(output);
        if (match) resolve({ port: Number(match[1]), io: match[2] as string });
      });
    }),
    10_000,
    'proxy start',
  );
  return { port, io: used, pid: child.pid as number, stop: () => stopChild(child) };
}
