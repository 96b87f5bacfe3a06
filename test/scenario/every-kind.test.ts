// Scenario files exercise every fault kind of the registry through real runs: one file per family
// (test/scenario/fixtures/), each kind injected and healed, an effect observed where it is cheap, and
// nothing left behind. A kind registered without a scenario that covers it fails the first test.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import '../../src/scenario/fault-families.js';
import { type FaultlineEvent, subscribe } from '../../src/core/events.js';
import { faultKinds } from '../../src/core/fault-registry.js';
import { cgroupSupport, findFaultCgroups } from '../../src/os/index.js';
import { loadScenario } from '../../src/scenario/load.js';
import { type RunResult, runScenario } from '../../src/scenario/runner.js';
import { freePort, pidAlive } from '../support/ports.js';

const fixtures = fileURLToPath(new URL('../../../test/scenario/fixtures/', import.meta.url));
const families = ['tcp', 'udp', 'net', 'process', 'resource'] as const;
type Family = (typeof families)[number];

/** The resource limits are cgroups: root and the memory, cpu and pids controllers. */
async function resourceSkip(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root: the resource limits are cgroups';
  const support = await cgroupSupport();
  for (const name of ['memory', 'cpu', 'pids'] as const) {
    const controller = support.controllers[name];
    if (!controller.writable) return controller.reason ?? `no writable ${name} cgroup`;
  }
  return false;
}

/** Every `kind = "…"` of a fixture, read as the runner reads it. */
async function kindsOf(family: Family): Promise<string[]> {
  const scenario = await loadScenario(`${fixtures}${family}.toml`);
  return (scenario.faults ?? []).flatMap((entry) => entry.choices.map((choice) => choice.kind));
}

interface Run {
  readonly result: RunResult;
  readonly events: readonly FaultlineEvent[];
  readonly pids: readonly number[];
}

async function run(family: Family): Promise<Run> {
  const scenario = await loadScenario(`${fixtures}${family}.toml`);
  const events: FaultlineEvent[] = [];
  const pids: number[] = [];
  const stop = subscribe((event) => events.push(event), ['fault.inject', 'fault.heal', 'phase', 'probe']);
  try {
    const result = await runScenario(scenario, {
      log: (line) => {
        const pid = /^target \S+ \(process\) up pid (\d+)/.exec(line)?.[1];
        if (pid !== undefined) pids.push(Number(pid));
      },
    });
    return { result, events, pids };
  } finally {
    stop();
  }
}

/** Each kind of the file injected once and healed, without an error; the run passed. */
function assertInjectedAndHealed({ result, events }: Run, kinds: readonly string[]): void {
  const probeErrors = [
    ...new Set(events.flatMap((e) => (e.type === 'probe' && !e.ok ? [`${e.name}: ${e.error}`] : []))),
  ];
  const detail = `${result.verdict}: ${result.reason}\nprobe errors: ${probeErrors.slice(-5).join('\n')}\n${JSON.stringify(result.injections, null, 1).slice(0, 3000)}`;
  assert.equal(result.verdict, 'pass', detail);
  // In the order they were scheduled, not written: compared as sets of kinds.
  assert.deepEqual(
    result.injections
      .map((r) => [r.step.kind, r.injectedAtMs !== undefined, r.healedAtMs !== undefined, r.error ?? null])
      .sort(),
    kinds.map((kind) => [kind, true, true, null]).sort(),
    detail,
  );
  const injected = events.filter(
    (e): e is Extract<FaultlineEvent, { type: 'fault.inject' }> => e.type === 'fault.inject',
  );
  const healed = new Set(events.filter((e) => e.type === 'fault.heal').map((e) => (e as { id: number }).id));
  for (const kind of kinds) {
    const event = injected.find((e) => e.kind === kind);
    assert.ok(event !== undefined, `no fault.inject event of ${kind}`);
    assert.ok(healed.has(event.id), `no fault.heal event of ${kind}`);
  }
}

