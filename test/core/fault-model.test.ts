// One fault model: every TCP toxic, UDP impairment and Network operation is a registered Fault with
// validated, typed parameters, applied into a Ledger, announced on diagnostics_channel, and healed one way.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { codes } from '../../src/core/codes.js';
import type { FaultlineEvent } from '../../src/core/events.js';
import { eventChannelNames, subscribe } from '../../src/core/events.js';
import type { FaultContext } from '../../src/core/fault.js';
import { createFault, defineFault, faultKinds } from '../../src/core/fault-registry.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Network } from '../../src/net/network.js';
import '../../src/process/faults.js';
import { net } from '../../src/net/network-faults.js';
import { tcp } from '../../src/proxy/tcp-faults.js';
import { TcpProxy } from '../../src/proxy/tcp-proxy.js';
import { udp } from '../../src/proxy/udp/impairment-faults.js';
import { UdpProxy } from '../../src/proxy/udp/udp-proxy.js';
import '../../src/process/index.js';
import '../../src/resource/index.js';
import { FailError, Recorder } from '../../src/public/history.js';
import '../../src/resource/stressors.js';

function context(t: TestContext): FaultContext {
  const ledger = new Ledger();
  t.after(() => ledger.close());
  return { ledger, clock: realClock, random: new Random(1) };
}

