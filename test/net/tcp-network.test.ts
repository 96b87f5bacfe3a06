import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/core/errors.js';
import { cut, expectedMatrix, measure, Probe, startCluster } from './helpers.js';

const five = ['a', 'b', 'c', 'd', 'e'];

test('tcp: each node reaches each peer through its own link, and clients reach every node', async (t) => {
  const cluster = await startCluster(t, 'tcp', five, { clients: ['client'] });
  const { network } = cluster;
  const addresses = new Set<string>();
  for (const from of [...five, 'client']) {
    for (const to of five) if (from !== to) addresses.add(network.address(from, to));
  }
  assert.equal(addresses.size, 5 * 4 + 5, 'one link per ordered pair and per client');
  assert.deepEqual(Object.keys(network.peers('a')), ['b', 'c', 'd', 'e']);
  const expected = expectedMatrix(cluster, []);
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
});

test('tcp: partition cuts groups both ways, unlisted nodes form their own group, heal delivers held data', async (t) => {
  const cluster = await startCluster(t, 'tcp', five);
  const { network } = cluster;
  const state = network.partition([
    ['a', 'b'],
    ['c', 'd'],
  ]);
  assert.deepEqual(state.partition, {
    kind: 'partition',
    groups: [['a', 'b'], ['c', 'd'], ['e']],
  });
  const expected = expectedMatrix(cluster, cut([['a', 'b'], ['c', 'd'], ['e']]));
  const { outcomes, probes } = await measure(t, cluster, expected);
  assert.deepEqual(outcomes, expected);
  assert.deepEqual(
    network.partition([
      ['a', 'b'],
      ['c', 'd'],
    ]),
    state,
    'idempotent',
  );

  const healed = network.heal();
  assert.deepEqual(healed, { protocol: 'tcp', blocked: [], blocks: [], partition: null, impaired: [] });
  // TCP holds what a partition stopped, as retransmission would, and delivers it on heal.
  const held = [...probes.values()].filter((probe) => !probe.answered);
  assert.equal(held.length, 16);
  await Promise.all(held.map((probe) => probe.answer()));
  const after = expectedMatrix(cluster, []);
  assert.deepEqual((await measure(t, cluster, after)).outcomes, after);
});

test('tcp: isolate cuts one node off from its peers, not from clients', async (t) => {
  const cluster = await startCluster(t, 'tcp', five, { clients: ['client'] });
  const state = cluster.network.isolate('c');
  assert.deepEqual(state.partition, { kind: 'isolate', node: 'c', groups: [['c'], ['a', 'b', 'd', 'e']] });
  const expected = expectedMatrix(cluster, cut([['c'], ['a', 'b', 'd', 'e']]));
  assert.equal(expected['client->c'], 'answered');
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
});

test('tcp: block is one way: the request is held, the reverse request arrives but its answer is held', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b', 'c']);
  const { network } = cluster;
  const state = network.block('a', 'b');
  assert.deepEqual(state.blocked, [['a', 'b']]);
  assert.deepEqual(state.blocks, [['a', 'b']]);
  assert.deepEqual(network.block('a', 'b'), state, 'idempotent');
  assert.equal(network.canSend('a', 'b'), false);
  assert.equal(network.canSend('b', 'a'), true);
  const expected = expectedMatrix(cluster, [['a', 'b']]);
  assert.equal(expected['a->b'], 'lost');
  assert.equal(expected['b->a'], 'delivered');
  const { outcomes, probes } = await measure(t, cluster, expected);
  assert.deepEqual(outcomes, expected);

  assert.deepEqual(network.unblock('a', 'b').blocked, []);
  await probes.get('a->b')?.answer();
  await probes.get('b->a')?.answer();
});

test('tcp: unblock leaves the partition, healPartition leaves the blocks', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b', 'c']);
  const { network } = cluster;
  network.isolate('a');
  network.block('b', 'c');
  network.unblock('a', 'b'); // not an explicit block: nothing changes
  assert.equal(network.canSend('a', 'b'), false);
  const state = network.healPartition();
  assert.deepEqual(state.blocked, [['b', 'c']]);
  assert.equal(state.partition, null);
  const expected = expectedMatrix(cluster, [['b', 'c']]);
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
});

test('tcp: ring — each of five nodes sees only its two neighbours', async (t) => {
  const cluster = await startCluster(t, 'tcp', five);
  const state = cluster.network.ring();
  assert.equal(state.partition?.kind, 'ring');
  if (state.partition?.kind === 'ring') {
    assert.deepEqual(state.partition.sees, {
      a: ['b', 'e'],
      b: ['a', 'c'],
      c: ['b', 'd'],
      d: ['c', 'e'],
      e: ['a', 'd'],
    });
  }
  const notNeighbours: Array<[string, string]> = [];
  for (const [x, y] of [
    ['a', 'c'],
    ['a', 'd'],
    ['b', 'd'],
    ['b', 'e'],
    ['c', 'e'],
  ] as const) {
    notNeighbours.push([x, y], [y, x]);
  }
  const expected = expectedMatrix(cluster, notNeighbours);
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
});

