// Process faults are registered kinds: schema-validated params (nothing applied on a bad call), the
// deprecated positional form validated the same way, and FL_ERR_CONFLICT for a pause of a paused target.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { codes } from '../../src/core/codes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import type { FaultContext } from '../../src/core/fault.js';
import { createFault, faultKinds } from '../../src/core/fault-registry.js';
import type { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { readProcStat } from '../../src/os/index.js';
import {
  cascadingKillFault,
  crashLoopFault,
  gracefulStopFault,
  killFault,
  pauseFault,
} from '../../src/process/faults.js';
import { readyOn, rig, script } from './helpers.js';

function context(ledger: Ledger): FaultContext {
  return { ledger, clock: realClock, random: new Random(1) };
}

const invalidField = (field: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(isFaultlineError(error, codes.invalidArgument), String(error));
  assert.equal(error.details.field, field, String(error));
  if (pattern !== undefined) assert.match(error.message, pattern);
  return true;
};

describe('process fault kinds', () => {
  it('have JSON Schemas naming the target as a ref (the list of kinds: test/core/fault-model.test.ts)', () => {
    const kinds = new Map(faultKinds().map((kind) => [kind.kind, kind.schema]));
    const kill = kinds.get('process.kill') as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
    };
    assert.deepEqual(kill.required, ['target']);
    assert.equal(kill.properties.target?.['x-ref'], 'process-target');
    assert.equal(kill.properties.signal?.default, 'SIGKILL');
    assert.equal(kill.properties.exitTimeoutMs?.['x-unit'], 'ms');
    const cascade = kinds.get('process.cascading-kill') as {
      properties: Record<string, Record<string, unknown>>;
    };
    assert.equal(cascade.properties.targets?.type, 'array');
    assert.equal(
      (cascade.properties.targets?.items as Record<string, unknown> | undefined)?.['x-ref'],
      'process-target',
    );
    assert.deepEqual((kinds.get('process.crash-loop') as { required: string[] }).required, [
      'target',
      'everyMs',
      'forMs',
    ]);
  });

  it('bad params name the field before anything is applied', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'valid', argv: script('idle.mjs'), ready: readyOn() });
    const pid = target.pid;
    const cases: [() => unknown, string, RegExp?][] = [
      [() => killFault({ target, signal: 'SIGBOGUS' as never }), 'signal', /expected one of "SIGKILL"/],
      [() => killFault({ target: { name: 'x', pid } as never }), 'target', /expected a process-target/],
      [() => killFault({ target, exitTimeoutMs: -1 }), 'exitTimeoutMs'],
      [() => killFault({ target, graceMs: 5 } as never), 'graceMs', /unknown parameter; valid: target/],
      [() => gracefulStopFault({ target, graceMs: Number.NaN }), 'graceMs'],
      [() => pauseFault({ target, method: 'sigstop' as never }), 'method'],
      [() => pauseFault({ target: { pid } as never }), 'target', /expected a process/],
      [() => crashLoopFault({ target, everyMs: 0, forMs: 10 }), 'everyMs'],
      [() => crashLoopFault({ target, everyMs: 10 } as never), 'forMs', /is required/],
      [() => cascadingKillFault({ targets: [] }), 'targets'],
      [() => cascadingKillFault({ targets: [target, 'b' as never] }), 'targets[1]'],
      [() => createFault('process.kill', { target: 'valid' }), 'target'],
      [() => killFault({ target, signal: 'SIGBOGUS' as never }), 'signal'],
      [() => crashLoopFault({ target, everyMs: 10, forMs: -1 }), 'forMs'],
    ];
    for (const [make, field, pattern] of cases) assert.throws(make, invalidField(field, pattern));
    assert.equal(ledger.size, 0);
    assert.equal(target.running, true);
    assert.equal(target.pid, pid);
  });

  it('a target stopped by someone else is refused too', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'stopped', argv: script('idle.mjs'), ready: readyOn() });
    process.kill(-target.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 100 && readProcStat(target.pid)?.state !== 'T'; i++) await realClock.sleep(10);
      await assert.rejects(
        pauseFault({ target, method: 'signals' }).inject(context(ledger)),
        /target: target "stopped" \(pid \d+\) is already stopped; continue it first/,
      );
      assert.equal(ledger.size, 0);
    } finally {
      process.kill(-target.pid, 'SIGCONT');
    }
  });
});
