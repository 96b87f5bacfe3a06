// The nats-router chaos suite: a real nats-server with JetStream and the router, both supervised by
// faultline, under a steady stream of orders. Scenarios run in order against the same rig: NATS SIGKILL,
// NATS graceful SIGTERM, NATS SIGINT, router SIGKILL, router paused then resumed. Each measures time to
// green for NATS and the router (SLO 30 s). At the end the publishes and what came out of ROUTED form a
// history, and the total-queue and no-duplicates checkers prove no acknowledged order was lost and none
// was routed twice.
//
// Needs nats-server on PATH (or in /usr/sbin): apt-get install nats-server (.ci/run does).
// Run with: npx tsc -p . && node scripts/run-tests.mjs nats-router
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Ledger, Random, realClock } from 'faultline';
import { checkNoDuplicates, checkTotalQueue } from 'faultline/check';
import { buildHistory, type OpInput, Recorder } from 'faultline/history';
import {
  assertRecoveryWithin,
  functionProbe,
  gracefulStopFault,
  httpProbe,
  killFault,
  logProbe,
  type Probe,
  pauseFault,
  Supervisor,
  type Target,
  timeToGreen,
} from 'faultline/process';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';

const sloMs = 30_000;
/** Publishers × one publish per publishEveryMs each: 10 × 5/s = at most 50 orders/s. */
const publishers = 10;
const publishEveryMs = 200;
const tenants = ['acme', 'globex', 'initech', 'umbrella'] as const;
const ackWaitMs = 5000;
const routerPath = fileURLToPath(new URL('./router.js', import.meta.url));
const seed =
  process.env.FAULTLINE_SEED === undefined ? Random.freshSeed() : Number(process.env.FAULTLINE_SEED);

/** nats-server from PATH or the Debian location (/usr/sbin is not on every user's PATH). */
function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  return dirs
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, 'nats-server'))
    .find((file) => existsSync(file));
}

/** A port nothing listens on right now: bind 0, read it, release it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from bind(0)');
  return address.port;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function tail(file: string, bytes = 1500): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

interface Recovery {
  scenario: string;
  natsMs?: number;
  routerMs: number;
  resolutionMs: number;
  note: string;
}

/** Everything the scenarios share. */
class Rig {
  readonly ledger = new Ledger();
  readonly supervisor = new Supervisor({ stopGraceMs: 5000 });
  readonly recorder = new Recorder();
  readonly random = new Random(seed);
  readonly recoveries: Recovery[] = [];
  /** Probe orders seen on routed.probe (core subscription), by id. */
  readonly probesRouted = new Set<string>();
  /** Copies the router published per order id, as the test's core subscription saw them (misses outages). */
  readonly copiesSeen = new Map<string, number>();
  nats!: Target;
  router!: Target;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  natsHealth!: Probe;
  routing!: Probe;
  private publishing = false;
  private workers: Promise<void>[] = [];
  private nextOrder = 0;
  private nextProbe = 0;

