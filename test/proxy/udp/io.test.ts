// The two ways the UDP proxy moves datagrams — batched (recvmmsg/sendmmsg with GSO, the native addon)
// and node:dgram — must behave the same. Each case runs once per io, on real sockets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isFaultlineError } from '../../../src/core/errors.js';
import { Random } from '../../../src/core/random.js';
import { batchUnavailableReason } from '../../../src/proxy/udp/socket-io.js';
import { UdpProxy } from '../../../src/proxy/udp/udp-proxy.js';
import { bufferBytes, portOf, startSink, startUdpProxy, udpSocket, waitFor } from './helpers.js';

const ios = ['batch', 'dgram'] as const;

/** Datagrams `socket` receives, in order. */
function collect(socket: Socket): Buffer[] {
  const received: Buffer[] = [];
  socket.on('message', (data) => received.push(data));
  return received;
}

const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function udp6Socket(t: TestContext): Promise<Socket | undefined> {
  const socket = createSocket({ type: 'udp6', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '::1', resolve);
    });
  } catch {
    return undefined;
  }
  t.after(() => socket.close());
  return socket;
}

describe('UDP proxy: batched and node:dgram I/O behave alike', () => {
  it('on Linux, the native addon is built and `auto` picks batched I/O', async (t) => {
    if (process.platform !== 'linux') return t.skip('batched I/O is Linux-only');
    assert.equal(batchUnavailableReason(), undefined, `the addon should be built by npm install`);
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port, { io: 'auto' });
    assert.equal(proxy.io, 'batch');
  });

  for (const io of ios) {
    describe(io, () => {
      it('echoes for several clients at once: each gets its own replies, in order', async (t) => {
        const sink = await startSink(t, { echo: true });
        const proxy = await startUdpProxy(t, sink.port, { io });
        assert.equal(proxy.io, io);
        const clients = await Promise.all([0, 1, 2].map(() => udpSocket(t)));
        const replies = clients.map(collect);
        const perClient = 300;
        // Interleaved sends: one receive batch holds several sources, one send batch several destinations.
        for (let seq = 0; seq < perClient; seq++) {
          clients.forEach((client, c) => {
            const data = Buffer.alloc(16);
            data.writeUInt32BE(c, 0);
            data.writeUInt32BE(seq, 4);
            client.send(data, proxy.port, '127.0.0.1');
          });
          if (seq % 50 === 49)
            await waitFor(() => proxy.counters().upstream.received >= (seq + 1) * 3, 'the proxy');
        }
        await waitFor(() => replies.every((r) => r.length === perClient), 'every reply', 15_000);
        replies.forEach((received, c) => {
          assert.deepEqual(
            received.map((d) => [d.readUInt32BE(0), d.readUInt32BE(4)]),
            Array.from({ length: perClient }, (_, seq) => [c, seq]),
            `client ${c} gets its own replies in order`,
          );
        });
        assert.equal(sink.sources.size, 3, 'the server sees one address per client');
      });

      it('carries every size from 0 bytes to the IPv4 maximum intact and in order', async (t) => {
        const server = await udpSocket(t);
        const received = collect(server);
        const proxy = await startUdpProxy(t, portOf(server), { io });
        const client = await udpSocket(t);
        const random = new Random(7);
        // Runs of equal sizes (sent as one GSO message) broken by a shorter one, a longer one, and extremes.
        const sizes = [
          0,
          1,
          ...Array(40).fill(64),
          63,
          64,
          64,
          1400,
          1400,
          1399,
          1400,
          9000,
          33_000,
          65_507,
          2,
          2,
        ];
        const sent = sizes.map((size) => Buffer.from(Array.from({ length: size }, () => random.int(256))));
        for (const data of sent) client.send(data, proxy.port, '127.0.0.1');
        await waitFor(() => received.length === sent.length, `${sent.length} datagrams`);
        assert.deepEqual(
          received.map((d) => d.length),
          sizes,
        );
        assert.deepEqual(received.map(digest), sent.map(digest));
      });

      it('works over IPv6 (::1)', async (t) => {
        const server = await udp6Socket(t);
        if (server === undefined) return t.skip('no IPv6 loopback here');
        server.on('message', (data, info) => server.send(data, info.port, info.address));
        const proxy = new UdpProxy({
          name: 'v6',
          listen: '[::1]:0',
          upstream: `[::1]:${portOf(server)}`,
          io,
        });
        await proxy.start();
        t.after(() => proxy.stop());
        const client = (await udp6Socket(t)) as Socket;
        const replies = collect(client);
        for (let i = 0; i < 100; i++) client.send(Buffer.from(`hello ${i}`), proxy.port, '::1');
        await waitFor(() => replies.length === 100, 'replies over IPv6');
        assert.deepEqual(
          replies.map(String),
          Array.from({ length: 100 }, (_, i) => `hello ${i}`),
        );
        assert.equal(proxy.sessions()[0]?.client, `[::1]:${portOf(client)}`);
      });

      it('roams mid-stream and frees every port on stop()', async (t) => {
        const sink = await startSink(t, { echo: true });
        const proxy = await startUdpProxy(t, sink.port, { io });
        const client = await udpSocket(t);
        const replies = collect(client);
        client.send(Buffer.alloc(16), proxy.port, '127.0.0.1');
        await waitFor(() => replies.length === 1, 'the first reply');
        const [moved] = await proxy.roam({ address: '127.0.0.3' });
        assert.match(moved?.upstreamLocal ?? '', /^127\.0\.0\.3:\d+$/);
        client.send(Buffer.alloc(16), proxy.port, '127.0.0.1');
        await waitFor(() => replies.length === 2, 'a reply after roaming');
        assert.ok([...sink.sources].some((source) => source.startsWith('127.0.0.3:')));
        const listenPort = proxy.port;
        const upstreamPort = Number(moved?.upstreamLocal.split(':')[1]);
        await proxy.stop();
        for (const [host, port] of [
          ['127.0.0.1', listenPort],
          ['127.0.0.3', upstreamPort],
        ] as const) {
          const probe = createSocket('udp4');
          await new Promise<void>((resolve, reject) => {
            probe.once('error', reject);
            probe.bind({ address: host, port, exclusive: true }, resolve);
          });
          probe.close();
        }
      });
    });
  }

  it('rejects an unknown io, and an unknown FAULTLINE_UDP_IO, naming it', () => {
    const options = { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' };
    assert.throws(
      () => new UdpProxy({ ...options, io: 'fast' as never }),
      (error: unknown) =>
        isFaultlineError(error) && /io: expected one of auto, batch, dgram, got "fast"/.test(error.message),
    );
    const saved = process.env.FAULTLINE_UDP_IO;
    process.env.FAULTLINE_UDP_IO = 'turbo';
    try {
      assert.throws(
        () => new UdpProxy(options),
        /FAULTLINE_UDP_IO: expected one of auto, batch, dgram, got "turbo"/,
      );
      process.env.FAULTLINE_UDP_IO = 'dgram';
      assert.equal(new UdpProxy(options).io, 'dgram');
    } finally {
      if (saved === undefined) delete process.env.FAULTLINE_UDP_IO;
      else process.env.FAULTLINE_UDP_IO = saved;
    }
  });
});

