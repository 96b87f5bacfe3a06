import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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
  it('limits to bytesPerSec, queues up to queueBytes, and drops and counts the overflow', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    const bytesPerSec = 200_000;
    proxy.impair('upstream', { rate: { bytesPerSec, queueBytes: 20_000 } });
    const client = await udpSocket(t);
    // 1000-byte datagrams at 400/s for 1.5 s: twice the rate the limit lets through.
    const sent = 600;
    for (let seq = 0; seq < sent; ) {
      for (let i = 0; i < 4; i++) client.send(stamped(seq++, 1000), proxy.port, '127.0.0.1');
      await sleep(10);
    }
    await settle(() => sink.arrivals.length, 300);
    const c = proxy.counters().upstream;
    assert.equal(c.received, sent);
    assert.ok(c.queueDropped > 100, `queue overflow counted: ${c.queueDropped}`);
    assert.equal(c.forwarded + c.dropped, c.received);
    assert.equal(c.dropped, c.queueDropped);
    assert.equal(sink.arrivals.length, c.forwarded);
    const first = sink.arrivals[0]?.at ?? 0;
    const last = sink.arrivals.at(-1)?.at ?? 0;
    const measured = ((sink.arrivals.length - 1) * 1000 * 1000) / (last - first);
    assert.ok(Math.abs(measured / bytesPerSec - 1) <= 0.1, `measured ${measured.toFixed(0)} B/s`);
    // The queue bounds the extra wait: 20,000 bytes at 200,000 B/s is 100 ms.
    const worst = Math.max(...sink.arrivals.map((a) => a.latencyMs));
    assert.ok(worst < 100 + 30, `worst wait ${worst.toFixed(1)} ms`);
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
