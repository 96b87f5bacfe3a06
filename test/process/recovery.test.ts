import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { type EventOf, subscribe } from '../../src/core/events.js';
import type { FaultContext } from '../../src/core/fault.js';
import { Random } from '../../src/core/random.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { killFault } from '../../src/process/faults.js';
import { functionProbe, tcpProbe } from '../../src/process/probes.js';
import { assertRecoveryWithin, timeToGreen, waitFor } from '../../src/process/recovery.js';
import { portOf, readyOn, rig, script } from './helpers.js';

/** Fails until `passAt` on `clock`, with a reason. */
function greenAt(clock: VirtualClock, passAt: number) {
  return functionProbe('flip', () => {
    if (clock.now() < passAt) throw new Error('still red');
  });
}

/**
 * Runs a wait on a VirtualClock to its end: lets each check settle (a turn of the event loop), then
 * moves the clock to the next due timer (the pause between checks, or a check's deadline).
 */
async function drive<T>(clock: VirtualClock, wait: Promise<T>): Promise<T> {
  let settled = false;
  const done = wait.finally(() => {
    settled = true;
  });
  done.catch(() => {});
  for (let steps = 0; ; steps++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled) return wait;
    const next = clock.nextDueAt();
    assert.ok(next !== undefined && steps < 10_000, 'the wait is pending on a timer of its clock');
    clock.advance(next - clock.now());
  }
}

