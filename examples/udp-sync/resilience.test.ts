// The udp-sync protocol through faultline's UDP proxy, one fault per test. Each test starts a server, a
// proxy in front of it and a client talking to the proxy; applies the fault; makes a bounded stream of
// changes; then proves with faultline's checkers that the replicas converged (checkConvergence over
// reads of both states) and that no version was applied twice (checkNoDuplicates over the server's
// applications), that nothing the client wrote was lost, and that the session survived; then heals.
//
// Run with: npx tsc -p . && node scripts/run-tests.mjs udp-sync/resilience
// Replay a run: FAULTLINE_SEED=<seed printed first> node scripts/run-tests.mjs udp-sync/resilience
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { Random } from 'faultline';
import { type CheckResult, checkConvergence, checkNoDuplicates } from 'faultline/check';
import { buildHistory, type OpInput } from 'faultline/history';
import { type UdpImpairments, UdpProxy } from 'faultline/proxy';
import { SyncClient } from './client.js';
import type { JsonValue, State } from './protocol.js';
import { type RoamEvent, SyncServer } from './server.js';
import { waitUntil } from './test-support.js';

const seed =
  process.env.FAULTLINE_SEED === undefined ? Random.freshSeed() : Number(process.env.FAULTLINE_SEED);
console.log(
  `udp-sync resilience: seed ${seed} — replay with FAULTLINE_SEED=${seed} node scripts/run-tests.mjs udp-sync/resilience`,
);

/** The client reports the server down after this long without a reply (its default): well above the worst round trip here (1.2 s). */
const serverTimeoutMs = 3000;
const sampleEveryMs = 25;

type TestContext = {
  name: string;
  after: (fn: () => Promise<void>) => void;
  diagnostic: (message: string) => void;
};

