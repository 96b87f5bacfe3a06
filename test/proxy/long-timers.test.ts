// Toxic times past Node's 2³¹−1 ms timer range act when due (days later), not after ~1 ms, and held data
// waits on one timer instead of a timer that re-fires every millisecond.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToxicInput } from '../../src/api/hub.js';
import { type Clock, realClock, type TimerHandle } from '../../src/core/clock.js';
import { connect, Received, startEchoServer, startHub, startProxy } from './helpers.js';

const beyondTimerRangeMs = 2 ** 31 + 60_000; // Node runs such a timer after 1 ms
const watchMs = 300;

/** The real clock, counting the timers set through it. */
class CountingClock implements Clock {
  timersSet = 0;
  now = (): number => realClock.now();
  wallNow = (): number => realClock.wallNow();
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    this.timersSet++;
    return realClock.setTimeout(callback, delayMs);
  }
  clearTimeout = (handle: TimerHandle): void => realClock.clearTimeout(handle);
  sleep = (delayMs: number, signal?: AbortSignal): Promise<void> => realClock.sleep(delayMs, signal);
}

const closingToxics: ToxicInput[] = [
  { type: 'timeout', attributes: { timeout: beyondTimerRangeMs } },
  { type: 'limit_time', attributes: { time: beyondTimerRangeMs } },
  { type: 'reset_peer', attributes: { timeout: beyondTimerRangeMs } },
  { type: 'slow_close', attributes: { delay: beyondTimerRangeMs } },
];

for (const toxic of closingToxics) {
  test(`${toxic.type} past 2³¹ ms does not act within ${watchMs} ms`, async (t) => {
    const echo = await startEchoServer(t);
    const hub = startHub(t);
    const proxy = await startProxy(hub, echo.port);
    await hub.addToxic('test', toxic);
    const client = new Received(await connect(t, proxy.port, { allowHalfOpen: true }));
    client.socket.write('ping');
    // The server's FIN is what slow_close holds.
    if (toxic.type === 'slow_close') (await echo.nextSocket()).end();
    const since = performance.now();
    await new Promise((resolve) => setTimeout(resolve, watchMs));
    assert.equal(client.closed, false, `closed after ${((client.closedAt ?? 0) - since).toFixed(1)} ms`);
    assert.equal(client.endedAt, undefined, 'no FIN');
    assert.equal(client.error, undefined, 'no reset');
  });
}

const holdingToxics: ToxicInput[] = [
  { type: 'latency', attributes: { latency: beyondTimerRangeMs } },
  { type: 'slicer', attributes: { average_size: 1, delay: beyondTimerRangeMs * 1000 } },
  { type: 'bandwidth', attributes: { rate: 1e-12 } },
];

for (const toxic of holdingToxics) {
  test(`${toxic.type} holding data past 2³¹ ms waits on a timer that does not spin`, async (t) => {
    const clock = new CountingClock();
    const echo = await startEchoServer(t);
    const hub = startHub(t, { clock });
    const proxy = await startProxy(hub, echo.port);
    await hub.addToxic('test', toxic);
    const client = new Received(await connect(t, proxy.port));
    client.socket.write('ping');
    await new Promise((resolve) => setTimeout(resolve, watchMs));
    // One slice may go out at once (slicer, bandwidth); the rest waits.
    assert.ok(client.bytes < 4, `${client.bytes} bytes got through`);
    assert.ok(clock.timersSet < 10, `${clock.timersSet} timers set in ${watchMs} ms`);
    assert.equal(client.closed, false);
  });
}
