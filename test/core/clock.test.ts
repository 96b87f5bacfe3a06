import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxTimerStepMs, RealClock } from '../../src/core/clock.js';

const clock = new RealClock();

/** Resolves after `ms` on Node's own timer, to watch a clock timer (not) fire meanwhile. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('RealClock: a timer past Node’s 2³¹−1 ms range does not fire at once', async () => {
  let fired = 0;
  const handles = [maxTimerStepMs + 1, 2 ** 32, 30 * 24 * 3_600_000, Number.MAX_VALUE, Infinity].map(
    (delayMs) => clock.setTimeout(() => fired++, delayMs),
  );
  await pause(50);
  for (const handle of handles) clock.clearTimeout(handle);
  assert.equal(fired, 0);
});

test('RealClock: a long timer can be cleared, and short ones still fire on time', async () => {
  let longFired = false;
  const long = clock.setTimeout(() => {
    longFired = true;
  }, maxTimerStepMs * 3);
  clock.clearTimeout(long);
  const start = clock.now();
  await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
  const elapsedMs = clock.now() - start;
  assert.ok(elapsedMs >= 19 && elapsedMs < 1_000, `fired after ${elapsedMs.toFixed(1)} ms`);
  assert.equal(longFired, false);
});

test('RealClock: sleep past the timer range waits, and an abort ends it', async () => {
  const controller = new AbortController();
  let settled = false;
  const sleeping = clock.sleep(maxTimerStepMs + 10, controller.signal).finally(() => {
    settled = true;
  });
  await pause(30);
  assert.equal(settled, false);
  controller.abort();
  await assert.rejects(sleeping, { code: 'FL_ERR_ABORTED' });
});

test('RealClock keeps real time when a test runner fakes the global timers after it loaded', async () => {
  // What Vitest's and Jest's fake timers do: replace the globals with timers that run only when told to.
  const globals = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  const faked: (() => void)[] = [];
  globalThis.setTimeout = ((callback: () => void) => {
    faked.push(callback);
    return 0;
  }) as unknown as typeof globalThis.setTimeout;
  globalThis.clearTimeout = (() => {}) as typeof globalThis.clearTimeout;
  try {
    const start = clock.now();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
    assert.ok(clock.now() - start >= 19, 'a real 20 ms passed');
    assert.equal(faked.length, 0, 'the faked global setTimeout was not used');
  } finally {
    globalThis.setTimeout = globals.setTimeout;
    globalThis.clearTimeout = globals.clearTimeout;
  }
});
