import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import { isFaultlineError } from '../../src/core/errors.js';
import type { UdpProxy } from '../../src/proxy/udp/udp-proxy.js';
import { type Cluster, cut, expectedMatrix, measure, Probe, startCluster } from './helpers.js';

const five = ['a', 'b', 'c', 'd', 'e'];

/** Sends `count` datagrams from `from` to `to` and waits until the stream has settled. */
async function burst(
  t: TestContext,
  cluster: Cluster,
  from: string,
  to: string,
  count: number,
): Promise<string[]> {
  const [host, port] = cluster.network.address(from, to).split(':') as [string, string];
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    const message = `${from}->${to}/burst/${i}`;
    messages.push(message);
    socket.send(message, Number(port), host);
    if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  return messages;
}

test('udp: reachability through partition, isolate, ring, bridge and splitMajority, then heal', async (t) => {
  const cluster = await startCluster(t, 'udp', five, { clients: ['client'] });
  const { network } = cluster;
  const check = async (blocked: Array<[string, string]>): Promise<void> => {
    const expected = expectedMatrix(cluster, blocked);
    assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
  };
  await check([]);

  network.partition([
    ['a', 'b'],
    ['c', 'd'],
  ]);
  const partitioned = await measure(
    t,
    cluster,
    expectedMatrix(cluster, cut([['a', 'b'], ['c', 'd'], ['e']])),
  );
  assert.deepEqual(partitioned.outcomes, expectedMatrix(cluster, cut([['a', 'b'], ['c', 'd'], ['e']])));

  network.isolate('e');
  await check(cut([['e'], ['a', 'b', 'c', 'd']]));

  network.ring();
  await check(
    (
      [
        ['a', 'c'],
        ['a', 'd'],
        ['b', 'd'],
        ['b', 'e'],
        ['c', 'e'],
      ] as const
    ).flatMap(
      ([x, y]): Array<[string, string]> => [
        [x, y],
        [y, x],
      ],
    ),
  );

  network.bridge();
  await check(
    cut([
      ['a', 'b'],
      ['d', 'e'],
    ]),
  );

  const { majority, minority } = network.splitMajority();
  await check(cut([majority, minority]));

  network.heal();
  await check([]);
  // UDP drops what a partition stopped: unlike TCP, nothing held arrives after heal.
  const lost = [...partitioned.probes.values()].filter((probe) => probe.outcome === 'lost');
  assert.equal(lost.length, 16);
  assert.ok(lost.every((probe) => !probe.delivered));
});

test('udp: block is one way and sits on top of the link’s impairments; unblock restores them exactly', async (t) => {
  const cluster = await startCluster(t, 'udp', ['a', 'b', 'c']);
  const { network } = cluster;
  network.impair([['a', 'b']], 'latency-500');
  network.block('a', 'b');
  const ab = network.link('a', 'b') as UdpProxy;
  const ba = network.link('b', 'a') as UdpProxy;
  assert.deepEqual(ab.impairments(), { upstream: { delay: { ms: 500 }, blackhole: true }, downstream: {} });
  assert.deepEqual(ba.impairments(), { upstream: {}, downstream: { delay: { ms: 500 }, blackhole: true } });
  const expected = expectedMatrix(cluster, [['a', 'b']]);
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);

  network.unblock('a', 'b');
  assert.deepEqual(ab.impairments(), { upstream: { delay: { ms: 500 } }, downstream: {} });
  assert.deepEqual(ba.impairments(), { upstream: {}, downstream: { delay: { ms: 500 } } });
  const started = performance.now();
  const probe = new Probe(cluster, 'a', 'b', 'udp');
  t.after(() => probe.close());
  await probe.answer();
  assert.ok(performance.now() - started >= 490, 'the latency is still there');

  network.heal();
  assert.deepEqual(ab.impairments(), { upstream: {}, downstream: {} });
  assert.deepEqual(ba.impairments(), { upstream: {}, downstream: {} });
});

test('udp: loss-50 and duplicate act on the chosen pair only', async (t) => {
  const cluster = await startCluster(t, 'udp', ['a', 'b', 'c'], { seed: 11 });
  const { network } = cluster;
  network.impair([['a', 'b']], 'loss-50');
  network.impair([['c', 'a']], 'duplicate');
  const arrived = (to: string, messages: string[]): number =>
    messages.reduce((sum, message) => sum + (cluster.servers.get(to)?.counts.get(message) ?? 0), 0);

  const lossy = await burst(t, cluster, 'a', 'b', 400);
  const clean = await burst(t, cluster, 'a', 'c', 400);
  const doubled = await burst(t, cluster, 'c', 'a', 400);
  const lossyCount = arrived('b', lossy);
  assert.ok(lossyCount > 120 && lossyCount < 280, `loss-50 let ${lossyCount} of 400 through`);
  assert.equal(arrived('c', clean), 400);
  const doubledCount = arrived('a', doubled);
  assert.ok(doubledCount > 520 && doubledCount < 680, `duplicate delivered ${doubledCount} for 400`);
  assert.equal(new Set(doubled.filter((m) => cluster.servers.get('a')?.received.has(m))).size, 400);
});

test('udp: bad impairments name the field and leave the state unchanged', async (t) => {
  const cluster = await startCluster(t, 'udp', ['a', 'b']);
  const { network } = cluster;
  network.impair('all', 'jitter-300');
  network.block('b', 'a');
  const before = network.state();
  const cases: Array<[unknown, string]> = [
    [{ loss: { probability: 1.5 } }, 'impair.impairment.loss.probability'],
    [{ loss: { probability: -0.1 } }, 'impair.impairment.loss.probability'],
    [{ duplicate: { probability: 2 } }, 'impair.impairment.duplicate.probability'],
    [{ delay: { ms: -10 } }, 'impair.impairment.delay.ms'],
    [{ delay: { ms: 10, jitterMs: -1 } }, 'impair.impairment.delay.jitterMs'],
    [{ wormhole: true }, 'impair.impairment.wormhole'],
    ['loss-99', 'impair.impairment'],
  ];
  for (const [impairment, field] of cases) {
    assert.throws(
      () => network.impair([['a', 'b']], impairment as 'loss-30'),
      (error: unknown) => isFaultlineError(error) && error.message.startsWith(`${field}: `),
      field,
    );
  }
  assert.deepEqual(network.state(), before);
  assert.deepEqual((network.link('a', 'b') as UdpProxy).impairments(), {
    upstream: { delay: { ms: 300, jitterMs: 300, distribution: 'uniform' } },
    downstream: { delay: { ms: 300, jitterMs: 300, distribution: 'uniform' }, blackhole: true },
  });
  // UDP takes every preset.
  for (const name of ['loss-30', 'loss-50', 'reorder', 'duplicate', 'latency-500', 'jitter-300'] as const) {
    network.impair([['a', 'b']], name);
  }
});

test('udp: stop() releases every port', async (t) => {
  const cluster = await startCluster(t, 'udp', ['a', 'b', 'c'], { clients: ['x'] });
  const { network } = cluster;
  const ports = [...network.nodes, 'x'].flatMap((from) =>
    network.nodes.filter((to) => to !== from).map((to) => Number(network.address(from, to).split(':')[1])),
  );
  await network.stop();
  for (const port of ports) {
    const socket = createSocket('udp4');
    socket.bind(port, '127.0.0.1');
    await once(socket, 'listening'); // rejects with EADDRINUSE if the link still held it
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
});
