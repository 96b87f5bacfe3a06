import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import type { FaultContext } from '../../src/core/fault.js';
import type { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import type { SignalName } from '../../src/os/index.js';
import {
  cascadingKillFault,
  crashLoopFault,
  gracefulStopFault,
  killFault,
  pauseFault,
  restartFault,
} from '../../src/process/faults.js';
import type { Target } from '../../src/process/supervisor.js';
import { readLog, readyOn, rig, script, until } from './helpers.js';

function context(ledger: Ledger): FaultContext {
  return { ledger, clock: realClock, random: new Random(1) };
}

function lastCount(text: string): number {
  const numbers = text.split('\n').filter((l) => /^\d+$/.test(l));
  return Number(numbers.at(-1) ?? -1);
}

describe('process faults', () => {
  it('kill: each signal ends the target; heal starts it again', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'victim', argv: script('idle.mjs'), ready: readyOn() });
    for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const pid = target.pid;
      const injection = await killFault({ target, signal }).inject(context(ledger));
      assert.equal(injection.details.exit?.signal, signal);
      assert.equal(target.running, false);
      await injection.heal();
      assert.equal(target.running, true);
      assert.notEqual(target.pid, pid);
    }
    assert.equal(ledger.size, 0);
  });

  it('kill: heal waits for the target’s own restart policy instead of starting a second copy', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({
      name: 'selfheal',
      argv: script('idle.mjs'),
      ready: readyOn(),
      restart: { policy: 'on-failure', backoffMs: 200 },
    });
    const injection = await killFault({ target, signal: 'SIGKILL' }).inject(context(ledger));
    assert.equal(injection.details.selfRestarts, true);
    await injection.heal();
    assert.equal(target.running, true);
    assert.equal(target.restarts, 1);
  });

  it('rejects an unknown signal naming the field and the valid ones; nothing applied', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'x', argv: script('idle.mjs'), ready: readyOn() });
    assert.throws(
      () => killFault({ target, signal: 'SIGBOGUS' as SignalName }),
      /signal: expected one of "SIGKILL", "SIGTERM", .*got "SIGBOGUS"/,
    );
    assert.throws(
      () => crashLoopFault({ target, everyMs: 10, forMs: 10, signal: 'KILL' as SignalName }),
      /signal: expected one of/,
    );
    assert.equal(ledger.size, 0);
    assert.equal(target.running, true);
  });

  it('graceful stop records SIGTERM or the SIGKILL escalation and when', async (t) => {
    const { start, ledger } = rig(t);
    const polite = await start({ name: 'polite', argv: script('server.mjs'), ready: readyOn() });
    const stubborn = await start({
      name: 'stubborn',
      argv: script('server.mjs'),
      env: { ...process.env, IGNORE_TERM: '1' },
      ready: readyOn(),
    });
    const a = await gracefulStopFault({ target: polite, graceMs: 2000 }).inject(context(ledger));
    const b = await gracefulStopFault({ target: stubborn, graceMs: 250 }).inject(context(ledger));
    assert.equal(a.details.endedBy, 'SIGTERM');
    assert.equal(b.details.endedBy, 'SIGKILL');
    assert.ok(b.details.afterMs >= 240);
    await ledger.drain();
    assert.equal(polite.running && stubborn.running, true);
  });

  for (const method of ['freezer', 'signals'] as const) {
    it(`pause (${method}) really stops progress; heal resumes it`, async (t) => {
      if (method === 'freezer' && !existsSync('/sys/fs/cgroup/freezer/cgroup.procs')) {
        t.skip('no cgroup v1 freezer here');
        return;
      }
      const { start, ledger } = rig(t);
      const target = await start({
        name: `counter-${method}`,
        argv: script('counter.mjs'),
        ready: readyOn(),
      });
      await until('counting', () => lastCount(readLog(target)) >= 3);
      const injection = await pauseFault({ target, method }).inject(context(ledger));
      assert.equal(injection.details.method, method);
      if (method === 'freezer') assert.ok(injection.details.cgroup && existsSync(injection.details.cgroup));
      await realClock.sleep(100); // let output already in the pipe land
      const frozenAt = lastCount(readLog(target));
      await realClock.sleep(300);
      assert.equal(lastCount(readLog(target)), frozenAt, 'no progress while paused');
      await injection.heal();
      await until('counting again', () => lastCount(readLog(target)) > frozenAt + 2);
      if (injection.details.cgroup)
        assert.equal(existsSync(injection.details.cgroup), false, 'cgroup removed');
    });
  }

  it('restart gives a new pid; crash loop kills at least N times then leaves it running', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'loop', argv: script('idle.mjs'), ready: readyOn() });
    const restarted = await restartFault({ target, graceMs: 1000 }).inject(context(ledger));
    assert.notEqual(restarted.details.newPid, restarted.details.oldPid);
    const loop = await crashLoopFault({ target, everyMs: 200, forMs: 1000 }).inject(context(ledger));
    await loop.details.finished;
    assert.ok(loop.details.kills >= 4, `kills ${loop.details.kills}`);
    assert.equal(new Set(loop.details.pids).size, loop.details.kills);
    await ledger.drain();
    assert.equal(target.running, true);
  });

  it('cascading kill goes in order, gapMs apart; the ledger heals everything in reverse', async (t) => {
    const { start, ledger } = rig(t);
    const targets: Target[] = [];
    for (const name of ['a', 'b', 'c'])
      targets.push(await start({ name, argv: script('idle.mjs'), ready: readyOn() }));
    const healed: string[] = [];
    ledger.push('first', () => void healed.push('first'));
    const cascade = await cascadingKillFault({ targets, signal: 'SIGTERM', gapMs: 150 }).inject(
      context(ledger),
    );
    ledger.push('last', () => void healed.push('last'));
    assert.deepEqual(
      cascade.details.order.map((o) => o.name),
      ['a', 'b', 'c'],
    );
    const [a, b, c] = cascade.details.order.map((o) => o.atMs);
    assert.ok((b ?? 0) - (a ?? 0) >= 140 && (c ?? 0) - (b ?? 0) >= 140, `times ${a} ${b} ${c}`);
    await until('all down', () => targets.every((x) => !x.running));
    assert.deepEqual(ledger.labels(), ['first', cascade.label, 'last']);
    await ledger.drain();
    assert.deepEqual(healed, ['last', 'first']);
    assert.equal(cascade.healed, true);
    assert.ok(targets.every((x) => x.running));
  });

  it('a fault on a target that is not running fails clearly and records nothing', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'down', argv: script('idle.mjs'), ready: readyOn() });
    await target.stop({ graceMs: 1000 });
    await assert.rejects(
      killFault({ target }).inject(context(ledger)),
      /kill -SIGKILL: target "down" is not running/,
    );
    await assert.rejects(pauseFault({ target }).inject(context(ledger)), /not running/);
    assert.equal(ledger.size, 0);
  });
});