/** Server, proxy and client wired together, with everything the checks need recorded as it happens. */
class Rig {
  /** Reads of both replicas' states, as `{ replica, state }` ops: the convergence checker's input. */
  private readonly reads: OpInput[] = [];
  /** One op per diff the server applied, id `session:seq`: the no-duplicates checker's input. */
  private readonly applies: OpInput[] = [];
  /** What the client was told to hold: the truth both replicas must end with. */
  readonly model = new Map<string, JsonValue>();
  readonly roams: RoamEvent[] = [];
  downs = 0;
  sessionsOpened = 0;
  expired = 0;
  private readonly startedAt = performance.now();
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    private readonly t: TestContext,
    readonly server: SyncServer,
    readonly proxy: UdpProxy,
    readonly client: SyncClient,
  ) {
    server.on('apply', (e) => {
      const value = { id: `${e.session}:${e.seq}` };
      this.applies.push({ process: 'server', type: 'invoke', f: 'apply', value, time: this.now() });
      this.applies.push({ process: 'server', type: 'ok', f: 'apply', value, time: this.now() });
    });
    server.on('session', () => this.sessionsOpened++);
    server.on('expire', () => this.expired++);
    server.on('roam', (e) => this.roams.push(e));
    client.on('down', () => this.downs++);
  }

  static async start(t: TestContext): Promise<Rig> {
    const server = new SyncServer();
    const upstream = await server.start({ host: '127.0.0.1', port: 0 });
    const name = t.name.replace(/[^a-z0-9]+/gi, '-');
    const proxy = new UdpProxy({
      name,
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${upstream.port}`,
      random: new Random(seed),
    });
    const client = new SyncClient({ serverTimeoutMs });
    const rig = new Rig(t, server, proxy, client);
    t.after(async () => {
      clearInterval(rig.sampler);
      await client.close();
      await proxy.stop();
      await server.close();
    });
    await proxy.start();
    await client.connect({ host: '127.0.0.1', port: proxy.port });
    await client.whenSynced(5000); // the session is open before any fault
    rig.sampler = setInterval(() => rig.read(), sampleEveryMs);
    return rig;
  }

  /** Nanoseconds since the rig started: the histories' time base. */
  now(): number {
    return Math.round((performance.now() - this.startedAt) * 1e6);
  }

  serverState(): State | undefined {
    return this.server.session(this.client.session)?.state;
  }

  impair(direction: 'upstream' | 'downstream' | 'both', impairments: UdpImpairments): void {
    this.proxy.impair(direction, impairments);
    this.note('impair', { direction, impairments });
  }

  heal(): void {
    this.proxy.heal();
    this.note('heal', null);
  }

  /**
   * A stream of `count` changes, one per `everyMs`: sets over a few keys, deletes, and multi-key
   * updates, so diffs carry values, tombstones and several keys. `during(i)` runs before change i.
   */
  async churn(count: number, everyMs: number, during?: (i: number) => Promise<void> | void): Promise<void> {
    for (let i = 0; i < count; i++) {
      await during?.(i);
      if (i % 7 === 6) this.update({ [`n${i % 3}`]: { i }, last: i });
      else if (i % 5 === 4) this.remove(`k${(i * 3) % 12}`);
      else this.update({ [`k${i % 12}`]: i });
      await sleep(everyMs);
    }
  }

  /** A transfer: `count` distinct keys, one per `everyMs`; every one must arrive. */
  async transfer(
    count: number,
    everyMs: number,
    during?: (i: number) => Promise<void> | void,
  ): Promise<void> {
    for (let i = 0; i < count; i++) {
      await during?.(i);
      this.update({ [`t${String(i).padStart(3, '0')}`]: i });
      await sleep(everyMs);
    }
  }

  /**
   * Waits (up to `deadlineMs` after the changes stopped and the fault healed, `healedAtNs`) for both
   * replicas to agree and the client to know it, then checks and asserts: converged, applied once, no
   * data lost, one session throughout.
   */
  async verify(options: { deadlineMs: number; healedAtNs?: number }): Promise<{ convergedInMs: number }> {
    const healedAt = options.healedAtNs ?? this.now();
    const agreed = (): boolean =>
      isDeepStrictEqual(this.serverState(), this.client.state) && this.client.synced;
    const remainingMs = options.deadlineMs - (this.now() - healedAt) / 1e6;
    // A timeout is not thrown here: the convergence checker gives the verdict, with its evidence.
    const convergedInMs = await waitUntil(agreed, remainingMs, 'convergence', 5).catch(() => Number.NaN);
    clearInterval(this.sampler);
    this.read();

    const convergence = checkConvergence(buildHistory(this.reads), {
      deadlineNs: options.deadlineMs * 1e6,
      healedAt,
      replicas: ['client', 'server'],
    });
    const appliedOnce = checkNoDuplicates(buildHistory(this.applies));
    const counters = this.proxy.counters();
    this.t.diagnostic(
      `converged ${Number.isNaN(convergedInMs) ? 'NOT' : `in ${convergedInMs.toFixed(0)} ms`}; ` +
        `server ${JSON.stringify(this.server.stats)}; client ${JSON.stringify(this.client.stats)}; ` +
        `proxy up ${JSON.stringify(counters.upstream)} down ${JSON.stringify(counters.downstream)}; ` +
        `downs ${this.downs}, roams ${this.roams.length}`,
    );
    assertValid(convergence);
    assertValid(appliedOnce);
    assert.ok((appliedOnce.stats?.applications ?? 0) > 0, 'the server applied diffs');

    // No data loss: the server holds every change the client made (and the client's own copy agrees).
    const expected = Object.fromEntries(this.model);
    assert.deepEqual(this.client.state, expected);
    assert.deepEqual(this.serverState(), expected);
    // One session from start to end: never expired, never reopened.
    assert.deepEqual(
      this.server.sessions().map((s) => s.id),
      [this.client.session],
    );
    assert.equal(this.sessionsOpened, 1);
    assert.equal(this.expired, 0);
    assert.ok(this.client.connected, 'the client hears the server again');
    return { convergedInMs };
  }

  private update(partial: Record<string, JsonValue>): void {
    this.client.update(partial);
    for (const [key, value] of Object.entries(partial)) this.model.set(key, value);
  }

  private remove(key: string): void {
    this.client.delete(key);
    this.model.delete(key);
  }

  private read(): void {
    for (const [replica, state] of [
      ['client', this.client.state],
      ['server', this.serverState() ?? null],
    ] as const) {
      const time = this.now();
      this.reads.push({ process: replica, type: 'invoke', f: 'read', value: { replica }, time });
      this.reads.push({ process: replica, type: 'ok', f: 'read', value: { replica, state }, time });
    }
  }

  private note(f: string, value: unknown): void {
    const time = this.now();
    this.reads.push({ process: 'nemesis', type: 'invoke', f, value, time });
    this.reads.push({ process: 'nemesis', type: 'info', f, value, time });
  }
}

function assertValid(result: CheckResult): void {
  const why = [result.reason, ...result.anomalies.map((a) => `[${a.type}] ${a.message}`)].filter(Boolean);
  assert.equal(result.valid, true, `${result.checker}: ${why.join('; ')}`);
}

for (const probability of [0.1, 0.3, 0.5]) {
  test(`${probability * 100} % loss both ways: sync converges within 10 s, each diff applied once`, async (t) => {
    const rig = await Rig.start(t);
    rig.impair('both', { loss: { probability } });
    await rig.churn(60, 20);
    await rig.verify({ deadlineMs: 10_000 });
    const { upstream, downstream } = rig.proxy.counters();
    assert.ok(upstream.dropped + downstream.dropped > 0, 'the proxy dropped datagrams');
    rig.heal();
  });
}

for (const ms of [100, 500]) {
  test(`${ms} ms delay both ways: the session stays up`, async (t) => {
    const rig = await Rig.start(t);
    const faultAt = performance.now();
    rig.impair('both', { delay: { ms } });
    await rig.churn(30, 20);
    await rig.verify({ deadlineMs: 5000 });
    // Hold the fault past the client's down timeout: heartbeats must keep the session visibly alive.
    await sleep(Math.max(0, faultAt + serverTimeoutMs + 1000 - performance.now()));
    assert.equal(rig.downs, 0, 'the client never lost the server');
    assert.equal(rig.server.sessions().length, 1);
    rig.heal();
  });
}

test('variable delay 100–500 ms: stable', async (t) => {
  const rig = await Rig.start(t);
  const faultAt = performance.now();
  rig.impair('both', { delay: { ms: 300, jitterMs: 200, distribution: 'uniform' } });
  await rig.churn(40, 20);
  await rig.verify({ deadlineMs: 5000 });
  await sleep(Math.max(0, faultAt + serverTimeoutMs + 1000 - performance.now()));
  assert.equal(rig.downs, 0, 'the client never lost the server');
  rig.heal();
});

test('jitter ±100 ms: no diff is applied twice', async (t) => {
  const rig = await Rig.start(t);
  rig.impair('both', { delay: { ms: 100, jitterMs: 100 } });
  await rig.churn(50, 10);
  await rig.verify({ deadlineMs: 5000 });
  rig.heal();
});

test('jitter ±300 ms: sync recovers', async (t) => {
  const rig = await Rig.start(t);
  rig.impair('both', { delay: { ms: 300, jitterMs: 300 } });
  await rig.churn(50, 10);
  await rig.verify({ deadlineMs: 5000 });
  rig.heal();
});

test('reordering: diffs are idempotent, superseded ones are not applied', async (t) => {
  const rig = await Rig.start(t);
  rig.impair('both', { reorder: { probability: 0.5, gap: 3 } });
  await rig.churn(60, 5);
  await rig.verify({ deadlineMs: 5000 });
  assert.ok(rig.proxy.counters().upstream.reordered > 0, 'the proxy reordered datagrams');
  rig.heal();
});

for (const copies of [1, 2]) {
  test(`duplication ×${copies + 1}: every copy after the first is ignored`, async (t) => {
    const rig = await Rig.start(t);
    rig.impair('both', { duplicate: { probability: 1, copies } });
    await rig.churn(40, 10);
    await rig.verify({ deadlineMs: 5000 });
    assert.ok(rig.proxy.counters().upstream.duplicated > 0, 'the proxy duplicated datagrams');
    assert.ok(rig.server.stats.current > 0, 'the server saw copies of the version it held');
    rig.heal();
  });
}

for (const seconds of [5, 10]) {
  test(`${seconds} s partition: the session recovers`, async (t) => {
    const rig = await Rig.start(t);
    await rig.churn(10, 20);
    rig.impair('both', { blackhole: true });
    const partitionedAt = performance.now();
    await rig.churn(20, 20); // changes the server cannot hear about yet
    await waitUntil(() => rig.downs > 0, serverTimeoutMs + 2000, 'the client to notice the partition');
    await sleep(Math.max(0, partitionedAt + seconds * 1000 - performance.now()));
    rig.heal();
    await rig.verify({ deadlineMs: 5000 });
  });
}

test('partition during an active transfer: no data loss', async (t) => {
  const rig = await Rig.start(t);
  let healedAt = 0;
  await rig.transfer(80, 25, async (i) => {
    if (i === 20) rig.impair('both', { blackhole: true });
    if (i === 60) {
      rig.heal();
      healedAt = rig.now();
    }
  });
  assert.ok(healedAt > 0);
  await rig.verify({ deadlineMs: 5000 });
  assert.equal(Object.keys(rig.serverState() ?? {}).length, 80, 'every key of the transfer arrived');
});

test('IP migration during a transfer: no data loss, same session', async (t) => {
  const rig = await Rig.start(t);
  const before = rig.server.session(rig.client.session);
  await rig.transfer(80, 25, async (i) => {
    if (i === 40) await rig.proxy.roam({ address: '127.0.0.2' });
  });
  await rig.verify({ deadlineMs: 5000 });
  const after = rig.server.session(rig.client.session);
  assert.equal(after?.address, '127.0.0.2', 'the server follows the new address');
  assert.notEqual(`${after?.address}:${after?.port}`, `${before?.address}:${before?.port}`);
  assert.equal(rig.roams.length, 1);
  assert.equal(Object.keys(rig.serverState() ?? {}).length, 80, 'every key of the transfer arrived');
});

test('rapid IP changes every 2 s: stable', async (t) => {
  const rig = await Rig.start(t);
  const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const roamer = rig.proxy.roamEvery(2000, { addresses });
  t.after(async () => roamer.stop());
  await rig.churn(70, 100); // 7 s: three moves
  roamer.stop();
  await rig.verify({ deadlineMs: 5000 });
  assert.ok(rig.roams.length >= 3, `the server followed ${rig.roams.length} moves`);
  assert.deepEqual(
    rig.roams.slice(0, 3).map((r) => r.to.split(':')[0]),
    addresses,
  );
  assert.equal(rig.downs, 0, 'the client never lost the server');
});

test('IP migration under 50 % loss: works', async (t) => {
  const rig = await Rig.start(t);
  rig.impair('both', { loss: { probability: 0.5 } });
  await rig.churn(40, 20, async (i) => {
    if (i === 20) await rig.proxy.roam({ address: '127.0.0.5' });
  });
  await rig.verify({ deadlineMs: 10_000 });
  assert.equal(rig.server.session(rig.client.session)?.address, '127.0.0.5');
  rig.heal();
});