  async start(): Promise<void> {
    const natsServer = findNatsServer();
    if (natsServer === undefined) {
      throw new Error(
        'nats-server is not installed: this suite runs a real NATS server. Install it with `apt-get install nats-server` (Debian/Ubuntu; .ci/run does this), or put nats-server v2.9+ on PATH.',
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'faultline-nats-router-'));
    this.ledger.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    this.ledger.push('stop supervised processes', () => this.supervisor.stopAll());
    const [port, monitorPort] = [await freePort(), await freePort()];
    const url = `nats://127.0.0.1:${port}`;
    this.natsHealth = httpProbe({ url: `http://127.0.0.1:${monitorPort}/healthz`, timeoutMs: 1000 });
    this.nats = await this.supervisor.start({
      name: 'nats',
      // The same store dir on every run: JetStream recovers the streams and the consumer from it.
      argv: [natsServer, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', dir],
      logDir: dir,
      ready: this.natsHealth,
      readyTimeoutMs: 20_000,
      restart: { policy: 'always', backoffMs: 100, maxBackoffMs: 2000 },
    });
    this.router = await this.supervisor.start({
      name: 'router',
      argv: [process.execPath, routerPath, '--nats', url, '--ack-wait-ms', String(ackWaitMs)],
      logDir: dir,
      ready: (target) => logProbe({ target, pattern: /\bready$/ }),
      readyTimeoutMs: 20_000,
      restart: { policy: 'on-failure', backoffMs: 100, maxBackoffMs: 2000 },
    });
    this.nc = await connect({
      servers: url,
      name: 'chaos-test',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      timeout: 2000,
    });
    const nc = this.nc;
    this.ledger.push('close the test client', async () => {
      if (!nc.isClosed()) await nc.close();
    });
    this.js = nc.jetstream({ timeout: 3000 });
    this.jsm = await nc.jetstreamManager({ timeout: 3000 });
    nc.subscribe('routed.>', {
      callback: (error, message) => {
        if (error !== null) return;
        const id = (message.json() as { id?: unknown }).id;
        if (typeof id !== 'string') return;
        this.copiesSeen.set(id, (this.copiesSeen.get(id) ?? 0) + 1);
        if (message.subject === 'routed.probe') this.probesRouted.add(id);
      },
    });
    await nc.flush();
    this.routing = functionProbe('a fresh order is routed within 3 s', (signal) => this.probeRouting(signal));
  }

  /** Publishes a probe order (recorded like any other) and waits for its routed copy. */
  private async probeRouting(signal?: AbortSignal): Promise<void> {
    const id = `probe-${++this.nextProbe}`;
    // A short publish timeout keeps each failing attempt short, so the measured time is fine-grained.
    const outcome = await this.publish(`probe-${this.nextProbe}`, id, 'probe', 1000);
    if (outcome !== 'ok') throw new Error(`publishing ${id} did not succeed (${outcome})`);
    const deadline = performance.now() + 3000;
    while (!this.probesRouted.has(id)) {
      if (performance.now() > deadline) throw new Error(`${id} was not routed within 3 s`);
      await sleep(25, undefined, signal === undefined ? {} : { signal });
    }
  }

  /** One recorded publish of order `id`: `ok` when ORDERS acknowledged it, `info` when we cannot know. */
  private async publish(process: string, id: string, tenant: string, timeoutMs: number): Promise<string> {
    const body = JSON.stringify({ id, tenant, amount: 1 + this.random.int(1000) });
    const outcome = await this.recorder.attempt(
      process,
      'enqueue',
      id,
      () => this.js.publish(`orders.${tenant}`, body, { msgID: id, timeout: timeoutMs - 200 }),
      { timeoutMs },
    );
    return outcome.type === 'ok' ? 'ok' : `${outcome.type}: ${messageOf(outcome.error)}`;
  }

  startPublishing(): void {
    this.publishing = true;
    for (let w = 0; w < publishers; w++) {
      this.workers.push(
        (async () => {
          while (this.publishing) {
            const n = this.nextOrder++;
            const tenant = tenants[n % tenants.length] as string;
            await this.publish(`pub-${w}`, `order-${n}`, tenant, 3500);
            await sleep(publishEveryMs);
          }
        })(),
      );
    }
  }

  async stopPublishing(): Promise<void> {
    this.publishing = false;
    await Promise.all(this.workers);
  }

  get published(): number {
    return this.nextOrder;
  }

  async consumerState(): Promise<{ pending: number; ackPending: number }> {
    const info = await this.jsm.consumers.info('ORDERS', 'router');
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  /** Times NATS (when it was the one hit) and the router back to green from `from`; asserts the SLO. */
  async measure(scenario: string, from: number, natsHit: boolean, note: string): Promise<Recovery> {
    const options = { from, timeoutMs: sloMs, intervalMs: 50 };
    const nats = natsHit
      ? await assertRecoveryWithin(timeToGreen(this.natsHealth, options), sloMs)
      : undefined;
    const router = await assertRecoveryWithin(
      timeToGreen(this.routing, { ...options, intervalMs: 100 }),
      sloMs,
    );
    const recovery: Recovery = {
      scenario,
      routerMs: 'ms' in router ? router.ms : router.elapsedMs,
      resolutionMs: router.resolutionMs,
      note,
    };
    if (nats !== undefined) recovery.natsMs = 'ms' in nats ? nats.ms : nats.elapsedMs;
    this.recoveries.push(recovery);
    console.log(
      `${scenario}: NATS green after ${recovery.natsMs?.toFixed(0) ?? '-'} ms, router after ${recovery.routerMs.toFixed(0)} ms (±${recovery.resolutionMs.toFixed(0)} ms); ${note}`,
    );
    return recovery;
  }

  faultContext() {
    return { ledger: this.ledger, clock: realClock, random: this.random.fork('faults'), log: console.log };
  }

  table(): string {
    const rows = this.recoveries.map(
      (r) =>
        `| ${r.scenario.padEnd(26)} | ${(r.natsMs === undefined ? '-' : `${(r.natsMs / 1000).toFixed(2)} s`).padStart(8)} | ${`${(r.routerMs / 1000).toFixed(2)} s`.padStart(8)} | ${r.note} |`,
    );
    return [
      `| ${'scenario'.padEnd(26)} | ${'NATS'.padStart(8)} | ${'router'.padStart(8)} | note |`,
      `|${'-'.repeat(28)}|${'-'.repeat(9)}:|${'-'.repeat(9)}:|------|`,
      ...rows,
    ].join('\n');
  }

  logs(): string {
    const parts: string[] = [];
    for (const target of [this.nats, this.router]) {
      if (target === undefined) continue;
      parts.push(`--- ${target.name} stdout ---\n${tail(target.logFile('stdout'))}`);
      parts.push(`--- ${target.name} stderr ---\n${tail(target.logFile('stderr'))}`);
    }
    return parts.join('\n');
  }
}

describe('nats-router under process faults', { concurrency: false }, () => {
  const rig = new Rig();
  let failed = false;

  before(async () => {
    console.log(
      `nats-router chaos: seed ${seed} — replay with FAULTLINE_SEED=${seed} node scripts/run-tests.mjs nats-router`,
    );
    await rig.start();
    await assertRecoveryWithin(timeToGreen(rig.routing, { timeoutMs: 10_000, intervalMs: 100 }), 10_000);
    rig.startPublishing();
    await sleep(1500); // a backlog of acknowledged orders before the first fault
  });

  after(async () => {
    await rig.stopPublishing().catch(() => {});
    if (failed) console.log(rig.logs());
    await rig.ledger.close();
  });

  const scenario = (name: string, body: () => Promise<void>): void => {
    it(name, async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  };

  scenario('NATS SIGKILL: its supervisor restarts it on the same store; the router reconnects', async () => {
    const from = realClock.now();
    const injection = await killFault({ target: rig.nats, signal: 'SIGKILL' }).inject(rig.faultContext());
    assert.equal(injection.details.exit?.signal, 'SIGKILL');
    await rig.measure('NATS SIGKILL', from, true, 'restart policy always, same -sd store');
    await injection.heal();
  });

  scenario('NATS SIGTERM: graceful stop, then started again', async () => {
    const from = realClock.now();
    const injection = await gracefulStopFault({ target: rig.nats, graceMs: 10_000 }).inject(
      rig.faultContext(),
    );
    assert.equal(injection.details.endedBy, 'SIGTERM', 'nats-server should exit on SIGTERM within the grace');
    await injection.heal(); // the operator (or systemd) starts it again at once
    await rig.measure(
      'NATS SIGTERM (graceful)',
      from,
      true,
      `exited ${injection.details.afterMs.toFixed(0)} ms after SIGTERM, then restarted`,
    );
  });

  scenario('NATS SIGINT: its supervisor restarts it', async () => {
    const from = realClock.now();
    const injection = await killFault({ target: rig.nats, signal: 'SIGINT' }).inject(rig.faultContext());
    assert.notEqual(injection.details.exit, undefined, 'nats-server should exit on SIGINT');
    await rig.measure('NATS SIGINT', from, true, 'restart policy always');
    await injection.heal();
  });

  scenario('router SIGKILL: its supervisor restarts it; in-flight orders are redelivered', async () => {
    const restartsBefore = rig.router.restarts;
    const from = realClock.now();
    const injection = await killFault({ target: rig.router, signal: 'SIGKILL' }).inject(rig.faultContext());
    assert.equal(injection.details.exit?.signal, 'SIGKILL');
    await rig.measure('router SIGKILL', from, false, 'restart policy on-failure');
    await injection.heal();
    assert.ok(rig.router.restarts > restartsBefore, 'the supervisor restarted the router');
  });

  scenario('router paused: lag builds up, then the backlog drains after resume', async () => {
    const before = await rig.consumerState();
    const injection = await pauseFault({ target: rig.router }).inject(rig.faultContext());
    const pausedAt = realClock.now();
    await sleep(4000);
    const during = await rig.consumerState();
    assert.ok(
      during.pending >= before.pending + 50,
      `num_pending should grow while the router is paused (before ${before.pending}, during ${during.pending})`,
    );
    const resumedAt = realClock.now();
    await injection.heal();
    const drained = await assertRecoveryWithin(
      timeToGreen(
        functionProbe('num_pending back to 0', async () => {
          const { pending } = await rig.consumerState();
          if (pending > 0) throw new Error(`num_pending ${pending}`);
        }),
        { from: resumedAt, timeoutMs: sloMs, intervalMs: 50 },
      ),
      sloMs,
    );
    const drainMs = 'ms' in drained ? drained.ms : drained.elapsedMs;
    await rig.measure(
      'router paused 4 s',
      resumedAt,
      false,
      `lag ${during.pending} after ${((resumedAt - pausedAt) / 1000).toFixed(1)} s (${injection.details.method}); drained ${drainMs.toFixed(0)} ms after resume`,
    );
  });

  scenario('router SIGKILL while it drains a backlog: redelivered orders are not routed twice', async () => {
    // A backlog keeps the router busy, so the kill lands between a publish and its ack for some orders.
    const paused = await pauseFault({ target: rig.router }).inject(rig.faultContext());
    await sleep(2000);
    await paused.heal();
    await sleep(10);
    const from = realClock.now();
    const injection = await killFault({ target: rig.router, signal: 'SIGKILL' }).inject(rig.faultContext());
    assert.equal(injection.details.exit?.signal, 'SIGKILL');
    await rig.measure('router SIGKILL mid-backlog', from, false, 'killed 10 ms into draining a 2 s backlog');
    await injection.heal();
  });

  scenario('no acknowledged order lost, none routed twice', async () => {
    await rig.stopPublishing();
    // Everything routed: nothing left to deliver and nothing awaiting an ack (redeliveries included).
    await assertRecoveryWithin(
      timeToGreen(
        functionProbe('consumer drained', async () => {
          const { pending, ackPending } = await rig.consumerState();
          if (pending + ackPending > 0)
            throw new Error(`num_pending ${pending}, num_ack_pending ${ackPending}`);
        }),
        { timeoutMs: ackWaitMs * 4, intervalMs: 100 },
      ),
      ackWaitMs * 4,
    );
    const expected = (await rig.jsm.streams.info('ROUTED')).state.messages;
    // Read ROUTED back with an ordered consumer: one dequeue op per stored copy.
    const reads: OpInput[] = [];
    const routes: OpInput[] = [];
    const misrouted: string[] = [];
    const consumer = await rig.js.consumers.get('ROUTED');
    for (let round = 0; reads.length < expected * 2 && round < 100; round++) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      let got = 0;
      for await (const message of batch) {
        got++;
        const { id, tenant } = message.json() as { id: string; tenant: string };
        if (message.subject !== `routed.${tenant}`) misrouted.push(`${id} on ${message.subject}`);
        reads.push({ process: 'reader', type: 'invoke', f: 'dequeue', value: null });
        reads.push({ process: 'reader', type: 'ok', f: 'dequeue', value: id });
        routes.push({ process: 'reader', type: 'invoke', f: 'route', value: { id } });
        routes.push({ process: 'reader', type: 'ok', f: 'route', value: { id } });
      }
      if (got === 0) break;
    }
    assert.equal(reads.length / 2, expected, 'read back every message ROUTED holds');
    assert.deepEqual(misrouted, [], 'every order routed to its own tenant');
    const history = buildHistory([...rig.recorder.history(), ...reads]);
    const total = checkTotalQueue(history);
    const duplicates = checkNoDuplicates(buildHistory(routes), { applyF: 'route' });
    console.log(`total-queue: ${JSON.stringify(total.stats)}`);
    console.log(`no-duplicates: valid ${duplicates.valid}, ${JSON.stringify(duplicates.stats)}`);
    assert.equal(total.valid, true, total.anomalies.map((a) => a.message).join('\n'));
    assert.equal(duplicates.valid, true, duplicates.anomalies.map((a) => a.message).join('\n'));
    let copies = 0;
    for (const n of rig.copiesSeen.values()) copies += n;
    console.log(
      `the router published ${copies} copies the test saw for ${rig.copiesSeen.size} orders: at least ${copies - rig.copiesSeen.size} were redelivered duplicates that ROUTED's duplicate window dropped`,
    );
    console.log(
      `\nnats-router recovery times (SLO ${sloMs / 1000} s; ${rig.published} orders published at ≤${(publishers * 1000) / publishEveryMs}/s, ${expected} routed)\n${rig.table()}\n`,
    );
  });
});
