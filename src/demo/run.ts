/**
 * The demo run, built from faultline's parts: the demo service under a Supervisor (ready probe on /health,
 * data in a temp dir, restarted by its on-failure policy), the workload recorded by a Recorder, a SIGKILL
 * mid-run by killFault, a little more workload after the restart, final reads, then the checks (verdict.ts).
 * Everything it starts or creates is in the Ledger, so it is undone however the run ends.
 *
 * Timing: the buggy service flushes every `flushIntervalMs` from its start; the kill lands between 30 % and
 * 70 % of the way through its second flush interval (the seed picks where), so with either variant some
 * writes were acknowledged since the last flush — the buggy one loses them, the fixed one must not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realClock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { messageOf } from '../core/errors.js';
import { Ledger } from '../core/ledger.js';
import { Random } from '../core/random.js';
import { Recorder } from '../history/index.js';
import { httpProbe, killFault, Supervisor } from '../process/index.js';
import { KvClient } from './kv-client.js';
import type { Variant } from './kv-store.js';
import { type DemoVerdict, judge } from './verdict.js';
import { KvWorkload } from './workload.js';

export const kvServicePath = fileURLToPath(new URL('./kv-service.js', import.meta.url));

export interface DemoOptions {
  readonly variant: Variant;
  readonly seed: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Drain the ledger on SIGINT/SIGTERM (the CLI asks for it). */
  readonly handleSignals?: boolean;
  /** The buggy service's flush period (default 1000 ms); the kill is timed from it. */
  readonly flushIntervalMs?: number;
  /** How long the workload goes on after the restart (default 1500 ms). */
  readonly afterRecoveryMs?: number;
  readonly clients?: number;
}

export interface DemoResult {
  readonly verdict: DemoVerdict;
  readonly ops: number;
  readonly elapsedMs: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const clock = realClock;
  const began = clock.now();
  // Made first, so the history's times (ns since the recorder was made) match the progress lines'.
  const recorder = new Recorder({ clock });
  const random = new Random(options.seed);
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const since = (): string => formatDuration(clock.now() - began);
  // A heal the run did not ask for is the Ledger draining on SIGINT/SIGTERM: say so once, then fall silent
  // (the run's own steps would only report the cleanup's effects as if they were the scenario's).
  const asked = { killLabel: '', healingKill: false, ending: false };
  let interrupted = false;
  const log = (line: string): void => {
    if (!interrupted) options.log(line);
  };
  const ledger = new Ledger({
    handleSignals: options.handleSignals ?? false,
    onHeal: (label) => {
      if (asked.ending || (label === asked.killLabel && asked.healingKill) || interrupted) return;
      log(`[${since()}] interrupted: stopping the service and removing its data`);
      interrupted = true;
    },
  });
  let workload: KvWorkload | undefined;
  try {
    const dataDir = tempDir();
    ledger.push('remove the demo data dir', () => rmSync(dataDir, { recursive: true, force: true }), {
      kind: 'file',
      path: dataDir,
      recursive: true,
      label: 'demo data dir',
    });
    const supervisor = new Supervisor({ stopGraceMs: 1000 });
    ledger.push('stop the demo service', () => supervisor.stopAll());

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const argv = [process.execPath, kvServicePath, '--data-dir', dataDir, '--port', String(port)];
    argv.push('--variant', options.variant, '--flush-interval-ms', String(flushIntervalMs));
    const target = await supervisor.start({
      name: 'kv',
      argv,
      ready: httpProbe({ url: `${baseUrl}/health`, status: 200, timeoutMs: 500 }),
      readyIntervalMs: 20,
      readyTimeoutMs: 10_000,
      restart: { policy: 'on-failure', backoffMs: 200 },
    });
    const startedAt = clock.now();
    log(
      `[${since()}] started the ${options.variant} kv service (pid ${target.pid}) on ${baseUrl}, data in ${dataDir}`,
    );

    const clients = options.clients ?? 4;
    workload = new KvWorkload({
      client: new KvClient(baseUrl),
      recorder,
      random: random.fork('workload'),
      clock,
      clients,
      pauseMs: 5,
      timeoutMs: 1000,
      maxOpsPerClient: 2000,
    });
    workload.start();
    log(`[${since()}] ${clients} clients writing, reading and compare-and-setting keys`);

    const killAfterMs = flushIntervalMs * (1 + random.fork('kill').between(0.3, 0.7));
    await clock.sleep(Math.max(0, startedAt + killAfterMs - clock.now()));
    const context = { ledger, clock, random: random.fork('faults') };
    const killedPid = target.pid;
    const killedAtNs = recorder.note('nemesis', 'kill', killedPid).time;
    const kill = await killFault({ target, signal: 'SIGKILL' }).inject(context);
    log(`[${since()}] SIGKILL kv (pid ${killedPid}), ${recorder.history().length} ops recorded so far`);
    asked.killLabel = kill.label;
    asked.healingKill = true;
    await kill.heal(); // the on-failure policy restarts it; the heal waits for that
    asked.healingKill = false;
    const recoveredAtNs = recorder.note('nemesis', 'recovered', target.pid).time;
    log(
      `[${since()}] kv restarted by its restart policy (pid ${target.pid}), down for ${formatDuration((recoveredAtNs - killedAtNs) / 1e6)}`,
    );

    await clock.sleep(options.afterRecoveryMs ?? 1500);
    await workload.stop();
    log(`[${since()}] workload stopped; final reads of ${workload.keys.length} keys`);
    await workload.finalReads();
    const history = recorder.history();
    log(`[${since()}] checking ${history.length} ops: acknowledged writes, linearizability`);
    const verdict = await judge(history, { killedAtNs, recoveredAtNs, timeoutMs: 20_000 });
    return { verdict, ops: history.length, elapsedMs: clock.now() - began };
  } finally {
    asked.ending = true;
    await workload?.stop(); // already stopped, unless the run failed half-way
    await ledger.close();
  }
}

/** The store's data dir: a fresh faultline-demo-… in the OS temp dir ($TMPDIR), or a clear error. */
function tempDir(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'faultline-demo-'));
  } catch (error) {
    throw new Error(`cannot create the store's data dir in ${tmpdir()} (TMPDIR): ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** A loopback port free right now (the service keeps it across restarts, so it is fixed up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port from the OS');
  return address.port;
}
