import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountedThrough, sendPaced, settle, startSink, startUdpProxy, udpSocket } from './helpers.js';

describe('UDP proxy: loss', () => {
  it('drops 30 % of 100,000 datagrams to within ±1 %, counted and seen end to end', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { loss: { probability: 0.3 } });
    const client = await udpSocket(t);
    const n = 100_000;
    await sendPaced(client, proxy.port, n, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    const c = proxy.counters().upstream;
    assert.ok(c.received >= n * 0.99, `the proxy received ${c.received} of ${n}`);
    const rate = c.dropped / c.received;
    assert.ok(Math.abs(rate - 0.3) <= 0.01, `measured loss ${rate}`);
    assert.equal(c.forwarded + c.dropped, c.received);
    const endToEnd = 1 - sink.arrivals.length / n;
    assert.ok(Math.abs(endToEnd - 0.3) <= 0.01, `end-to-end loss ${endToEnd}`);
    assert.equal(proxy.counters().downstream.received, 0);
  });

  it('Gilbert–Elliott loss comes in bursts of mean length 1/r at rate p/(p+r)', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    const p = 0.05;
    const r = 0.25;
    proxy.impair('upstream', { loss: { model: 'gilbert-elliott', p, r } });
    const client = await udpSocket(t);
    const n = 20_000;
    await sendPaced(client, proxy.port, n, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    const c = proxy.counters().upstream;
    assert.equal(c.received, n);
    assert.equal(sink.arrivals.length, c.forwarded);
    const got = new Set(sink.arrivals.map((a) => a.seq));
    const bursts: number[] = [];
    let run = 0;
    for (let seq = 0; seq < n; seq++) {
      if (!got.has(seq)) run++;
      else if (run > 0) {
        bursts.push(run);
        run = 0;
      }
    }
    const meanBurst = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    assert.ok(Math.abs(meanBurst - 1 / r) <= 0.5, `mean burst ${meanBurst}, expected ${1 / r}`);
    const rate = c.dropped / c.received;
    assert.ok(Math.abs(rate - p / (p + r)) <= 0.03, `loss rate ${rate}, expected ${p / (p + r)}`);
  });

  it('independent loss at the same rate has short bursts (mean ≈ 1/(1-loss))', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port);
    proxy.impair('upstream', { loss: { probability: 1 / 6 } });
    const client = await udpSocket(t);
    const n = 10_000;
    await sendPaced(client, proxy.port, n, { accounted: accountedThrough(proxy, sink) });
    await settle(() => sink.arrivals.length);
    const got = new Set(sink.arrivals.map((a) => a.seq));
    let bursts = 0;
    let lost = 0;
    for (let seq = 0; seq < n; seq++) {
      if (!got.has(seq)) {
        lost++;
        if (seq === 0 || got.has(seq - 1)) bursts++;
      }
    }
    assert.ok(Math.abs(lost / bursts - 1.2) <= 0.1, `mean burst ${lost / bursts}`);
  });

  it('is deterministic: the same seed drops the same datagrams, another seed others', async (t) => {
    const run = async (seed: number): Promise<number[]> => {
      const sink = await startSink(t);
      const proxy = await startUdpProxy(t, sink.port, { seed });
      proxy.impair('both', {
        loss: { model: 'gilbert-elliott', p: 0.1, r: 0.3, lossGood: 0.05 },
        duplicate: { probability: 0.1 },
      });
      const client = await udpSocket(t);
      await sendPaced(client, proxy.port, 3000, { accounted: accountedThrough(proxy, sink) });
      await settle(() => sink.arrivals.length);
      await proxy.stop();
      return sink.arrivals.map((a) => a.seq);
    };
    const first = await run(42);
    const again = await run(42);
    const other = await run(43);
    assert.ok(first.length > 1000);
    assert.deepEqual(again, first);
    assert.notDeepEqual(other, first);
  });
});
