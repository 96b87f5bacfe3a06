import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/core/errors.js';
import { Network } from '../../src/net/network.js';
import { netPreset, netPresetNames } from '../../src/net/presets.js';

const nodes = {
  a: { address: '127.0.0.1:7001' },
  b: { address: '127.0.0.1:7002' },
  c: { address: '127.0.0.1:7003' },
};

/** Asserts a FaultlineError whose message starts with `field: ` and matches `pattern`. */
function rejects(action: () => unknown, field: string, pattern: RegExp = /./): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT'), `not a FaultlineError: ${String(error)}`);
    assert.ok(error.message.startsWith(`${field}: `), `expected field ${field}, got: ${error.message}`);
    assert.equal(error.details.field, field);
    assert.match(error.message, pattern);
    return true;
  });
}

test('construction: names and addresses are checked, naming the field', () => {
  rejects(() => new Network({ protocol: 'sctp' as 'tcp', nodes }), 'protocol', /"tcp", "udp"/);
  rejects(() => new Network({ protocol: 'tcp', nodes: {} }), 'nodes', /at least one node/);
  rejects(() => new Network({ protocol: 'tcp', nodes: { '': { address: '127.0.0.1:1' } } }), 'nodes[""]');
  rejects(() => new Network({ protocol: 'tcp', nodes: { a: { address: 'nowhere' } } }), 'nodes.a.address');
  rejects(() => new Network({ protocol: 'tcp', nodes, clients: ['x', 'x'] }), 'clients[1]', /duplicate/);
  rejects(() => new Network({ protocol: 'tcp', nodes, clients: ['a'] }), 'clients[0]', /already a node/);
  rejects(() => new Network({ protocol: 'tcp', nodes, clients: [''] }), 'clients[0]', /empty/);
});

test('bad operations name the field and leave the state unchanged', () => {
  const network = new Network({ protocol: 'tcp', nodes, clients: ['x'], seed: 3 });
  network.partition([['a'], ['b']]);
  network.block('c', 'a');
  network.impair([['a', 'c']], 'latency-500');
  const before = network.state();

  rejects(
    () => network.partition([['a', 'b'], ['d']]),
    'partition.groups[1][0]',
    /unknown node or client "d"; valid: a, b, c, x/,
  );
  rejects(
    () => network.partition([['a', 'b'], ['b']]),
    'partition.groups[1][0]',
    /"b" is already in partition\.groups\[0\]\[1\]/,
  );
  rejects(() => network.partition([]), 'partition.groups', /at least one group/);
  rejects(() => network.partition([['a'], []]), 'partition.groups[1]');
  rejects(() => network.partition('a' as unknown as string[][]), 'partition.groups');
  rejects(() => network.isolate('z'), 'isolate.node', /unknown node "z"; valid: a, b, c/);
  rejects(() => network.isolate('x'), 'isolate.node', /is a client/);
  rejects(() => network.block('a', 'a'), 'block.to');
  rejects(() => network.block('a', 'q'), 'block.to', /unknown/);
  rejects(() => network.unblock('q', 'a'), 'unblock.from', /unknown/);
  rejects(() => network.ring(), 'ring', /at least 4 nodes/);
  rejects(() => network.bridge({ left: ['a'], right: ['a'], bridge: 'c' }), 'bridge.right[0]', /already in/);
  rejects(() => network.bridge({ left: ['a'], right: ['c'], bridge: 'c' }), 'bridge.right[0]');
  rejects(
    () => network.bridge({ left: ['a'], right: ['b'], bridge: 'd' }),
    'bridge.bridge',
    /unknown node "d"/,
  );
  rejects(
    () => network.impair([['a', 'b']], 'loss-99' as 'loss-30'),
    'impair.impairment',
    /valid: loss-30, loss-50/,
  );
  rejects(() => network.impair([['a', 'b']], { delay: { ms: -1 } }), 'impair.impairment.delay.ms', />= 0/);
  rejects(
    () => network.impair([['a', 'b']], { delay: { ms: 1, jitterMs: -5 } }),
    'impair.impairment.delay.jitterMs',
  );
  rejects(
    () => network.impair([['a', 'b']], { warp: 1 } as object),
    'impair.impairment.warp',
    /unknown impairment/,
  );
  rejects(
    () => network.impair([['a', 'b']], { loss: { probability: 1.5 } }),
    'impair.impairment.loss',
    /TCP/,
  );
  rejects(
    () =>
      network.impair(
        [
          ['a', 'b'],
          ['b', 'd'],
        ],
        'latency-500',
      ),
    'impair.links[1][1]',
    /unknown/,
  );
  rejects(() => network.impair([['a']] as unknown as [string, string][], 'latency-500'), 'impair.links[0]');
  rejects(() => network.impair('most' as 'all', 'latency-500'), 'impair.links');
  assert.deepEqual(network.state(), before);
});

test('partition with leftovers, splitMajority on too few nodes, and address before start', () => {
  const network = new Network({ protocol: 'tcp', nodes: { a: nodes.a, b: nodes.b }, seed: 1 });
  rejects(() => network.splitMajority(), 'splitMajority', /at least 3 nodes/);
  rejects(() => network.address('a', 'b'), 'address', /not started/);
  rejects(() => network.address('a', 'a'), 'address.to');
  assert.deepEqual(network.partition([['a']]).blocked, [
    ['a', 'b'],
    ['b', 'a'],
  ]);
});

test('presets: every name resolves to a fresh object, unknown names list the valid ones', () => {
  assert.deepEqual(netPresetNames, [
    'loss-30',
    'loss-50',
    'reorder',
    'duplicate',
    'latency-500',
    'jitter-300',
  ]);
  assert.deepEqual(netPreset('loss-30'), { loss: { probability: 0.3 } });
  assert.deepEqual(netPreset('jitter-300'), { delay: { ms: 300, jitterMs: 300, distribution: 'uniform' } });
  const copy = netPreset('latency-500');
  (copy.delay as { ms: number }).ms = 1;
  assert.deepEqual(netPreset('latency-500'), { delay: { ms: 500 } });
  rejects(
    () => netPreset('nope'),
    'preset',
    /valid: loss-30, loss-50, reorder, duplicate, latency-500, jitter-300/,
  );
});
