import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import {
  accountedThrough,
  sendPaced,
  settle,
  stamped,
  startSink,
  startUdpProxy,
  udpSocket,
  waitFor,
} from './helpers.js';

describe('UDP proxy: rate limit, blackhole, live changes', () => {
  it('virtual clock: one datagram per size / rate, the queue holds queueBytes, the overflow is dropped', async (t) => {
    const clock = new VirtualClock();
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port, { clock });
    // 1000-byte datagrams at 200,000 B/s: one every 5 ms; the queue holds 20 of them (100 ms).
    proxy.impair('upstream', { rate: { bytesPerSec: 200_000, queueBytes: 20_000 } });
    const client = await udpSocket(t);
    const sent = 60;
    for (let seq = 0; seq < sent; seq++) client.send(stamped(seq, 1000), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.counters().upstream.received === sent, 'the datagrams at the proxy');
    const c = proxy.counters().upstream;
    assert.deepEqual(
      { forwarded: c.forwarded, queued: proxy.queued().upstream, queueDropped: c.queueDropped },
      { forwarded: 1, queued: 20, queueDropped: 39 },
      'the first goes at once, 20 wait, the rest are dropped and counted',
    );
    const forwardedAt: number[] = [];
    for (let step = 1; step <= 21; step++) {
      // (After the 20th, the only timer left is the session sweep, a minute away.)
      if (step <= 20) assert.equal(clock.nextDueAt(), 5 * step, `the next release at ${5 * step} ms`);
      clock.advance(4.9);
      forwardedAt.push(proxy.counters().upstream.forwarded);
      clock.advance(0.1);
    }
    assert.deepEqual(
      forwardedAt,
      Array.from({ length: 21 }, (_, i) => Math.min(21, i + 1)),
      'one more every 5 ms, none early',
    );
    assert.equal(clock.now(), 105);
    const after = proxy.counters().upstream;
    assert.equal(after.forwarded, 21, 'the queue bounds the extra wait: the last left at 100 ms');
    assert.equal(after.forwarded + after.dropped, after.received);
    assert.equal(after.dropped, after.queueDropped);
    await waitFor(() => sink.arrivals.length === 21, 'the forwarded datagrams at the sink');
    assert.deepEqual(
      sink.arrivals.map((a) => a.seq),
      Array.from({ length: 21 }, (_, seq) => seq),
      'the first 21, in order',
    );
  });

  it('real time: limits to bytesPerSec within ±10 %, queues up to queueBytes, drops the overflow', async (t) => {
    // The counters must always add up; the timing figures (rate, drops, worst wait) need the sender and the
    // sink scheduled on time, so a busy machine gets up to three tries — a rate bug misses all three.
    const misses: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const sink = await startSink(t);
      const proxy = await startUdpProxy(t, sink.port);
      const bytesPerSec = 200_000;
      proxy.impair('upstream', { rate: { bytesPerSec, queueBytes: 20_000 } });
      const client = await udpSocket(t);
      // 1000-byte datagrams at 400/s for 0.6 s: twice the rate the limit lets through.
      const sent = 240;
      for (let seq = 0; seq < sent; ) {
        for (let i = 0; i < 4; i++) client.send(stamped(seq++, 1000), proxy.port, '127.0.0.1');
        await sleep(10);
      }
      await settle(() => sink.arrivals.length, 300);
      const c = proxy.counters().upstream;
      assert.equal(c.received, sent);
      assert.equal(c.forwarded + c.dropped, c.received);
      assert.equal(c.dropped, c.queueDropped);
      assert.equal(sink.arrivals.length, c.forwarded);
      const first = sink.arrivals[0]?.at ?? 0;
      const last = sink.arrivals.at(-1)?.at ?? 0;
      const measured = ((sink.arrivals.length - 1) * 1000 * 1000) / (last - first);
      // The queue bounds the extra wait: 20,000 bytes at 200,000 B/s is 100 ms.
      const worst = Math.max(...sink.arrivals.map((a) => a.latencyMs));
      const problems = [
        c.queueDropped > 40 ? '' : `queue overflow counted: ${c.queueDropped}`,
        Math.abs(measured / bytesPerSec - 1) <= 0.1 ? '' : `measured ${measured.toFixed(0)} B/s`,
        worst < 100 + 30 ? '' : `worst wait ${worst.toFixed(1)} ms`,
      ].filter(Boolean);
      if (problems.length === 0) return;
      misses.push(`attempt ${attempt}: ${problems.join('; ')}`);
    }
    assert.fail(misses.join('\n'));
  });

  it('with queueBytes 0 only what fits the rate goes', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { rate: { bytesPerSec: 1000, queueBytes: 0 } });
    const client = await udpSocket(t);
    for (let seq = 0; seq < 10; seq++) client.send(stamped(seq, 500), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.counters().upstream.received === 10, 'ten datagrams');
    await settle(() => sink.arrivals.length);
    assert.equal(sink.arrivals.length, 1);
    assert.equal(proxy.counters().upstream.queueDropped, 9);
  });

  it('a blackhole drops everything, counted; healing lets traffic through again', async (t) => {
    const sink = await startSink(t, { echo: true });
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('both', { blackhole: true });
    const client = await udpSocket(t);
    await sendPaced(client, proxy.port, 1000, { accounted: () => proxy.counters().upstream.received });
    await settle(() => proxy.counters().upstream.received);
    assert.equal(sink.arrivals.length, 0);
    assert.equal(proxy.counters().upstream.dropped, 1000);
    proxy.impair('upstream', {}); // replies are still blackholed
    const replies: number[] = [];
    client.on('message', (data) => replies.push(data.readUInt32BE(0)));
    await sendPaced(client, proxy.port, 100, { accounted: accountedThrough(proxy, sink) });
    await settle(() => proxy.counters().downstream.received);
    assert.equal(sink.arrivals.length, 100);
    assert.equal(replies.length, 0);
    assert.equal(proxy.counters().downstream.dropped, 100);
    proxy.heal();
    await sendPaced(client, proxy.port, 100, { accounted: accountedThrough(proxy, sink) });
    await settle(() => replies.length);
    assert.equal(replies.length, 100);
    assert.deepEqual(proxy.impairments(), { upstream: {}, downstream: {} });
  });

  it('changes act at once on a live session; removing a delay releases what it held', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    const client = await udpSocket(t);
    await sendPaced(client, proxy.port, 50, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    assert.equal(sink.arrivals.length, 50);
    proxy.impair('upstream', { delay: { ms: 60_000 } });
    for (let seq = 50; seq < 60; seq++) client.send(stamped(seq), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.queued().upstream === 10, 'ten held datagrams');
    assert.equal(sink.arrivals.length, 50);
    proxy.impair('upstream', { loss: { probability: 1 } });
    await waitFor(() => sink.arrivals.length === 60, 'the held datagrams, released');
    client.send(stamped(60), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.counters().upstream.dropped === 1, 'the loss to act');
    assert.equal(sink.arrivals.length, 60);
    assert.equal(proxy.sessions().length, 1);
    const c = proxy.counters().upstream;
    assert.deepEqual(
      { received: c.received, forwarded: c.forwarded, dropped: c.dropped },
      { received: 61, forwarded: 60, dropped: 1 },
    );
  });
});
