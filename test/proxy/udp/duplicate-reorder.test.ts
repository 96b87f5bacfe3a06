import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

describe('UDP proxy: duplication, reordering, corruption', () => {
  it('duplicates 20 % of 100,000 datagrams to within ±1 %', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { duplicate: { probability: 0.2 } });
    const client = await udpSocket(t);
    const n = 100_000;
    await sendPaced(client, proxy.port, n, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    const c = proxy.counters().upstream;
    assert.equal(c.received, n);
    assert.ok(Math.abs(c.duplicated / c.received - 0.2) <= 0.01, `counted ${c.duplicated / c.received}`);
    assert.equal(c.forwarded, c.received + c.duplicated);
    const extra = sink.arrivals.length - new Set(sink.arrivals.map((a) => a.seq)).size;
    assert.ok(Math.abs(extra / n - 0.2) <= 0.01, `end to end ${extra / n}`);
  });

  it('sends `copies` extra copies', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { duplicate: { probability: 1, copies: 3 } });
    const client = await udpSocket(t);
    await sendPaced(client, proxy.port, 100, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    assert.equal(sink.arrivals.length, 400);
    assert.equal(proxy.counters().upstream.duplicated, 300);
  });

  it('reorders 10 % of 100,000 datagrams (gap 1) to within ±1 %', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { reorder: { probability: 0.1 } });
    const client = await udpSocket(t);
    const n = 100_000;
    await sendPaced(client, proxy.port, n, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length, 300);
    const c = proxy.counters().upstream;
    assert.equal(c.received, n);
    assert.equal(sink.arrivals.length, n, 'reordering loses nothing');
    assert.ok(Math.abs(c.reordered / n - 0.1) <= 0.01, `counted ${c.reordered / n}`);
    let late = 0;
    let highest = -1;
    for (const a of sink.arrivals) {
      if (a.seq < highest) late++;
      else highest = a.seq;
    }
    assert.ok(Math.abs(late / n - 0.1) <= 0.01, `end to end ${late / n}`);
  });

  it('a held datagram goes after `gap` later ones', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { reorder: { probability: 1, gap: 3 } });
    const client = await udpSocket(t);
    await sendPaced(client, proxy.port, 1, { accounted: accountedThrough(proxy, sink) });
    await waitFor(() => proxy.counters().upstream.received === 1, 'the first datagram'); // held ≤ 100 ms
    proxy.impair('upstream', { reorder: { probability: 0, gap: 3 } }); // later ones pass straight
    for (let seq = 1; seq <= 4; seq++) {
      const data = Buffer.alloc(12);
      data.writeUInt32BE(seq, 0);
      client.send(data, proxy.port, '127.0.0.1');
    }
    await settle(() => sink.arrivals.length);
    assert.deepEqual(
      sink.arrivals.map((a) => a.seq),
      [1, 2, 3, 0, 4],
    );
    assert.equal(proxy.counters().upstream.reordered, 1);
  });

  it('virtual clock: a held datagram with nothing behind it goes after exactly 100 ms (the hold bound)', async (t) => {
    const clock = new VirtualClock();
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port, { clock });
    proxy.impair('upstream', { reorder: { probability: 1, gap: 3 } });
    const client = await udpSocket(t);
    client.send(stamped(0), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.counters().upstream.received === 1, 'the datagram at the proxy');
    clock.advance(40);
    client.send(stamped(1), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.counters().upstream.received === 2, 'the second datagram');
    assert.equal(proxy.queued().upstream, 2, 'both held, waiting for 3 later ones');
    assert.equal(clock.nextDueAt(), 100, 'the first is due 100 ms after it came');
    clock.advance(59);
    assert.equal(proxy.counters().upstream.forwarded, 0, 'held until its hold bound');
    clock.advance(1);
    assert.equal(proxy.counters().upstream.forwarded, 1, 'the first goes at 100 ms');
    assert.equal(clock.nextDueAt(), 140, 'the second is due 100 ms after it came');
    clock.advance(39);
    assert.equal(proxy.counters().upstream.forwarded, 1);
    clock.advance(1);
    assert.equal(proxy.counters().upstream.forwarded, 2, 'the second goes at 140 ms');
    await waitFor(() => sink.arrivals.length === 2, 'both at the sink');
    assert.deepEqual(
      sink.arrivals.map((a) => a.seq),
      [0, 1],
    );
    assert.equal(proxy.counters().upstream.reordered, 0, 'nothing overtook them');
  });

  it('corrupts one bit in about half the datagrams', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { corrupt: { probability: 0.5 } });
    const client = await udpSocket(t);
    const received: Buffer[] = [];
    sink.socket.on('message', (data) => received.push(data));
    const n = 10_000;
    const pattern = Buffer.alloc(64, 0x5a);
    await sendPaced(client, proxy.port, n, {
      make: () => pattern,
      accounted: accountedThrough(proxy, sink),
    });
    await settle(() => received.length);
    assert.equal(received.length, n);
    let flipped = 0;
    for (const data of received) {
      let bits = 0;
      for (let i = 0; i < data.length; i++) {
        let x = (data[i] as number) ^ 0x5a;
        for (; x !== 0; x &= x - 1) bits++;
      }
      assert.ok(bits <= 1);
      flipped += bits;
    }
    assert.equal(flipped, proxy.counters().upstream.corrupted);
    assert.ok(Math.abs(flipped / n - 0.5) <= 0.02, `corrupted ${flipped / n}`);
  });
});
