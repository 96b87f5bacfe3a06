import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { cgroupSupport, findFaultCgroups } from '../../src/os/index.js';
import { cpuQuotaFault, fdLimitFault, memoryLimitFault, pidsLimitFault } from '../../src/resource/faults.js';
import { assertNothingLeft, coresUsed, newContext, startTarget, type Target, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const support = await cgroupSupport();
/** Skip only when the kernel truly lacks the controller (checked at runtime). */
function skipWithout(controller: 'memory' | 'cpu' | 'pids'): string | false {
  const status = support.controllers[controller];
  return status.available && status.writable ? false : `cgroup ${controller} unusable here: ${status.reason}`;
}

const targets: Target[] = [];
async function target(source: string): Promise<Target> {
  const started = await startTarget(source);
  targets.push(started);
  return started;
}

afterEach(async () => {
  for (const started of targets.splice(0)) await started.kill();
  await assertNothingLeft();
});

const readLines = `import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin });`;

async function cgroupLine(pid: number, controller: string): Promise<string> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  return text.split('\n').find((line) => line.split(':')[1]?.split(',').includes(controller)) ?? text;
}

describe('memoryLimitFault', { skip: skipWithout('memory') }, () => {
  it('gets a process that allocates past the limit OOM-killed, and reports the OOM kill', async () => {
    const victim = await target(`${readLines}
      const held = [];
      console.log('ready');
      lines.on('line', () => {
        for (let i = 0; i < 200; i++) held.push(Buffer.alloc(${MiB}, 1));
        console.log('survived ' + held.length);
      });`);
    const context = newContext();
    const injection = await memoryLimitFault({ pids: [victim.pid], limitMiB: 64 }).inject(context);
    assert.deepEqual(injection.pids, [victim.pid]);
    const [group] = await findFaultCgroups('/sys/fs/cgroup/memory');
    assert.ok(group?.endsWith(injection.cgroup));
    assert.equal((await readFile(`${group}/memory.limit_in_bytes`, 'utf8')).trim(), String(64 * MiB));
    victim.send('go');
    const exit = await victim.exited;
    assert.equal(exit.signal, 'SIGKILL', `expected an OOM kill, got ${JSON.stringify(exit)}`);
    assert.equal(
      victim.lines.some((line) => line.startsWith('survived')),
      false,
    );
    assert.ok((await injection.oomKills()) >= 1, 'the injection reports the OOM kill');
    await context.ledger.drain();
    assert.equal(injection.healed, true);
    assert.ok((await injection.oomKills()) >= 1);
  });

  it('limits the whole process group of a group leader, and heal moves every member back', async () => {
    const leader = await target(`import { spawn } from 'node:child_process';
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.on('exit', () => child.kill('SIGKILL'));
      console.log('ready child ' + child.pid);`);
    const childPid = Number((await leader.line(/^ready child/)).split(' ')[2]);
    const before = await cgroupLine(childPid, 'memory');
    const context = newContext();
    const injection = await memoryLimitFault({ pid: leader.pid, limitMiB: 512 }).inject(context);
    assert.deepEqual(
      injection.pids,
      [leader.pid, childPid].sort((a, b) => a - b),
    );
    assert.match(await cgroupLine(childPid, 'memory'), new RegExp(injection.cgroup));
    await injection.heal();
    assert.equal(await cgroupLine(childPid, 'memory'), before);
    assert.equal(await cgroupLine(leader.pid, 'memory'), before);
  });
});

describe('cpuQuotaFault', { skip: skipWithout('cpu') }, () => {
  it('10 % of one core measurably slows a busy loop; heal lifts it', async () => {
    const busy = await target(`console.log('ready'); for (;;) {}`);
    const free = await coresUsed(busy.pid, 1000);
    const context = newContext();
    const injection = await cpuQuotaFault({ pids: [busy.pid], percentOfOneCore: 10 }).inject(context);
    // Let the first throttled period begin before measuring.
    await context.clock.sleep(200);
    const limited = await coresUsed(busy.pid, 1000);
    await injection.heal();
    // 10 % quota: allow up to 0.25 core for tick granularity. The ceiling holds however loaded the machine is.
    assert.ok(
      limited <= 0.25,
      `limited busy loop used ${limited.toFixed(2)} cores (free: ${free.toFixed(2)})`,
    );
    // Unlimited, the loop may still be crowded out by other work on a shared VM, so wait for a window in
    // which it clearly runs faster than the quota allowed.
    const healed = await waitFor(
      'the healed busy loop to run faster than the quota allowed',
      async () => {
        const used = await coresUsed(busy.pid, 500);
        return used > 2 * limited ? used : undefined;
      },
      15_000,
    );
    assert.ok(
      Math.max(free, healed) > 2 * limited,
      `free ${free.toFixed(2)} vs limited ${limited.toFixed(2)}`,
    );
  });
});

