import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../../src/core/virtual-clock.js';

test('VirtualClock: timers run in due order, ties in the order they were set, only when time is advanced', () => {
  const clock = new VirtualClock();
  const ran: string[] = [];
  clock.setTimeout(() => ran.push('b@20'), 20);
  clock.setTimeout(() => ran.push('a@10'), 10);
  clock.setTimeout(() => ran.push('c@20'), 20);
  clock.setTimeout(() => ran.push('never'), Number.POSITIVE_INFINITY);
  assert.equal(clock.pendingTimers, 3);
  assert.equal(clock.advance(9), 0);
  assert.deepEqual(ran, []);
  assert.equal(clock.advance(11), 3);
  assert.deepEqual(ran, ['a@10', 'b@20', 'c@20']);
  assert.equal(clock.now(), 20);
  assert.equal(clock.pendingTimers, 0);
});

test('VirtualClock: a timer set by a callback runs in the same advance when it falls due within it', () => {
  const clock = new VirtualClock({ startMs: 100 });
  const at: number[] = [];
  const tick = (): void => {
    at.push(clock.now());
    if (at.length < 5) clock.setTimeout(tick, 7);
  };
  clock.setTimeout(tick, 7);
  clock.advance(30);
  assert.deepEqual(at, [107, 114, 121, 128]);
  assert.equal(clock.now(), 130);
  assert.equal(clock.nextDueAt(), 135);
  assert.equal(clock.runUntilIdle(), 1);
  assert.deepEqual(at, [107, 114, 121, 128, 135]);
});

test('VirtualClock: clearTimeout, sleep with abort, runUntilIdle bound, bad advance', async () => {
  const clock = new VirtualClock();
  let fired = false;
  const handle = clock.setTimeout(() => {
    fired = true;
  }, 5);
  clock.clearTimeout(handle);
  clock.clearTimeout(handle);
  clock.advance(10);
  assert.equal(fired, false);
  assert.equal(clock.pendingTimers, 0);

  const slept = clock.sleep(50);
  clock.advance(50);
  await slept;
  const controller = new AbortController();
  const aborted = clock.sleep(50, controller.signal);
  controller.abort();
  await assert.rejects(aborted, { code: 'FL_ERR_ABORTED' });
  assert.equal(clock.pendingTimers, 0);

  const forever = (): void => void clock.setTimeout(forever, 1);
  forever();
  assert.throws(() => clock.runUntilIdle({ maxTimers: 100 }), /100 timers ran and 1 are still pending/);
  assert.throws(() => clock.advance(-1), /ms: expected a number >= 0/);
  assert.throws(() => clock.advance(Number.NaN), /ms: expected a number >= 0/);
});

test('VirtualClock: advanceAsync lets promise continuations run between due times', async () => {
  const clock = new VirtualClock();
  const steps: number[] = [];
  const run = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(10);
      steps.push(clock.now());
    }
  };
  const done = run();
  await clock.advanceAsync(30);
  await done;
  assert.deepEqual(steps, [10, 20, 30]);
});
