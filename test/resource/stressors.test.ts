import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { Ledger } from '../../src/core/ledger.js';
import { cpuBurnFault, diskFillFault, memoryHogFault } from '../../src/resource/stressors.js';
import { alive, assertNothingLeft, coresUsed, newContext, threadTicks, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const fillDir = await mkdtemp(join(tmpdir(), 'faultline-fill-test-'));

/** Every context a test made: drained after it, so a failed assertion never leaves a stressor running. */
const contexts: ReturnType<typeof newContext>[] = [];
function tracked(): ReturnType<typeof newContext> {
  const made = newContext();
  contexts.push(made);
  return made;
}

afterEach(async () => {
  for (const made of contexts.splice(0)) await made.ledger.drain();
  await assertNothingLeft([fillDir]);
});
after(() => rm(fillDir, { recursive: true, force: true }));

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

describe('cpuBurnFault', () => {
  it('burns about N cores until healed', async () => {
    const cores = Math.min(2, availableParallelism());
    const context = tracked();
    const burn = await cpuBurnFault({ cores, durationMs: 60_000 }).inject(context);
    // Parallel burning shows as N threads that each keep running. Measured per thread, not as cores used
    // in a window, so other work crowding a shared VM slows the proof down but cannot fail it.
    await waitFor(
      `${cores} thread(s) of the burn each busy for 300 ms`,
      async () => (await threadTicks(burn.pid)).filter((ticks) => ticks >= 30).length >= cores,
      30_000,
    );
    const used = await coresUsed(burn.pid, 700);
    assert.ok(used < cores + 0.3, `${used.toFixed(2)} cores used by a ${cores}-core burn`);
    await context.ledger.drain();
    assert.equal(await alive(burn.pid), false);
    const exit = await burn.exited;
    assert.ok(exit.signal === 'SIGTERM' || exit.code === 0, JSON.stringify(exit));
  });

  it('ends by itself after durationMs, as if faultline had died', async () => {
    const context = tracked();
    const burn = await cpuBurnFault({ cores: 1, durationMs: 300 }).inject(context);
    const exit = await burn.exited;
    assert.equal(exit.code, 0);
    assert.equal(await alive(burn.pid), false);
    await burn.heal();
    assert.equal(context.ledger.size, 0);
  });
});

describe('memoryHogFault', () => {
  it('holds about N MiB resident', async () => {
    const context = tracked();
    const hog = await memoryHogFault({ sizeMiB: 128, durationMs: 60_000 }).inject(context);
    const rss = await rssMiB(hog.pid);
    // Node's own heap and code add tens of MiB on top of the hog.
    assert.ok(rss >= 128 && rss < 128 + 150, `RSS ${rss.toFixed(0)} MiB for a 128 MiB hog`);
    await context.ledger.drain();
    assert.equal(await alive(hog.pid), false);
  });

  it('refuses more than half of the machine without force, when the fault is made', () => {
    const mib = Math.ceil(totalmem() / MiB);
    assert.throws(
      () => memoryHogFault({ sizeMiB: mib, durationMs: 1000 }),
      (error) => isFaultlineError(error, codes.invalidArgument) && error.details.field === 'sizeMiB',
    );
  });
});

describe('diskFillFault', () => {
  it('writes an N MiB faultline-owned file and removes it on heal', async () => {
    const context = tracked();
    const fill = await diskFillFault({ dir: fillDir, sizeMiB: 32, durationMs: 60_000 }).inject(context);
    assert.equal((await stat(fill.path)).size, 32 * MiB);
    assert.ok(fill.path.startsWith(join(fillDir, '.faultline-fill-')));
    await context.ledger.drain();
    await assert.rejects(stat(fill.path), /ENOENT/);
  });

  it('removes its file by itself when its duration ends', async () => {
    const context = tracked();
    const fill = await diskFillFault({ dir: fillDir, sizeMiB: 4, durationMs: 400 }).inject(context);
    await fill.exited;
    await assert.rejects(stat(fill.path), /ENOENT/);
    await fill.heal();
  });

  it('refuses to leave less than max(1 GiB, 10 %) free, naming the field; nothing is written', async () => {
    const context = tracked();
    await assert.rejects(
      diskFillFault({ dir: fillDir, sizeMiB: 1024 * 1024 * 1024, durationMs: 1000 }).inject(context),
      (error) => {
        assert.ok(isFaultlineError(error, codes.invalidArgument));
        assert.equal(error.details.field, 'sizeMiB');
        assert.match(error.message, /would leave less than/);
        return true;
      },
    );
    await assert.rejects(
      diskFillFault({ dir: join(fillDir, 'missing'), sizeMiB: 1, durationMs: 1000 }).inject(context),
      (error) => isFaultlineError(error, codes.invalidArgument) && error.details.field === 'dir',
    );
    assert.deepEqual(await readdir(fillDir), []);
    assert.equal(context.ledger.size, 0);
  });
});

describe('stressors under one Ledger', () => {
  it('are healed in reverse order of application', async () => {
    const healed: string[] = [];
    const ledger = new Ledger({
      handleSignals: false,
      onHeal: (label) => healed.push(label.split(' ')[0] ?? label),
    });
    const context = { ...newContext(), ledger };
    const burn = await cpuBurnFault({ cores: 1, durationMs: 60_000 }).inject(context);
    const hog = await memoryHogFault({ sizeMiB: 16, durationMs: 60_000 }).inject(context);
    const fill = await diskFillFault({ dir: fillDir, sizeMiB: 1, durationMs: 60_000 }).inject(context);
    await ledger.close();
    assert.deepEqual(healed, ['disk-fill', 'memory-hog', 'cpu-burn']);
    for (const pid of [burn.pid, hog.pid, fill.pid]) assert.equal(await alive(pid), false);
  });

  it('bad parameters name the field', () => {
    const cases: [() => unknown, string][] = [
      [() => cpuBurnFault({ cores: 0, durationMs: 1000 }), 'cores'],
      [() => cpuBurnFault({ cores: 1, durationMs: 0 }), 'durationMs'],
      [() => memoryHogFault({ sizeMiB: 1.5, durationMs: 1000 }), 'sizeMiB'],
      [() => diskFillFault({ dir: 1 as unknown as string, sizeMiB: 1, durationMs: 1000 }), 'dir'],
      [() => memoryHogFault({ sizeMiB: 1, durationMs: 1000, force: 'yes' as unknown as boolean }), 'force'],
    ];
    for (const [make, field] of cases) {
      assert.throws(
        make,
        (error) => isFaultlineError(error, codes.invalidArgument) && error.details.field === field,
      );
    }
  });
});
