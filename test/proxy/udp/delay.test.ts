// The delay stage's schedule is checked exactly on a VirtualClock: real datagrams reach the proxy, the
// virtual clock (standing still meanwhile) decides when each is released, so every delay is read off the
// clock instead of measured. One real-time test keeps the real path honest.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import type { UdpImpairments } from '../../../src/proxy/udp/udp-proxy.js';
import {
  quantile,
  sendPaced,
  settle,
  stamped,
  startSink,
  startUdpProxy,
  udpSocket,
  waitFor,
} from './helpers.js';

/**
 * Sends `count` datagrams through a proxy on a VirtualClock that stands at 0 while they arrive, then
 * moves the clock from one due time to the next; returns each datagram's release time (its delay) and
 * the sink, once everything arrived.
 */
async function releaseTimes(t: TestContext, impairments: UdpImpairments, count = 3000) {
  const clock = new VirtualClock();
  const sink = await startSink(t);
  const proxy = await startUdpProxy(t, sink.port, { clock });
  proxy.impair('upstream', impairments);
  const client = await udpSocket(t);
  const counters = () => proxy.counters().upstream;
  await sendPaced(client, proxy.port, count, { accounted: () => counters().received });
  await waitFor(() => counters().received === count, `${count} datagrams at the proxy`);
  assert.equal(counters().forwarded, 0, 'nothing leaves while the clock stands still');
  const delays: number[] = [];
  while (counters().forwarded < count) {
    const next = clock.nextDueAt();
    assert.ok(next !== undefined, `${count - counters().forwarded} datagrams held, so a timer is armed`);
    const before = counters().forwarded;
    clock.advance(next - clock.now());
    for (let i = before; i < counters().forwarded; i++) delays.push(clock.now());
  }
  await waitFor(() => sink.arrivals.length === count, 'every datagram at the sink');
  return { delays, arrivals: sink.arrivals, clock };
}

/** Standard normal quantiles used below. */
const z = { 0.1: -1.2816, 0.5: 0, 0.9: 1.2816 } as const;

describe('UDP proxy: delay and jitter', () => {
  it('a fixed delay of 10 ms, virtual clock: every datagram leaves at exactly 10 ms, in order', async (t) => {
    const clock = new VirtualClock();
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port, { clock });
    proxy.impair('upstream', { delay: { ms: 10 } });
    const client = await udpSocket(t);
    const count = 500;
    await sendPaced(client, proxy.port, count, { accounted: () => proxy.counters().upstream.received });
    await waitFor(() => proxy.counters().upstream.received === count, 'the datagrams at the proxy');
    assert.equal(clock.nextDueAt(), 10);
    clock.advance(9);
    assert.equal(proxy.counters().upstream.forwarded, 0, 'none before 10 ms');
    clock.advance(1);
    assert.equal(proxy.counters().upstream.forwarded, count, 'all at 10 ms');
    await waitFor(() => sink.arrivals.length === count, 'every datagram at the sink');
    assert.deepEqual(
      sink.arrivals.map((a) => a.seq),
      Array.from({ length: count }, (_, seq) => seq),
      'no reordering',
    );
    assert.equal(proxy.queued().upstream, 0);
  });

  it('uniform jitter 30 ± 10 ms, virtual clock: delays in [20, 40], percentiles within ±0.75 ms', async (t) => {
    const { delays } = await releaseTimes(t, { delay: { ms: 30, jitterMs: 10 } });
    // A release takes what is due within 0.5 ms (Node's timer granularity), so a delay may read up to
    // 0.5 ms short; 3000 draws put the sample percentiles within ~0.2 ms of the distribution's.
    assert.ok(Math.min(...delays) >= 19.5 && Math.max(...delays) <= 40, 'within [20, 40]');
    for (const q of [0.1, 0.5, 0.9]) {
      const expected = 20 + 20 * q;
      const measured = quantile(delays, q);
      assert.ok(
        Math.abs(measured - expected) <= 0.75,
        `p${q * 100} = ${measured.toFixed(2)}, expected ${expected}`,
      );
    }
  });

  it('normal jitter N(40, 8²), virtual clock: percentiles within ±0.75 ms; wide jitter reorders', async (t) => {
    const { delays, arrivals } = await releaseTimes(t, {
      delay: { ms: 40, jitterMs: 8, distribution: 'normal' },
    });
    for (const q of [0.1, 0.5, 0.9] as const) {
      const expected = 40 + 8 * z[q];
      const measured = quantile(delays, q);
      assert.ok(
        Math.abs(measured - expected) <= 0.75,
        `p${q * 100} = ${measured.toFixed(2)}, expected ${expected}`,
      );
    }
    assert.ok(Math.min(...delays) >= 0, 'truncated at 0');
    // Each datagram draws its own delay, so they leave out of order, as netem's do.
    assert.ok(arrivals.some((a, i) => i > 0 && a.seq < (arrivals[i - 1]?.seq ?? 0)));
  });

  it('real time: delays replies too (downstream) and a round trip adds both', async (t) => {
    const sink = await startSink(t, { echo: true });
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { delay: { ms: 15 } });
    proxy.impair('downstream', { delay: { ms: 10 } });
    const client = await udpSocket(t);
    const rtts: number[] = [];
    client.on('message', (data) => rtts.push(performance.now() - data.readDoubleBE(4)));
    for (let seq = 0; seq < 200; seq++) {
      client.send(stamped(seq), proxy.port, '127.0.0.1');
      await sleep(2);
    }
    await settle(() => rtts.length, 200);
    assert.equal(rtts.length, 200);
    const median = quantile(rtts, 0.5);
    assert.ok(Math.abs(median - 25) <= 2, `median RTT ${median}`);
  });
});
