import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UdpImpairments } from '../../../src/proxy/udp/udp-proxy.js';
import { quantile, settle, stamped, startSink, startUdpProxy, udpSocket } from './helpers.js';

/** Sends `count` stamped datagrams, `perTick` every 5 ms, and returns the sink's arrivals once settled. */
async function measure(t: Parameters<typeof startSink>[0], impairments: UdpImpairments, count = 3000) {
  const sink = await startSink(t);
  const proxy = await startUdpProxy(t, sink.port);
  proxy.impair('upstream', impairments);
  const client = await udpSocket(t);
  const perTick = 10;
  for (let seq = 0; seq < count; ) {
    for (let i = 0; i < perTick && seq < count; i++) client.send(stamped(seq++), proxy.port, '127.0.0.1');
    await sleep(5);
  }
  await settle(() => sink.arrivals.length, 300);
  assert.equal(sink.arrivals.length, count, 'every datagram arrives');
  return { arrivals: sink.arrivals, proxy };
}

/** Standard normal quantiles used below. */
const z = { 0.1: -1.2816, 0.5: 0, 0.9: 1.2816 } as const;

describe('UDP proxy: delay and jitter', () => {
  it('a fixed delay of 10 ms: percentiles within ±2 ms, order kept', async (t) => {
    const { arrivals } = await measure(t, { delay: { ms: 10 } });
    const latencies = arrivals.map((a) => a.latencyMs);
    for (const q of [0.1, 0.5, 0.9]) {
      const measured = quantile(latencies, q);
      assert.ok(Math.abs(measured - 10) <= 2, `p${q * 100} = ${measured.toFixed(2)} ms, expected 10`);
    }
    assert.ok(
      arrivals.every((a, i) => i === 0 || a.seq > (arrivals[i - 1]?.seq ?? -1)),
      'no reordering',
    );
  });

  it('uniform jitter: 30 ± 10 ms percentiles within ±2 ms', async (t) => {
    const { arrivals } = await measure(t, { delay: { ms: 30, jitterMs: 10 } });
    const latencies = arrivals.map((a) => a.latencyMs);
    for (const q of [0.1, 0.5, 0.9]) {
      const expected = 20 + 20 * q;
      const measured = quantile(latencies, q);
      assert.ok(
        Math.abs(measured - expected) <= 2,
        `p${q * 100} = ${measured.toFixed(2)}, expected ${expected}`,
      );
    }
  });

  it('normal jitter: N(40, 8²) percentiles within ±2 ms', async (t) => {
    const { arrivals } = await measure(t, { delay: { ms: 40, jitterMs: 8, distribution: 'normal' } });
    const latencies = arrivals.map((a) => a.latencyMs);
    for (const q of [0.1, 0.5, 0.9] as const) {
      const expected = 40 + 8 * z[q];
      const measured = quantile(latencies, q);
      assert.ok(
        Math.abs(measured - expected) <= 2,
        `p${q * 100} = ${measured.toFixed(2)}, expected ${expected}`,
      );
    }
    // Jitter much wider than the 0.5 ms between datagrams reorders them, as netem does.
    assert.ok(arrivals.some((a, i) => i > 0 && a.seq < (arrivals[i - 1]?.seq ?? 0)));
  });

  it('delays replies too (downstream) and a round trip adds both', async (t) => {
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