function tcpProxy(t: TestContext): TcpProxy {
  const proxy = new TcpProxy({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' });
  t.after(() => proxy.stop());
  return proxy;
}

function udpProxy(t: TestContext): UdpProxy {
  const proxy = new UdpProxy({ name: 'dns', listen: '127.0.0.1:0', upstream: '127.0.0.1:1', io: 'dgram' });
  t.after(() => proxy.stop());
  return proxy;
}

const invalidField = (field: string) => (error: unknown) => {
  const e = error as { code?: string; details?: { field?: string } };
  assert.equal(e.code, codes.invalidArgument, String(error));
  assert.equal(e.details?.field, field, String(error));
  return true;
};

describe('the fault registry', () => {
  it('lists every toxic, impairment, network, process and resource operation, one kind-name style, each with a JSON Schema', () => {
    const kinds = faultKinds().map((k) => k.kind);
    for (const kind of [
      'tcp.latency',
      'tcp.slow-close',
      'tcp.reset-peer',
      'tcp.limit-data',
      'udp.loss',
      'udp.burst-loss',
      'udp.delay',
      'udp.rate',
      'udp.blackhole',
      'net.partition',
      'net.split-majority',
      'net.bridge',
      'net.ring',
      'net.block',
      'net.impair',
      'process.kill',
      'process.graceful-stop',
      'process.pause',
      'process.restart',
      'process.crash-loop',
      'process.cascading-kill',
      'resource.memory-limit',
      'resource.cpu-quota',
      'resource.pids-limit',
      'resource.fd-limit',
      'resource.cpu-burn',
      'resource.memory-hog',
      'resource.disk-fill',
    ]) {
      assert.ok(kinds.includes(kind), `${kind} is registered`);
    }
    for (const kind of kinds) assert.match(kind, /^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$/);
    const latency = faultKinds().find((k) => k.kind === 'tcp.latency');
    assert.deepEqual(latency?.schema.required, ['proxy']);
    const properties = latency?.schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.latencyMs, {
      description: 'delay added to every chunk',
      type: 'number',
      minimum: 0,
      'x-unit': 'ms',
      default: 0,
    });
    assert.equal(properties.proxy?.['x-ref'], 'tcp-proxy');
    assert.equal(latency?.schema.additionalProperties, false);
  });

  it('validates every parameter before anything exists: unknown keys, types, ranges, required', (t) => {
    const proxy = tcpProxy(t);
    assert.throws(() => tcp.latency({ proxy, latencyMs: -1 }), invalidField('latencyMs'));
    assert.throws(() => tcp.latency({ proxy, latency: 5 } as never), invalidField('latency'));
    assert.throws(() => tcp.latency({ proxy: {} as TcpProxy }), invalidField('proxy'));
    assert.throws(() => tcp.latency({ proxy, stream: 'sideways' as never }), invalidField('stream'));
    assert.throws(
      () => udp.loss({ proxy: udpProxy(t), lossProbability: 2 }),
      invalidField('lossProbability'),
    );
    assert.throws(() => udp.loss({ proxy: udpProxy(t) } as never), invalidField('lossProbability'));
    assert.throws(
      () => createFault('tcp.latencyy', {}),
      (e: unknown) =>
        (e as { code: string }).code === codes.invalidArgument && /valid: .*tcp\.latency/.test(String(e)),
    );
    assert.equal(proxy.toxics.length, 0);
  });

  it('refuses a second kind of the same name and names that are not domain.kebab-name', () => {
    const definition = { summary: 's', params: {}, apply: async () => Promise.reject(new Error('unused')) };
    assert.throws(() => defineFault({ kind: 'tcp.latency', ...definition }), /already registered/);
    assert.throws(() => defineFault({ kind: 'memory_limit', ...definition }), invalidField('kind'));
  });
});

describe('TCP toxics as faults', () => {
  it('injects into the ledger, heals by name, and `await using` heals too', async (t) => {
    const ctx = context(t);
    const proxy = tcpProxy(t);
    const injection = await tcp.latency({ proxy, latencyMs: 100, jitterMs: 5 }).inject(ctx);
    assert.deepEqual(proxy.toxics, [
      {
        name: 'latency-downstream',
        kind: 'latency',
        stream: 'downstream',
        toxicityProbability: 1,
        attributes: { latencyMs: 100, jitterMs: 5 },
      },
    ]);
    assert.deepEqual(ctx.ledger.labels(), [injection.label]);
    await injection.heal();
    await injection.heal();
    assert.equal(proxy.toxics.length, 0);
    assert.equal(ctx.ledger.size, 0);
    {
      await using _slow = await tcp.slowClose({ proxy, delayMs: 10, stream: 'upstream' }).inject(ctx);
      assert.equal(proxy.toxics[0]?.kind, 'slow-close');
    }
    assert.equal(proxy.toxics.length, 0);
  });

  it('a second toxic of the same name conflicts and leaves the first in force', async (t) => {
    const ctx = context(t);
    const proxy = tcpProxy(t);
    await tcp.timeout({ proxy, timeoutMs: 50 }).inject(ctx);
    await assert.rejects(tcp.timeout({ proxy, timeoutMs: 10 }).inject(ctx), { code: codes.alreadyExists });
    assert.equal(proxy.toxics.length, 1);
    assert.equal(proxy.toxics[0]?.attributes.timeoutMs, 50);
    assert.equal(ctx.ledger.size, 1);
    await ctx.ledger.drain();
    assert.equal(proxy.toxics.length, 0);
  });
});

describe('UDP impairments as faults', () => {
  it('stack across kinds, conflict within a kind on one direction, and heal exactly their own', async (t) => {
    const ctx = context(t);
    const proxy = udpProxy(t);
    const loss = await udp.loss({ proxy, lossProbability: 0.3 }).inject(ctx);
    const delay = await udp.delay({ proxy, delayMs: 20, direction: 'upstream' }).inject(ctx);
    assert.deepEqual(proxy.impairments(), {
      upstream: { loss: { probability: 0.3 }, delay: { ms: 20 } },
      downstream: { loss: { probability: 0.3 } },
    });
    await assert.rejects(
      udp
        .burstLoss({ proxy, enterBurstProbability: 0.1, leaveBurstProbability: 0.5, direction: 'downstream' })
        .inject(ctx),
      {
        code: codes.conflict,
      },
    );
    assert.throws(() => proxy.impair('upstream', { loss: { probability: 0.9 } }), { code: codes.conflict });
    await loss.heal();
    assert.deepEqual(proxy.impairments(), { upstream: { delay: { ms: 20 } }, downstream: {} });
    await delay.heal();
    assert.deepEqual(proxy.impairments(), { upstream: {}, downstream: {} });
  });

  it('UdpProxy.impair replaces what it set itself, through the same faults', (t) => {
    const proxy = udpProxy(t);
    const seen: string[] = [];
    const stop = subscribe(
      (event) => {
        if (event.type === 'fault.inject') seen.push(event.kind);
      },
      ['fault.inject'],
    );
    try {
      proxy.impair('both', { loss: { probability: 0.1 }, rate: { bytesPerSec: 1000 } });
      proxy.impair('downstream', { blackhole: true });
      assert.deepEqual(proxy.impairments(), {
        upstream: { loss: { probability: 0.1 }, rate: { bytesPerSec: 1000 } },
        downstream: { blackhole: true },
      });
      proxy.heal();
      assert.deepEqual(proxy.impairments(), { upstream: {}, downstream: {} });
    } finally {
      stop();
    }
    assert.deepEqual(seen, ['udp.loss', 'udp.rate', 'udp.loss', 'udp.rate', 'udp.blackhole']);
  });
});

describe('Network operations as faults', () => {
  const network = (t: TestContext) => {
    const n = new Network({
      protocol: 'udp',
      nodes: {
        n1: { address: '127.0.0.1:1' },
        n2: { address: '127.0.0.1:2' },
        n3: { address: '127.0.0.1:3' },
      },
      seed: 7,
    });
    t.after(() => n.stop());
    return n;
  };

  it('a partition fault is recorded in the caller ledger; a second one conflicts; heal restores', async (t) => {
    const ctx = context(t);
    const n = network(t);
    const cut = await net.partition({ network: n, groups: [['n1']] }).inject(ctx);
    assert.deepEqual(n.state().partition, { kind: 'partition', groups: [['n1'], ['n2', 'n3']] });
    await assert.rejects(net.isolate({ network: n, node: 'n2' }).inject(ctx), { code: codes.conflict });
    assert.throws(
      () => n.partition([['n2']]),
      { code: codes.conflict },
      'the convenience does not replace a fault',
    );
    await assert.rejects(
      net.partition({ network: n, groups: [['n9']] }).inject(ctx),
      invalidField('partition.groups[0][0]'),
    );
    await cut.heal();
    assert.equal(n.state().partition, null);
    assert.equal(ctx.ledger.size, 0);
  });

  it('blocks and impairments heal exactly what they set; the convenience heal() clears everything', async (t) => {
    const ctx = context(t);
    const n = network(t);
    const block = await net.block({ network: n, from: 'n1', to: 'n2' }).inject(ctx);
    await assert.rejects(net.block({ network: n, from: 'n1', to: 'n2' }).inject(ctx), {
      code: codes.conflict,
    });
    const slow = await net
      .impair({ network: n, links: [['n2', 'n3']], impairments: 'latency-500' })
      .inject(ctx);
    n.block('n3', 'n1');
    assert.deepEqual(n.state().blocks, [
      ['n1', 'n2'],
      ['n3', 'n1'],
    ]);
    await block.heal();
    assert.deepEqual(n.state().blocks, [['n3', 'n1']]);
    await slow.heal();
    assert.deepEqual(n.state().impaired, []);
    n.heal();
    assert.deepEqual(n.state().blocked, []);
  });

  it('a method call replaces what methods set, never what a fault holds', async (t) => {
    const ctx = context(t);
    const n = network(t);
    const held = await net.impair({ network: n, links: [['n1', 'n2']], impairments: 'loss-30' }).inject(ctx);
    assert.throws(() => n.impair([['n1', 'n2']], 'loss-50'), { code: codes.conflict });
    for (const preset of ['loss-50', 'duplicate', 'reorder'] as const) n.impair([['n2', 'n3']], preset);
    assert.deepEqual(
      n.state().impaired.map(({ from, to, impairments }) => [from, to, Object.keys(impairments)]),
      [
        ['n1', 'n2', ['loss']],
        ['n2', 'n3', ['reorder']],
      ],
    );
    n.unimpair([['n2', 'n3']]);
    await held.heal();
    assert.deepEqual(n.state().impaired, []);
  });
});

describe('events', () => {
  it('publishes inject and heal once each, with one id, on named diagnostics channels', async (t) => {
    const events: FaultlineEvent[] = [];
    const stop = subscribe((event) => events.push(event));
    t.after(stop);
    const ctx = context(t);
    const injection = await tcp.noop({ proxy: tcpProxy(t) }).inject(ctx);
    await injection.heal();
    await injection.heal();
    const mine = events.filter((e) => 'id' in e && e.id === injection.id);
    assert.deepEqual(
      mine.map((e) => e.type),
      ['fault.inject', 'fault.heal'],
    );
    assert.equal((mine[0] as { kind: string }).kind, 'tcp.noop');
    assert.equal(eventChannelNames['fault.inject'], 'faultline:fault.inject');
  });

  it('publishes every op a Recorder records, invoke and completion alike, as it records them', async (t) => {
    const ops: unknown[] = [];
    const stop = subscribe(
      (event) => {
        if (event.type === 'op') ops.push(event.op);
      },
      ['op'],
    );
    t.after(stop);
    const recorder = new Recorder({ clock: new VirtualClock() });
    await recorder.call(1, 'write', 3, async () => undefined);
    await recorder.attempt(2, 'read', null, async () => {
      throw new FailError('no');
    });
    recorder.note('nemesis', 'partition', ['a']);
    assert.deepEqual(ops, recorder.history());
    assert.deepEqual(
      recorder.history().map((op) => `${op.process} ${op.type} ${op.f}`),
      ['1 invoke write', '1 ok write', '2 invoke read', '2 fail read', 'nemesis info partition'],
    );
  });
});
