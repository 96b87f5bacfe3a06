// The method's fault schedule on a VirtualClock: real faults on a real TcpProxy, injected and healed at
// exactly the planned instants.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createFault } from '../../src/core/fault-registry.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { TcpProxy } from '../../src/proxy/tcp-proxy.js';
import '../../src/proxy/tcp-faults.js';
import '../../src/scenario/fault-families.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';
import { runSchedule } from '../../src/scenario/method.js';
import {
  type FaultStart,
  type PlannedInjection,
  type ResolvedSchedule,
  resolveEntries,
} from '../../src/scenario/schedule.js';

/** Lets async steps settle, then moves the clock timer by timer up to `target`. */
async function advanceTo(clock: VirtualClock, target: number): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = clock.nextDueAt();
    if (next === undefined || next > target) break;
    clock.advance(next - clock.now());
  }
  clock.advance(target - clock.now());
  await new Promise((resolve) => setImmediate(resolve));
}

function rig(t: TestContext) {
  const clock = new VirtualClock();
  const proxy = new TcpProxy({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:1', clock });
  const ledger = new Ledger({ clock });
  t.after(async () => {
    await ledger.close();
    await proxy.stop();
  });
  const context = { ledger, clock, random: new Random(1) };
  const inject = (step: PlannedInjection) =>
    createFault(step.kind, { ...step.params, proxy }).inject(context);
  return { clock, proxy, ledger, inject };
}

const step = (
  atMs: number,
  kind: string,
  healAtMs?: number,
  params: Record<string, unknown> = {},
): PlannedInjection => ({
  entry: 0,
  tick: 0,
  atMs,
  ...(healAtMs === undefined ? {} : { healAtMs }),
  kind,
  params: { name: `${kind}@${atMs}`, ...params },
});

describe('runSchedule', () => {
  it('injects and heals at exactly the planned instants; untimed faults stay until the end', async (t) => {
    const { clock, proxy, inject, ledger } = rig(t);
    const run = runSchedule(
      [step(1000, 'tcp.latency', 3000), step(2000, 'tcp.timeout'), step(3000, 'tcp.noop', 4000)],
      {
        clock,
        inject,
      },
    );
    const names = () => proxy.toxics.map((toxic) => toxic.name).sort();
    await advanceTo(clock, 999);
    assert.deepEqual(names(), []);
    await advanceTo(clock, 1000);
    assert.deepEqual(names(), ['tcp.latency@1000']);
    await advanceTo(clock, 2000);
    assert.deepEqual(names(), ['tcp.latency@1000', 'tcp.timeout@2000']);
    await advanceTo(clock, 3000);
    assert.deepEqual(
      names(),
      ['tcp.noop@3000', 'tcp.timeout@2000'],
      'the heal at 3000 comes before the inject at 3000',
    );
    await advanceTo(clock, 4000);
    await run.scheduled;
    assert.deepEqual(names(), ['tcp.timeout@2000']);
    assert.equal(run.inForce, 1);
    await run.end();
    assert.deepEqual(names(), []);
    assert.equal(ledger.size, 0);
    assert.deepEqual(
      run.records.map((r) => [r.step.kind, r.injectedAtMs, r.healedAtMs ?? null]),
      [
        ['tcp.latency', 1000, 3000],
        ['tcp.timeout', 2000, 4000],
        ['tcp.noop', 3000, 4000],
      ],
    );
  });

  it('a fault that cannot be injected is recorded and the schedule goes on', async (t) => {
    const { clock, proxy, inject } = rig(t);
    const clash = { name: 'same' };
    const run = runSchedule(
      [
        step(10, 'tcp.timeout', undefined, clash),
        step(20, 'tcp.timeout', undefined, clash),
        step(30, 'tcp.noop'),
      ],
      {
        clock,
        inject,
      },
    );
    await advanceTo(clock, 30);
    await run.scheduled;
    assert.match(run.records[1]?.error ?? '', /already has a toxic "same"/);
    assert.equal(run.records[2]?.injectedAtMs, 30);
    await run.end();
    assert.equal(proxy.toxics.length, 0);
  });

  it('end() before the schedule is done stops it and heals what is in force', async (t) => {
    const { clock, proxy, inject } = rig(t);
    const run = runSchedule([step(10, 'tcp.noop', 5000), step(100, 'tcp.timeout')], { clock, inject });
    await advanceTo(clock, 50);
    assert.equal(proxy.toxics.length, 1);
    await run.end();
    assert.equal(proxy.toxics.length, 0);
    await advanceTo(clock, 200);
    assert.equal(proxy.toxics.length, 0, 'nothing injected after the end');
    assert.equal(run.records[1]?.injectedAtMs, undefined);
    assert.equal(clock.pendingTimers, 0);
  });
});

/** A conditional entry's plan, its steps `[atMs, kind, healAtMs?]` from its own start. */
function conditional(
  entry: number,
  start: FaultStart,
  steps: [number, string, number?][],
  name?: string,
): ResolvedSchedule {
  const injections = steps.map(
    ([atMs, kind, healAtMs], tick): PlannedInjection => ({
      ...step(atMs, kind, healAtMs, { name: `${name ?? entry}:${kind}@${atMs}` }),
      entry,
      tick,
      ...(name === undefined ? {} : { name }),
      start,
    }),
  );
  return {
    entries: [
      {
        entry,
        ...(name === undefined ? {} : { name }),
        start,
        lastTickMs: Math.max(...steps.map(([atMs]) => atMs)),
      },
    ],
    injections,
  };
}

const merge = (...plans: ResolvedSchedule[]): ResolvedSchedule => ({
  entries: plans.flatMap((p) => p.entries),
  injections: plans.flatMap((p) => p.injections),
});

describe('runSchedule with conditions', () => {
  it('after N ops: the entry starts when the workload has completed them, its instants from then', async (t) => {
    const { clock, proxy, inject } = rig(t);
    const lines: string[] = [];
    const run = runSchedule(conditional(0, { afterOps: 100 }, [[50, 'tcp.latency', 250]], 'slow'), {
      clock,
      inject,
      log: (line) => lines.push(line),
    });
    await advanceTo(clock, 1000);
    run.noteOps(99);
    await advanceTo(clock, 2000);
    assert.equal(proxy.toxics.length, 0, 'not before the 100th op');
    run.noteOps(100);
    await advanceTo(clock, 2049);
    assert.equal(proxy.toxics.length, 0);
    await advanceTo(clock, 2050);
    assert.deepEqual(
      proxy.toxics.map((toxic) => toxic.name),
      ['slow:tcp.latency@50'],
    );
    await advanceTo(clock, 2250);
    await run.scheduled;
    assert.equal(proxy.toxics.length, 0);
    assert.deepEqual(
      [run.entries[0]?.startedAtMs, run.records[0]?.injectedAtMs, run.records[0]?.healedAtMs],
      [2000, 2050, 2250],
    );
    assert.deepEqual(lines, [
      '+2.000s faults[0] "slow" starts: after 100 ops',
      '+2.050s inject tcp.latency (slow)',
    ]);
    await run.end();
  });

  it('a condition that never comes true: the entry does not run, and its records say why', async (t) => {
    const { clock, proxy, inject } = rig(t);
    const lines: string[] = [];
    const run = runSchedule(
      merge(
        conditional(0, { afterOps: 500 }, [[0, 'tcp.timeout', 100]], 'kill'),
        conditional(1, { after: 'kill' }, [[0, 'tcp.noop']], 'next'),
        conditional(2, { whenGreen: 'health' }, [[0, 'tcp.latency']], 'green'),
      ),
      { clock, inject, log: (line) => lines.push(line) },
    );
    run.noteOps(300);
    run.noteOpsDone();
    await advanceTo(clock, 1000);
    assert.equal(run.awaitsProbe('health'), true, 'the green entry is eligible and waits for its probe');
    run.noteProbe('health', false, clock.now());
    await run.end();
    assert.equal(proxy.toxics.length, 0);
    assert.deepEqual(
      run.records.map((r) => [r.step.name, r.injectedAtMs ?? null, r.notRun]),
      [
        ['kill', null, 'not run: the workload completed 300 ops, not 500'],
        ['next', null, 'not run: "kill" did not run'],
        ['green', null, 'not run: the method ended first (health did not pass again)'],
      ],
    );
    assert.equal(
      run.records.some((r) => r.error !== undefined),
      false,
      'not an error',
    );
    assert.equal(lines.length, 3);
    assert.equal(clock.pendingTimers, 0);
  });

  it('in sequence: after an entry is healed and the probe is green again', async (t) => {
    const { clock, proxy, inject } = rig(t);
    const run = runSchedule(
      merge(
        {
          entries: [{ entry: 0, name: 'first', lastTickMs: 100 }],
          injections: [{ ...step(100, 'tcp.timeout', 400), name: 'first' }],
        },
        conditional(1, { after: 'first', whenGreen: 'health' }, [[0, 'tcp.latency', 200]], 'then'),
      ),
      { clock, inject },
    );
    await advanceTo(clock, 300);
    assert.equal(run.awaitsProbe('health'), false, 'not eligible while first is in force');
    run.noteProbe('health', true, clock.now());
    await advanceTo(clock, 400);
    assert.equal(proxy.toxics.length, 0, 'first healed at 400');
    assert.equal(run.awaitsProbe('health'), true);
    run.noteProbe('health', true, 399); // a check started before the heal does not count
    run.noteProbe('health', false, 450);
    await advanceTo(clock, 600);
    assert.equal(proxy.toxics.length, 0);
    run.noteProbe('health', true, 600);
    await advanceTo(clock, 600);
    assert.deepEqual(
      proxy.toxics.map((toxic) => toxic.name),
      ['then:tcp.latency@0'],
    );
    await advanceTo(clock, 800);
    await run.scheduled;
    assert.deepEqual(
      run.records.map((r) => [r.step.name, r.injectedAtMs, r.healedAtMs]),
      [
        ['first', 100, 400],
        ['then', 600, 800],
      ],
    );
    assert.equal(run.awaitsProbe('health'), false);
    await run.end();
  });

  it('the same seed gives the same draws whatever the moment the condition comes true', async (t) => {
    const text = `[experiment]
name = "monkey after ops"
duration = "60s"
[targets.db]
type = "tcp-proxy"
upstream = "127.0.0.1:1"
[workload]
type = "kv"
url = "http://127.0.0.1:1"
[[faults]]
name = "monkey"
afterOps = 10
every = "100ms"
times = 12
for = "50ms"
probability = 0.6
oneOf = [
  { kind = "tcp.noop", params = { proxy = "db" } },
  { kind = "tcp.timeout", params = { proxy = "db" } },
  { kind = "tcp.latency", params = { proxy = "db", latencyMs = 5 } },
]
`;
    const faults = validateScenario(readDocument('m.toml', text)).faults ?? [];
    const once = async (opsAtMs: number) => {
      const { clock, inject } = rig(t);
      const plan = resolveEntries(faults, { seed: 77, limitMs: 60_000 });
      const run = runSchedule(plan, { clock, inject });
      await advanceTo(clock, opsAtMs);
      run.noteOps(10);
      await advanceTo(clock, opsAtMs + 2000);
      await run.scheduled;
      await run.end();
      const start = run.entries[0]?.startedAtMs as number;
      return {
        start,
        made: run.records.map((r) => [
          (r.injectedAtMs as number) - start,
          (r.healedAtMs as number) - start,
          r.step.kind,
          JSON.stringify(r.step.params),
        ]),
      };
    };
    const early = await once(30);
    const late = await once(4321);
    assert.deepEqual([early.start, late.start], [30, 4321]);
    assert.ok(early.made.length >= 3, `${early.made.length} injections`);
    assert.deepEqual(early.made, late.made, 'the same injections, relative to the start');
  });
});
