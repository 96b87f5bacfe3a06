import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isAlive } from '../../src/os/index.js';
import { functionProbe } from '../../src/process/probes.js';
import { Supervisor } from '../../src/process/supervisor.js';
import { readLog, readyOn, rig, script, seenPids, track, until } from './helpers.js';

describe('Supervisor', () => {
  it('starts a target in its own process group, waits for ready, stops it with SIGTERM', async (t) => {
    const { start } = rig(t);
    const target = await start({ name: 'srv', argv: script('server.mjs'), ready: readyOn() });
    assert.equal(target.running, true);
    assert.ok(target.pid > 0);
    assert.equal(typeof target.startTime, 'number');
    const stopped = await target.stop({ graceMs: 2000 });
    assert.equal(stopped.endedBy, 'SIGTERM');
    assert.equal(target.running, false);
    assert.equal(target.exitCode, 0);
    assert.equal((await target.stop()).endedBy, 'not-running');
  });

  it('escalates to SIGKILL after the grace period and records it', async (t) => {
    const { start } = rig(t);
    const target = await start({
      name: 'stubborn',
      argv: script('server.mjs'),
      env: { ...process.env, IGNORE_TERM: '1' },
      ready: readyOn(),
    });
    const stopped = await target.stop({ graceMs: 300 });
    assert.equal(stopped.endedBy, 'SIGKILL');
    assert.ok(stopped.afterMs >= 290, `afterMs ${stopped.afterMs}`);
    assert.equal(target.exitSignal, 'SIGKILL');
    assert.match(readLog(target), /ignoring SIGTERM/);
  });

  it('kills the whole group: a child of the target dies with it', async (t) => {
    const { start } = rig(t);
    const target = await start({ name: 'parent', argv: script('spawner.mjs'), ready: readyOn(/^child \d+/) });
    const childPid = Number(/child (\d+)/.exec(readLog(target))?.[1]);
    seenPids.add(childPid);
    assert.equal(isAlive(childPid), true);
    await target.stop({ graceMs: 1000 });
    await until('child gone', () => !isAlive(childPid));
  });

  it('names a binary that does not exist (ENOENT) and leaves nothing behind', async (t) => {
    const { supervisor } = rig(t);
    await assert.rejects(
      supervisor.start({ name: 'ghost', argv: ['/no/such/binary', '--flag'] }),
      (error: Error) => {
        assert.match(error.message, /"\/no\/such\/binary" not found \(ENOENT\)/);
        assert.equal((error as { code?: string }).code, 'FL_ERR_PROCESS');
        return true;
      },
    );
    assert.equal(supervisor.get('ghost'), undefined);
  });

  it('reports a target that exits before ready with its exit code and stderr tail', async (t) => {
    const { supervisor } = rig(t);
    await assert.rejects(
      supervisor.start({ name: 'crasher', argv: script('crash.mjs', '0', '3'), ready: readyOn() }),
      /"crasher" exited with code 3 before it was ready; last stderr lines:\nfatal: boom/,
    );
    assert.equal(supervisor.list().length, 0);
  });

  it('stops a target whose ready probe never passes and reports the last error', async (t) => {
    const { supervisor } = rig(t);
    const never = functionProbe('never', () => {
      throw new Error('port 1 closed');
    });
    const starting = supervisor.start({
      name: 'slow',
      argv: script('idle.mjs'),
      ready: never,
      readyTimeoutMs: 300,
    });
    await assert.rejects(starting, /"slow" never became ready .*last error: .*port 1 closed.*it was stopped/);
    assert.equal(supervisor.list().length, 0);
  });

  it('rejects shell strings and bad restart policies before starting anything', async (t) => {
    const { supervisor } = rig(t);
    await assert.rejects(
      supervisor.start({ name: 'sh', argv: 'node -e 1' as unknown as string[] }),
      /argv: .*shell strings are not run/,
    );
    await assert.rejects(
      supervisor.start({ name: 'p', argv: script('idle.mjs'), restart: { policy: 'sometimes' as 'always' } }),
      /restart.policy: expected one of "on-failure", "always"/,
    );
  });

  it('bounds each log: past maxLogBytes it rotates once, never growing without limit', async (t) => {
    const { start } = rig(t);
    const target = await start({
      name: 'chatty',
      argv: script('chatty.mjs'),
      maxLogBytes: 16 * 1024,
      ready: readyOn(/^done/),
    });
    const file = target.logFile('stdout');
    assert.ok(statSync(file).size <= 16 * 1024);
    assert.ok(existsSync(`${file}.1`));
    assert.ok(statSync(`${file}.1`).size <= 16 * 1024);
  });

  it('on-failure restarts with doubling back-off and honours maxRestarts', async (t) => {
    const { start } = rig(t);
    const starts: number[] = [];
    const target = await start({
      name: 'flaky',
      argv: script('crash.mjs', '50', '1'),
      restart: { policy: 'on-failure', backoffMs: 100, maxBackoffMs: 2000, maxRestarts: 3 },
    });
    const exits: number[] = [];
    target.on('start', () => starts.push(realClock.now()));
    target.on('exit', () => exits.push(realClock.now()));
    await until('three restarts', () => target.restarts === 3 && !target.running, 10_000);
    assert.equal(starts.length, 3);
    // Delays between exit and the next start: ~100, ~200, ~400 ms.
    const gaps = starts.map((s, i) => s - (exits[i] ?? 0));
    assert.ok((gaps[0] ?? 0) >= 90 && (gaps[1] ?? 0) >= 190 && (gaps[2] ?? 0) >= 390, `gaps ${gaps}`);
    assert.ok((gaps[2] ?? 0) > (gaps[0] ?? 0));
  });

  it('"always" restarts even a clean exit; "never" leaves it down', async (t) => {
    const { start } = rig(t);
    const always = await start({
      name: 'always',
      argv: script('crash.mjs', '30', '0'),
      restart: { policy: 'always', backoffMs: 20, maxRestarts: 2 },
    });
    await until('restarted twice', () => always.restarts === 2 && !always.running);
    const never = await start({ name: 'never', argv: script('crash.mjs', '30', '1') });
    await never.waitForExit();
    assert.equal(never.restarts, 0);
    assert.equal(never.exitCode, 1);
  });

  it('restart() gives a new pid and waits for ready; stopAll via await using cleans up', async () => {
    let dir = '';
    {
      await using supervisor = new Supervisor();
      const target = await supervisor.start({ name: 'r', argv: script('idle.mjs'), ready: readyOn() });
      track(target);
      dir = target.logFile('stdout');
      const first = target.pid;
      await target.restart({ graceMs: 1000 });
      assert.notEqual(target.pid, first);
      assert.equal(target.running, true);
      assert.equal(target.restarts, 1);
      assert.equal(isAlive(first), false);
    }
    assert.equal(existsSync(dir), false, 'temp log dir removed');
  });

  it('a stop that lands while a policy restart is spawning leaves no process behind', async (t) => {
    // The restart timer runs on a virtual clock, so the stop can be placed exactly between the timer
    // firing (spawn under way) and the spawn completing.
    const clock = new VirtualClock();
    const supervisor = new Supervisor({ clock, stopGraceMs: 1000, journal: false });
    t.after(() => supervisor.stopAll());
    const target = await supervisor.start({
      name: 'racer',
      argv: script('crash.mjs', '0', '1'),
      restart: { policy: 'always', backoffMs: 100 },
    });
    seenPids.add(target.pid);
    await until('exited, restart scheduled', () => !target.running && clock.pendingTimers === 1);
    const first = target.pid;
    clock.advance(100); // the restart begins: spawn is in flight
    await target.stop({ graceMs: 0 });
    await until('the restart gave up', () => target.lastRestartError !== undefined);
    assert.match(String(target.lastRestartError), /was stopped while it was starting/);
    assert.notEqual(target.pid, first, 'the restart did spawn');
    seenPids.add(target.pid);
    await until('the spawned run is gone', () => !isAlive(target.pid));
    assert.equal(target.running, false);
  });
});