describe('UDP proxy: batched sockets let go of everything', () => {
  it('a closed socket is collected and its descriptor closed (no leak through the native callback)', (t) => {
    if (batchUnavailableReason() !== undefined)
      return t.skip(`batched I/O unavailable: ${batchUnavailableReason()}`);
    const child = fileURLToPath(new URL('./collect-child.js', import.meta.url));
    const result = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `child failed: ${result.stderr}`);
    const report = JSON.parse(result.stdout) as { count: number; collected: number; descriptorsLeft: number };
    assert.equal(report.descriptorsLeft, 0, 'no socket left open');
    // Collection is up to the garbage collector; all but a few (still on the stack) must go.
    assert.ok(report.collected >= report.count - 10, `collected ${report.collected} of ${report.count}`);
  });
});

describe('UDP proxy: batched I/O on a small MTU', () => {
  it('falls back from GSO to one datagram per message when the route refuses it, losing nothing', async (t) => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0)
      return t.skip('needs root on Linux (a network namespace)');
    const child = fileURLToPath(new URL('./small-mtu-child.js', import.meta.url));
    // unshare gives the child a namespace of its own, gone when it exits: nothing to clean up.
    const result = spawnSync(
      'unshare',
      ['--net', 'sh', '-c', `ip link set lo mtu 1500 up && exec "${process.execPath}" "${child}"`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(result.status, 0, `child failed: ${result.stderr}`);
    const report = JSON.parse(result.stdout) as {
      io: string;
      arrived: number[];
      counters: { forwarded: number };
    };
    assert.equal(report.io, 'batch');
    assert.deepEqual(
      report.arrived,
      Array.from({ length: 200 }, (_, i) => i),
      'every datagram, in order',
    );
  });
});