describe('recovery timing', () => {
  it('waitFor on a virtual clock: checks every intervalMs; elapsed, attempts and resolution exact', async () => {
    const clock = new VirtualClock();
    const result = await drive(
      clock,
      waitFor(greenAt(clock, 200), { timeoutMs: 3000, intervalMs: 25, clock }),
    );
    // Checks at 0, 25, …, 200: the one at 200 passes.
    assert.equal(result.elapsedMs, 200);
    assert.equal(result.attempts, 9);
    assert.equal(result.resolutionMs, 25, 'green between the last failing check (175) and 200');
    assert.match(String(result.lastError), /still red/);
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  });

  it('publishes a probe event per check, on the wait’s clock (a VirtualClock here)', async () => {
    const clock = new VirtualClock({ startMs: 1000 });
    const events: EventOf<'probe'>[] = [];
    let attempts = 0;
    const stop = subscribe(
      (event) => {
        if (event.type === 'probe') events.push(event);
      },
      ['probe'],
    );
    try {
      const probe = functionProbe('virtual flip', async () => {
        if (clock.now() < 1250) throw new Error('still red');
      });
      const waiting = timeToGreen(probe, { clock, timeoutMs: 1000, intervalMs: 100 });
      let settled = false;
      void waiting.finally(() => {
        settled = true;
      });
      for (let i = 0; i < 20 && !settled; i++) await clock.advanceAsync(100);
      attempts = (await waiting).attempts;
    } finally {
      stop();
    }
    const mine = events.filter((event) => event.name === 'virtual flip');
    assert.equal(mine.length, attempts, 'one event per check');
    assert.ok(attempts >= 2);
    for (const [i, event] of mine.entries()) {
      const last = i === mine.length - 1;
      assert.equal(event.ok, last);
      assert.equal(event.error, last ? undefined : 'still red');
      assert.ok(
        event.durationMs >= 0 && event.atMs - event.durationMs >= 1000,
        'the check began on the clock',
      );
      // Virtual times: from the clock's start, not the machine's.
      assert.ok(event.atMs >= 1000 && event.atMs <= 2000, `atMs ${event.atMs}`);
      if (i > 0) assert.ok(event.atMs > (mine[i - 1]?.atMs ?? 0));
    }
    assert.ok((mine.at(-1)?.atMs ?? 0) >= 1250);
    assert.equal('error' in (mine.at(-1) ?? {}), false, 'a passing check carries no error');
  });

  it('waitFor on a virtual clock: fails at exactly timeoutMs with the probe’s last error', async () => {
    const clock = new VirtualClock();
    await assert.rejects(
      drive(
        clock,
        waitFor(greenAt(clock, Number.POSITIVE_INFINITY), { timeoutMs: 150, intervalMs: 20, clock }),
      ),
      (error: Error & { code?: string; details?: { attempts: number; elapsedMs: number } }) => {
        assert.equal(error.code, 'FL_ERR_PROBE');
        assert.match(
          error.message,
          /probe "flip" did not pass within 150ms \(9 attempts\); last error: still red/,
        );
        // Checks at 0, 20, …, 140, and the last one at the deadline, 150.
        assert.deepEqual(
          { attempts: error.details?.attempts, elapsedMs: error.details?.elapsedMs },
          { attempts: 9, elapsedMs: 150 },
        );
        return true;
      },
    );
    assert.equal(clock.now(), 150);
    assert.equal(clock.pendingTimers, 0);
  });

  it('waitFor on a virtual clock: a check that hangs is cut off, and aborted, at the deadline', async () => {
    const clock = new VirtualClock();
    let aborted: unknown;
    const hanging = functionProbe(
      'hangs',
      (signal) =>
        new Promise<void>(() => {
          signal?.addEventListener('abort', () => {
            aborted = signal.reason;
          });
        }),
    );
    await assert.rejects(drive(clock, waitFor(hanging, { timeoutMs: 100, intervalMs: 20, clock })), {
      code: 'FL_ERR_PROBE',
      message: /did not pass within 100ms \(1 attempts\); last error: check still running at the deadline/,
    });
    assert.equal(clock.now(), 100, 'cut off at exactly the deadline');
    assert.match(String(aborted), /check still running at the deadline/, 'the check was told to stop');
  });

  it('timeToGreen on a virtual clock counts from `from`; assertRecoveryWithin compares it with the SLO', async () => {
    const clock = new VirtualClock({ startMs: 1000 });
    const from = clock.now() - 50; // the outage began 50 ms before the wait
    const result = await drive(
      clock,
      timeToGreen(greenAt(clock, 1120), { from, timeoutMs: 10_000, intervalMs: 40, clock }),
    );
    // Checks at 1000, 1040, 1080, 1120: green at the fourth.
    assert.deepEqual(
      { ms: result.ms, resolutionMs: result.resolutionMs, attempts: result.attempts },
      { ms: 170, resolutionMs: 40, attempts: 4 },
    );
    await assertRecoveryWithin(result, 170);
    await assert.rejects(assertRecoveryWithin(result, 169), {
      code: 'FL_ERR_SLO',
      message: /recovery took 170ms \(±40ms\), SLO 169ms; probe's last error: still red/,
    });
  });

  it('assertRecoveryWithin on a virtual clock reports a recovery that never happened', async () => {
    const clock = new VirtualClock();
    await assert.rejects(
      assertRecoveryWithin(
        drive(
          clock,
          timeToGreen(greenAt(clock, Number.POSITIVE_INFINITY), { timeoutMs: 100, intervalMs: 20, clock }),
        ),
        50,
      ),
      {
        code: 'FL_ERR_SLO',
        message: /SLO 50ms violated: never recovered: probe "flip" did not pass .*still red/,
      },
    );
  });

  it('timeToGreen on real time: a killed server coming back under its policy', async (t) => {
    const { start, ledger } = rig(t);
    const server = await start({
      name: 'srv',
      argv: script('server.mjs'),
      ready: readyOn(),
      restart: { policy: 'on-failure', backoffMs: 300 },
    });
    const context: FaultContext = { ledger, clock: realClock, random: new Random(7) };
    const probe = functionProbe('srv up', async () => {
      if (!server.running) throw new Error('srv not running');
      await tcpProbe({ port: portOf(server) }).check();
    });
    const from = realClock.now();
    await killFault({ target: server, signal: 'SIGKILL' }).inject(context);
    const result = await timeToGreen(probe, { from, timeoutMs: 10_000, intervalMs: 20 });
    assert.ok(result.ms >= 290, `recovered in ${result.ms}`);
    assert.ok(result.resolutionMs <= 1000);
    await assertRecoveryWithin(result, 10_000);
    await assert.rejects(assertRecoveryWithin(result, 100), {
      code: 'FL_ERR_SLO',
      message:
        /recovery took .* \(±.*\), SLO 100ms; probe's last error: .*(not running|ECONNREFUSED|no line)/,
    });
  });
});
