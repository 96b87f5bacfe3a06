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

/** Fails until `passAt` (clock ms), with a reason. */
function greenAt(passAt: number) {
  return functionProbe('flip', () => {
    if (realClock.now() < passAt) throw new Error('still red');
  });
}

describe('recovery timing', () => {
  it('waitFor reports elapsed time, attempts and a resolution bounded by the interval', async () => {
    const result = await waitFor(greenAt(realClock.now() + 200), { timeoutMs: 3000, intervalMs: 25 });
    assert.ok(result.elapsedMs >= 195, `elapsed ${result.elapsedMs}`);
    assert.ok(result.attempts >= 3);
    assert.ok(result.resolutionMs > 0 && result.resolutionMs < 200, `resolution ${result.resolutionMs}`);
    assert.match(String(result.lastError), /still red/);
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

  it('waitFor fails with the probe’s last error when it never passes', async () => {
    await assert.rejects(waitFor(greenAt(Number.POSITIVE_INFINITY), { timeoutMs: 150, intervalMs: 20 }), {
      code: 'FL_ERR_PROBE',
      message: /probe "flip" did not pass within 150ms \(\d+ attempts\); last error: still red/,
    });
  });

  it('timeToGreen measures from a given moment: a killed server coming back under its policy', async (t) => {
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

  it('assertRecoveryWithin reports a recovery that never happened', async () => {
    await assert.rejects(
      assertRecoveryWithin(
        timeToGreen(greenAt(Number.POSITIVE_INFINITY), { timeoutMs: 100, intervalMs: 20 }),
        50,
      ),
      {
        code: 'FL_ERR_SLO',
        message: /SLO 50ms violated: never recovered: probe "flip" did not pass .*still red/,
      },
    );
  });
});