test('tcp: bridge — two halves that each reach the node in the middle', async (t) => {
  const cluster = await startCluster(t, 'tcp', five);
  const state = cluster.network.bridge();
  assert.deepEqual(state.partition, {
    kind: 'bridge',
    bridge: 'c',
    groups: [
      ['a', 'b'],
      ['d', 'e'],
    ],
  });
  const expected = expectedMatrix(
    cluster,
    cut([
      ['a', 'b'],
      ['d', 'e'],
    ]),
  );
  assert.equal(expected['a->c'], 'answered');
  assert.equal(expected['e->c'], 'answered');
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
  const explicit = cluster.network.bridge({ left: ['e'], right: ['a', 'b', 'c'], bridge: 'd' });
  assert.deepEqual(explicit.partition, { kind: 'bridge', bridge: 'd', groups: [['e'], ['a', 'b', 'c']] });
});

test('tcp: splitMajority draws a majority from the seed, and repeats it until healed', async (t) => {
  const cluster = await startCluster(t, 'tcp', five, { seed: 7 });
  const split = cluster.network.splitMajority();
  assert.equal(split.majority.length, 3);
  assert.equal(split.minority.length, 2);
  assert.deepEqual([...split.majority, ...split.minority].sort(), five);
  assert.deepEqual(cluster.network.splitMajority(), split, 'idempotent');
  const expected = expectedMatrix(cluster, cut([split.majority, split.minority]));
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);

  // The same seed draws the same splits, in the same sequence.
  const { Network } = await import('../../src/net/network.js');
  const nodes = Object.fromEntries(five.map((name) => [name, { address: '127.0.0.1:1' }]));
  const draws = (): string[][] => {
    const network = new Network({ protocol: 'tcp', nodes, seed: 7 });
    return [0, 1, 2].map(() => {
      const { minority } = network.splitMajority();
      network.heal();
      return minority;
    });
  };
  const first = draws();
  assert.deepEqual(first[0], split.minority);
  assert.deepEqual(draws(), first);
});

test('tcp: a client listed in a partition reaches only its group', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b', 'c'], { clients: ['x', 'y'] });
  cluster.network.partition([['a', 'x'], ['b']]);
  const expected = expectedMatrix(
    cluster,
    cut([['a', 'x'], ['b'], ['c']]).filter(([from, to]) => !(from === 'x' && to === 'y')),
  );
  assert.equal(expected['x->b'], 'lost');
  assert.equal(expected['y->b'], 'answered', 'an unlisted client reaches every node');
  assert.deepEqual((await measure(t, cluster, expected)).outcomes, expected);
});

test('tcp: latency-500 on one pair slows that pair only', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b', 'c']);
  const { network } = cluster;
  const state = network.impair([['a', 'b']], 'latency-500');
  assert.deepEqual(state.impaired, [{ from: 'a', to: 'b', impairments: { delay: { ms: 500 } } }]);
  const rtt = async (from: string, to: string): Promise<number> => {
    const started = performance.now();
    const probe = new Probe(cluster, from, to, 'tcp');
    t.after(() => probe.close());
    await probe.answer();
    return performance.now() - started;
  };
  // a→b's request and b→a's answer both travel a→b.
  const [ab, ba, ac, ca, bc, cb] = await Promise.all([
    rtt('a', 'b'),
    rtt('b', 'a'),
    rtt('a', 'c'),
    rtt('c', 'a'),
    rtt('b', 'c'),
    rtt('c', 'b'),
  ]);
  assert.ok(ab >= 490 && ab < 2500, `a->b ${ab} ms`);
  assert.ok(ba >= 490 && ba < 2500, `b->a ${ba} ms`);
  for (const [name, ms] of Object.entries({ ac, ca, bc, cb })) assert.ok(ms < 400, `${name} ${ms} ms`);

  network.impair('all', 'jitter-300');
  assert.equal(network.state().impaired.length, 6);
  network.unimpair([['a', 'c']]);
  assert.equal(network.state().impaired.length, 5);
  assert.deepEqual(network.heal().impaired, []);
  assert.ok((await rtt('a', 'b')) < 400);
});

test('tcp: datagram impairments are refused with the reason, and nothing changes', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b']);
  const { network } = cluster;
  network.impair([['a', 'b']], 'latency-500');
  const before = network.state();
  for (const impairment of ['loss-30', 'loss-50', 'reorder', 'duplicate'] as const) {
    assert.throws(
      () => network.impair('all', impairment),
      (error: unknown) =>
        isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT') &&
        /^impair\.impairment\("[a-z0-9-]+"\)\.(loss|reorder|duplicate): a TCP network has no/.test(
          error.message,
        ) &&
        /UDP/.test(error.message),
    );
  }
  assert.throws(
    () => network.impair('all', { corrupt: { probability: 0.1 } }),
    /impair\.impairment\.corrupt/,
  );
  assert.deepEqual(network.state(), before);
});

test('tcp: stop() leaves nothing listening', async (t) => {
  const cluster = await startCluster(t, 'tcp', ['a', 'b', 'c'], { clients: ['x'] });
  const { network } = cluster;
  network.isolate('a');
  const addresses = [...network.nodes, 'x'].flatMap((from) =>
    network.nodes.filter((to) => to !== from).map((to) => network.address(from, to)),
  );
  await network.stop();
  assert.throws(() => network.address('a', 'b'), /not started/);
  for (const address of addresses) {
    const port = Number(address.split(':')[1]);
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.on('error', (failure) => resolve(failure));
    });
    assert.equal(error?.code, 'ECONNREFUSED', `${address} still accepts`);
  }
});