describe('pidsLimitFault', { skip: skipWithout('pids') }, () => {
  it('makes spawning fail with EAGAIN in the target, and heal lets it spawn again', async () => {
    const parent = await target(`${readLines}
      import { spawnSync } from 'node:child_process';
      import { readFile } from 'node:fs/promises';
      await readFile('/proc/self/stat'); // starts libuv's thread pool before any limit
      console.log('ready');
      lines.on('line', (tag) => {
        const result = spawnSync('/bin/true');
        console.log('result ' + tag + ' ' + (result.error ? result.error.code : 'ok'));
      });`);
    parent.send('before');
    assert.equal(await parent.line(/^result before/), 'result before ok');
    const context = newContext();
    await pidsLimitFault({ pids: [parent.pid], maxTasks: 1 }).inject(context);
    parent.send('during');
    assert.equal(await parent.line(/^result during/), 'result during EAGAIN');
    await context.ledger.drain();
    parent.send('after');
    assert.equal(await parent.line(/^result after/), 'result after ok');
  });
});

function openFilesLimit(text: string): string {
  const line = text.split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  return line
    .split(/\s{2,}/)
    .slice(1, 3)
    .join(':');
}

describe('fdLimitFault', () => {
  it('lowers RLIMIT_NOFILE of a live process so opens fail with EMFILE; heal restores the old limit', async () => {
    const opener = await target(`${readLines}
      import { closeSync, openSync } from 'node:fs';
      console.log('ready');
      lines.on('line', (tag) => {
        const fds = [];
        let outcome = 'none';
        try { for (let i = 0; i < 5000; i++) fds.push(openSync('/dev/null', 'r')); } catch (error) { outcome = error.code; }
        for (const fd of fds) closeSync(fd);
        console.log('result ' + tag + ' ' + outcome + ' ' + fds.length);
      });`);
    const before = openFilesLimit(await readFile(`/proc/${opener.pid}/limits`, 'utf8'));
    const context = newContext();
    const injection = await fdLimitFault({ pid: opener.pid, maxOpenFiles: 64 }).inject(context);
    assert.equal(`${injection.previous.soft}:${injection.previous.hard}`, before);
    const hard = injection.lowersHard ? '64' : before.split(':')[1];
    assert.equal(openFilesLimit(await readFile(`/proc/${opener.pid}/limits`, 'utf8')), `64:${hard}`);
    opener.send('during');
    const [, , outcome, opened] = (await opener.line(/^result during/)).split(' ');
    assert.equal(outcome, 'EMFILE');
    assert.ok(Number(opened) < 64);
    await context.ledger.drain();
    assert.equal(openFilesLimit(await readFile(`/proc/${opener.pid}/limits`, 'utf8')), before);
  });
});

