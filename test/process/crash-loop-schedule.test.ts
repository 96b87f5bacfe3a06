// The crash loop's schedule on a VirtualClock: a real supervised process is killed and started again,
// while the virtual clock decides when each kill happens, so the instants and the count are exact and the
// test spends no real time waiting between kills.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../src/core/random.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { crashLoopFault } from '../../src/process/faults.js';
import { readyOn, rig, script, until } from './helpers.js';

describe('crash loop on a virtual clock', () => {
  it('kills every 300 ms for 1000 ms: at exactly 0, 300, 600 and 900, then leaves it running', async (t) => {
    const { start, ledger } = rig(t);
    const target = await start({ name: 'looped', argv: script('idle.mjs'), ready: readyOn() });
    const clock = new VirtualClock();
    const killedAt: number[] = [];
    const context = {
      ledger,
      clock,
      random: new Random(1),
      log: (line: string) => {
        if (line.startsWith('crash loop: kill')) killedAt.push(clock.now());
      },
    };
    const loop = await crashLoopFault({ target, everyMs: 300, forMs: 1000 }).inject(context);
    let finished = false;
    void loop.details.finished.then(() => {
      finished = true;
    });
    assert.deepEqual(killedAt, [0], 'the first kill is at once');
    // Between kills the loop waits for the killed process to exit and starts it again (real time), then
    // sleeps on the virtual clock until the next kill: wait for that sleep before moving the clock.
    const expected = [0, 300, 600, 900];
    for (let kill = 1; kill <= expected.length; kill++) {
      const killedPid = loop.details.pids.at(-1);
      await until(
        `restarted after kill ${kill}, the loop asleep`,
        () => target.running && target.pid !== killedPid && clock.pendingTimers === 1,
        20_000,
      );
      const next = kill < expected.length ? (expected[kill] as number) : 1000;
      assert.equal(clock.nextDueAt(), next, `the loop sleeps until ${next}`);
      clock.advance(next - clock.now() - 1);
      await new Promise((resolve) => setImmediate(resolve)); // what a due timer would have resumed
      assert.equal(loop.details.kills, kill, `no kill before ${next}`);
      clock.advance(1);
      if (kill < expected.length) {
        await until(`kill ${kill + 1}`, () => loop.details.kills === kill + 1);
      }
    }
    await loop.details.finished;
    assert.equal(finished, true);
    assert.deepEqual(killedAt, expected, 'the kills at their exact virtual instants');
    assert.equal(loop.details.kills, 4, 'ceil(forMs / everyMs) kills');
    assert.equal(new Set(loop.details.pids).size, 4, 'a different process each time');
    assert.equal(clock.now(), 1000, 'the loop ended at forMs');
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
    assert.equal(target.running, true, 'left running');
    await ledger.drain();
    assert.equal(target.running, true);
    assert.equal(loop.healed, true);
  });
});