/** Nothing of the run is left: its target processes gone, no cgroup of this process. */
async function assertNothingLeft({ pids }: Run): Promise<void> {
  for (const pid of pids) assert.equal(pidAlive(pid), false, `target pid ${pid} outlived the run`);
  const mine = (await findFaultCgroups()).filter((path) => path.includes(`/faultline-${process.pid}-`));
  assert.deepEqual(mine, [], 'cgroups left');
}

const sockets = new Set<Socket>();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const close of closers) await close();
});

/** A TCP server on loopback that answers each line; its address. */
async function echoServer(): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('every fault kind from scenario files', () => {
  before(async () => {
    process.env.FAULTLINE_TEST_NODE = process.execPath;
    process.env.FAULTLINE_TEST_PORT = String(await freePort());
    for (let i = 1; i <= 5; i++) process.env[`FAULTLINE_TEST_NODE${i}`] = await echoServer();
    const udp = createSocket('udp4');
    udp.on('message', (message, from) => udp.send(message, from.port, from.address));
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    closers.push(() => new Promise((resolve) => udp.close(() => resolve())));
    process.env.FAULTLINE_TEST_UDP_PORT = String(udp.address().port);
  });

  it('the scenario files cover every registered kind, each once', async () => {
    const covered = (await Promise.all(families.map(kindsOf))).flat();
    assert.deepEqual(
      [...covered].sort(),
      faultKinds()
        .map((info) => info.kind)
        .sort(),
    );
  });

  it('tcp: every toxic injected and healed; while tcp.timeout is in force nothing is answered', async () => {
    const done = await run('tcp');
    assertInjectedAndHealed(done, await kindsOf('tcp'));
    assert.deepEqual(
      done.result.steadyStateAfter.map((o) => o.ok),
      [true],
      'after the heals the proxy passes requests again',
    );
    const timeout = done.result.injections.find((r) => r.step.kind === 'tcp.timeout');
    // The samples' clock starts a moment before the schedule's: a margin on both sides.
    const from = (timeout?.injectedAtMs ?? 0) + 100;
    const until = (timeout?.healedAtMs ?? 0) - 250;
    const during = done.result.samples.filter(
      (s) => s.probe === 'sampled' && s.atMs >= from && s.atMs <= until,
    );
    assert.ok(during.length > 0, 'sampled while tcp.timeout was in force');
    assert.ok(
      during.every((s) => !s.ok),
      `a request was answered through tcp.timeout: ${JSON.stringify(during)}`,
    );
    await assertNothingLeft(done);
  });

  it('udp: every impairment injected and healed', async () => {
    const done = await run('udp');
    assertInjectedAndHealed(done, await kindsOf('udp'));
    await assertNothingLeft(done);
  });

  it('net: every network operation injected and healed', async () => {
    const done = await run('net');
    assertInjectedAndHealed(done, await kindsOf('net'));
    await assertNothingLeft(done);
  });

  it('process: every process fault injected and healed; the stopped targets were started again', async () => {
    const done = await run('process');
    assertInjectedAndHealed(done, await kindsOf('process'));
    assert.deepEqual(done.result.steadyStateAfter, [{ name: 'started again', ok: true }]);
    await assertNothingLeft(done);
  });

  it('resource: every resource fault injected and healed; no cgroup, stressor or fill file left', async (t) => {
    const skip = await resourceSkip();
    if (skip !== false) {
      t.skip(skip);
      return;
    }
    const fills: string[] = [];
    const stop = subscribe(
      (event) => {
        const { params } = event as { params?: { dir?: unknown } };
        if (typeof params?.dir === 'string') fills.push(params.dir);
      },
      ['fault.inject'],
    );
    let done: Run;
    try {
      done = await run('resource');
    } finally {
      stop();
    }
    assertInjectedAndHealed(done, await kindsOf('resource'));
    for (const dir of fills) assert.equal(existsSync(dir), false, `${dir} left`);
    await assertNothingLeft(done);
  });
});
