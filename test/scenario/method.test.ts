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
import { runSchedule } from '../../src/scenario/method.js';
import type { PlannedInjection } from '../../src/scenario/schedule.js';

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
