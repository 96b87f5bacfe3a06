/**
 * Records a history from a real Redis through faultline's TCP proxy under fault windows: clients use one
 * key as a register (SET of unique values, GET) through the `Recorder` with a per-call timeout, while a
 * nemesis adds `timeout` and `reset_peer` toxics in turn, each until enough writes have ended `info`.
 * Used by test/checker/redis-history.test.ts. test/checker/fixtures/redis-register.jsonl is one such run
 * (seed 13, the defaults: 1,500 calls, 25 writes `info`), written with `serializeHistory(ops, 'jsonl')`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../../src/core/clock.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import { Recorder } from '../../src/history/recorder.js';
import { ProxyHub, type ToxicInput } from '../../src/public/proxy.js';
import { killAll, register, stopChild, withTimeout } from './children.js';
import { freePort } from './ports.js';
import { RespClient } from './resp-client.js';

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Whether `redis-server` can be run (scripts/ensure-test-deps.mjs installs it). */
export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts redis-server on a free loopback port, no persistence, in a temp dir; resolves when it is ready. */
export async function startRedis(): Promise<RedisServer> {
  // A port free when picked may be taken before redis binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-redis-'));
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    register(child);
    process.once('exit', killAll); // a test process that dies unexpectedly takes redis with it
    const stop = async (): Promise<void> => {
      await stopChild(child, 'SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await withTimeout(ready(child), 10_000, 'redis-server to accept connections');
      return { port, pid: child.pid as number, stop };
    } catch (error) {
      lastError = error;
      await stop();
    }
  }
  throw lastError;
}

/** Resolves on redis's "Ready to accept connections"; rejects if it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      // Only the start-up lines are kept, then the stream is drained unread.
      if (output.length < 64 * 1024) output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.stderr?.resume();
    child.once('exit', (code, signal) =>
      reject(
        new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`),
      ),
    );
    child.once('error', reject);
  });
}

export interface RedisRecordOptions {
  readonly seed: number;
  /** Calls to make in all, past which the run stops once every window is done (default 1,500). */
  readonly calls?: number;
  readonly clients?: number;
  /** Each call's timeout (default 250 ms): a call held longer is recorded `info`. */
  readonly timeoutMs?: number;
  /**
   * Writes each window lets clients invoke (default 5; 4 windows): past it they only read until the toxic
   * is removed. Every one ends `info`, as may a few in flight when the toxic came: 20–30 in all.
   */
  readonly writesPerWindow?: number;
}

/** The windows, in turn: a reply withheld or reset (the write applied), a request held or reset. */
const windowToxics: readonly ToxicInput[] = [
  { name: 'fault', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
  { name: 'fault', type: 'reset_peer', stream: 'downstream', attributes: { timeout: 0 } },
  { name: 'fault', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
  { name: 'fault', type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } },
];

/**
 * Runs the workload against Redis at `redisPort` through a proxy and returns the history: client ops
 * plus `nemesis` notes (`start` / `stop`, value the toxic) around each window, which checkers ignore.
 */
export async function recordRedisRegister(redisPort: number, options: RedisRecordOptions): Promise<Op[]> {
  const calls = options.calls ?? 1500;
  const clients = options.clients ?? 5;
  const timeoutMs = options.timeoutMs ?? 250;
  const perWindow = options.writesPerWindow ?? 5;
  const random = new Random(options.seed, 'redis-history');
  const hub = new ProxyHub({ seed: options.seed });
  const recorder = new Recorder({ clock: realClock });
  const key = 'register';
  let serial = 0;
  let invoked = 0;
  let okOps = 0;
  let infoWrites = 0;
  let done = false;
  /** Writes invoked in the open window, and how many of them have ended; undefined between windows. */
  let window: { invoked: number; ended: number } | undefined;

  // The nemesis waits on conditions over the outcomes, checked after each one.
  const waiters = new Set<{ holds(): boolean; resolve(): void }>();
  const until = (holds: () => boolean): Promise<void> =>
    holds()
      ? Promise.resolve()
      : new Promise((resolve) => {
          waiters.add({ holds, resolve });
        });
  const notify = (): void => {
    for (const waiter of waiters) {
      if (!waiter.holds()) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
  };

  const client = async (slot: number): Promise<void> => {
    const draw = random.fork(`client-${slot}`);
    let process = slot;
    let connection: RespClient | undefined;
    try {
      while (!done) {
        const inWindow = window;
        const write = draw.chance(0.5) && (inWindow === undefined || inWindow.invoked < perWindow);
        if (write && inWindow !== undefined) inWindow.invoked++;
        const value = write ? ++serial : null;
        invoked++;
        const outcome = await recorder.attempt(
          process,
          write ? 'write' : 'read',
          value,
          async (signal) => {
            connection ??= await RespClient.connect(proxyPort, signal);
            if (write) {
              await connection.command(['SET', key, String(value)], signal);
              // The value written, not Redis's "OK": Jepsen's convention, whichever the Recorder records.
              return value;
            }
            const read = await connection.command(['GET', key], signal);
            return read === null ? null : Number(read);
          },
          { timeoutMs },
        );
        if (write && inWindow !== undefined) inWindow.ended++;
        if (outcome.type === 'ok') okOps++;
        else {
          connection?.close();
          connection = undefined;
        }
        if (outcome.type === 'info') {
          if (write) infoWrites++;
          process += clients; // a client of unknown outcome is replaced, as in Jepsen
        }
        if (invoked >= calls && windowsDone) done = true;
        notify();
      }
    } finally {
      connection?.close();
    }
  };

  let windowsDone = false;
  let proxyPort = 0;
  const running: Promise<void>[] = [];
  try {
    const proxy = await hub.createProxy({
      name: 'redis',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${redisPort}`,
    });
    proxyPort = Number(proxy.listen.split(':').at(-1));
    const setup = await RespClient.connect(proxyPort);
    await setup.command(['DEL', key]);
    setup.close();
    for (let slot = 0; slot < clients; slot++) running.push(client(slot));
    // Healthy stretches of calls/5 ok ops around 4 windows, each held until its writes have ended `info`.
    const healthy = Math.floor(calls / (windowToxics.length + 1));
    for (const toxic of windowToxics) {
      const okBefore = okOps;
      await until(() => okOps >= okBefore + healthy);
      const infoBefore = infoWrites;
      recorder.note('nemesis', 'start', `${toxic.type} ${toxic.stream}`);
      await hub.addToxic('redis', toxic);
      const open = { invoked: 0, ended: 0 };
      window = open;
      // Normally the first; the second should a write ever get through a toxic.
      await until(() => infoWrites >= infoBefore + perWindow || open.ended >= perWindow);
      await hub.removeToxic('redis', toxic.name as string);
      window = undefined;
      recorder.note('nemesis', 'stop', `${toxic.type} ${toxic.stream}`);
    }
    windowsDone = true;
    await until(() => done);
    await Promise.all(running);
  } finally {
    done = true;
    windowsDone = true;
    await hub.close(); // ends every proxied connection, so no client call stays held
    await Promise.allSettled(running);
  }
  return recorder.history();
}