describe('bad input', () => {
  it('names the offending field', () => {
    const cases: [() => unknown, string][] = [
      [() => memoryLimitFault({ pid: 1, limitMiB: 0 }), 'limitMiB'],
      [() => memoryLimitFault({ pid: 1, limitMiB: '64' as unknown as number }), 'limitMiB'],
      [() => memoryLimitFault({ pid: 1, limitMiB: 64, limitMB: 64 } as never), 'limitMB'],
      [() => memoryLimitFault({ pids: [1, 2.5], limitMiB: 64 }), 'pids[1]'],
      [() => cpuQuotaFault({ pids: [], percentOfOneCore: 10 }), 'pids'],
      [() => cpuQuotaFault({ pids: [1], percentOfOneCore: 0 }), 'percentOfOneCore'],
      [() => pidsLimitFault({ pid: 1, maxTasks: 0.5 }), 'maxTasks'],
      [() => fdLimitFault({ pid: 1.5, maxOpenFiles: 3 }), 'pid'],
      [() => fdLimitFault({ pid: 1, maxOpenFiles: -1 }), 'maxOpenFiles'],
    ];
    for (const [make, field] of cases) {
      assert.throws(
        make,
        (error) => isFaultlineError(error, codes.invalidArgument) && error.details.field === field,
      );
    }
  });

  it('pid and pids together, neither, or faultline itself: refused when the fault is made', () => {
    const cases: [() => unknown, string][] = [
      [() => memoryLimitFault({ limitMiB: 64 }), 'pid'],
      [() => pidsLimitFault({ pid: 1, pids: [1], maxTasks: 1 }), 'pid'],
      [() => memoryLimitFault({ pid: process.pid, limitMiB: 64 }), 'pids'],
    ];
    for (const [make, field] of cases) {
      assert.throws(
        make,
        (error) => isFaultlineError(error, codes.invalidArgument) && error.details.field === field,
      );
    }
  });

  it('a process that does not exist is refused with nothing applied', async () => {
    const context = newContext();
    await assert.rejects(memoryLimitFault({ pid: 2 ** 22 + 1, limitMiB: 64 }).inject(context), (error) =>
      isFaultlineError(error, codes.notFound),
    );
    await assert.rejects(fdLimitFault({ pid: 2 ** 22 + 1, maxOpenFiles: 64 }).inject(context), (error) =>
      isFaultlineError(error, codes.notFound),
    );
    assert.equal(context.ledger.size, 0);
  });
});

describe('without permission', {
  skip: process.getuid?.() === 0 ? false : 'needs root to start an unprivileged user',
}, () => {
  it('a non-root user gets FL_ERR_PERMISSION naming what was refused, and nothing is left applied', async () => {
    const victim = await target(`console.log('ready'); setInterval(() => {}, 1000);`);
    const memoryBefore = await cgroupLine(victim.pid, 'memory');
    const limitsBefore = await readFile(`/proc/${victim.pid}/limits`, 'utf8');
    const publicModule = new URL('../../src/public/resource.js', import.meta.url).href;
    // uid 65534 (nobody) runs faultline against a root-owned target.
    const attempt = await startTarget(
      `import { memoryLimitFault, fdLimitFault } from ${JSON.stringify(publicModule)};
       import { Ledger, realClock, Random } from ${JSON.stringify(new URL('../../src/public/index.js', import.meta.url).href)};
       const context = { ledger: new Ledger({ handleSignals: false }), clock: realClock, random: new Random(1) };
       const results = [];
       for (const fault of [memoryLimitFault({ pids: [${victim.pid}], limitMiB: 64 }), fdLimitFault({ pid: ${victim.pid}, maxOpenFiles: 8 })]) {
         try { await fault.inject(context); results.push({ code: 'applied' }); }
         catch (error) { results.push({ code: error.code, message: error.message }); }
       }
       console.log('ready ' + JSON.stringify({ results, owed: context.ledger.size }));`,
      { uid: 65534 },
    );
    targets.push(attempt);
    const report = JSON.parse(attempt.lines.find((l) => l.startsWith('ready'))?.slice(6) ?? '{}') as {
      results: { code: string; message: string }[];
      owed: number;
    };
    assert.equal(report.owed, 0);
    const [memory, fd] = report.results;
    assert.equal(memory?.code, 'FL_ERR_PERMISSION', memory?.message);
    assert.match(
      memory?.message ?? '',
      /not permitted: writing \/sys\/fs\/cgroup\/memory.*EACCES.*run as root/,
    );
    assert.equal(fd?.code, 'FL_ERR_PERMISSION', fd?.message);
    assert.match(fd?.message ?? '', /not permitted: prlimit --pid/);
    await waitFor('the unprivileged attempt to end', async () => (await attempt.exited) ?? true);
    assert.equal(await cgroupLine(victim.pid, 'memory'), memoryBefore);
    assert.equal(await readFile(`/proc/${victim.pid}/limits`, 'utf8'), limitsBefore);
  });
});
