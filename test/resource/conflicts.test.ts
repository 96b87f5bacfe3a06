// Two faults on one target that clash are refused with FL_ERR_CONFLICT before the second changes anything;
// faults of other kinds on the same target stack; a healed fault frees its target.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { faultKinds } from '../../src/core/fault-registry.js';
import { cgroupSupport, findFaultCgroups } from '../../src/os/index.js';
import { cpuQuotaFault, fdLimitFault, memoryLimitFault } from '../../src/resource/faults.js';
import '../../src/resource/stressors.js';
import { assertNothingLeft, newContext, startTarget, type Target } from './helpers.js';

const support = await cgroupSupport();
const usable = (name: 'memory' | 'cpu'): boolean =>
  support.controllers[name].available && support.controllers[name].writable;
const skip = usable('memory') && usable('cpu') ? false : 'needs writable memory and cpu cgroups';

const targets: Target[] = [];
afterEach(async () => {
  for (const started of targets.splice(0)) await started.kill();
  await assertNothingLeft();
});

const conflictOn = (field: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(isFaultlineError(error, codes.conflict), String(error));
  assert.equal(error.details.field, field);
  assert.match(error.message, pattern);
  return true;
};

describe('resource fault kinds', () => {
  it('have JSON Schemas: units-last, integer pids, no test-only hooks', () => {
    const kinds = new Map(faultKinds().map((kind) => [kind.kind, kind.schema]));
    const memory = kinds.get('resource.memory-limit') as {
      properties: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual(Object.keys(memory.properties), ['pid', 'pids', 'limitMiB']);
    assert.equal(memory.properties.limitMiB?.['x-unit'], 'MiB');
    assert.deepEqual(memory.properties.pids?.items, {
      description: 'a process id',
      type: 'integer',
      minimum: 1,
    });
    assert.deepEqual((kinds.get('resource.pids-limit') as { required: string[] }).required, ['maxTasks']);
    assert.deepEqual((kinds.get('resource.disk-fill') as { required: string[] }).required, [
      'dir',
      'sizeMiB',
      'durationMs',
    ]);
  });
});

describe('resource fault conflicts', { skip }, () => {
  it('a second memory limit on the same pid is refused, nothing applied; a cpu quota stacks; heal frees it', async (t) => {
    const victim = await startTarget(`console.log('ready'); setInterval(() => {}, 1000);`);
    targets.push(victim);
    const context = newContext();
    t.after(() => context.ledger.close());
    const first = await memoryLimitFault({ pid: victim.pid, limitMiB: 256 }).inject(context);
    const before = await readFile(`/proc/${victim.pid}/cgroup`, 'utf8');
    await assert.rejects(
      memoryLimitFault({ pids: [victim.pid], limitMiB: 128 }).inject(context),
      conflictOn('pids', new RegExp(`pid ${victim.pid}'s memory is already held by "memory-limit 256 MiB"`)),
    );
    assert.equal(context.ledger.size, 1, 'the refused fault recorded nothing');
    assert.equal(await readFile(`/proc/${victim.pid}/cgroup`, 'utf8'), before, 'nothing moved');
    assert.equal((await findFaultCgroups('/sys/fs/cgroup/memory')).length, 1);
    const cpu = await cpuQuotaFault({ pid: victim.pid, percentOfOneCore: 50 }).inject(context);
    await first.heal();
    const again = await memoryLimitFault({ pid: victim.pid, limitMiB: 128 }).inject(context);
    await again.heal();
    await cpu.heal();
    assert.equal(context.ledger.size, 0);
  });

  it('a second open-files limit on the same pid is refused; the first heals to the original', async (t) => {
    const victim = await startTarget(`console.log('ready'); setInterval(() => {}, 1000);`);
    targets.push(victim);
    const limits = async (): Promise<string> =>
      /^Max open files.*$/m.exec(await readFile(`/proc/${victim.pid}/limits`, 'utf8'))?.[0] ?? '';
    const original = await limits();
    const context = newContext();
    t.after(() => context.ledger.close());
    await fdLimitFault({ pid: victim.pid, maxOpenFiles: 64 }).inject(context);
    await assert.rejects(
      fdLimitFault({ pid: victim.pid, maxOpenFiles: 32 }).inject(context),
      conflictOn('pid', /open-files limit is already held by "fd-limit 64/),
    );
    assert.match(await limits(), /\s64\s/);
    await context.ledger.drain();
    assert.equal(await limits(), original);
  });
});
