import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFaultlineError } from '../../../src/core/errors.js';
import { Random } from '../../../src/core/random.js';
import type { DatagramSocket, Endpoint } from '../../../src/proxy/udp/datagram-socket.js';
import { UdpProxy } from '../../../src/proxy/udp/udp-proxy.js';
import { portOf, settle, stamped, startSink, startUdpProxy, udpSocket, waitFor } from './helpers.js';

/**
 * A proxy whose sessions' first upstream opens wait until `release()`, then bind a port another socket
 * holds, so the kernel refuses them (EADDRINUSE): a real failure, at a moment the test chooses.
 */
class HeldFirstOpen extends UdpProxy {
  takenPort = 0;
  release: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  protected override openUpstream(
    host: string,
    port: number,
    upstream: Endpoint,
    field: string,
  ): Promise<DatagramSocket> {
    if (field !== 'upstream') return super.openUpstream(host, port, upstream, field);
    return this.gate.then(() => super.openUpstream(host, this.takenPort, upstream, field));
  }
}

describe('UDP proxy: sessions and roaming', () => {
  it('tracks a session per client address, and expires idle ones', async (t) => {
    const sink = await startSink(t, { echo: true });
    const proxy = await startUdpProxy(t, sink.port, { sessionIdleMs: 200 });
    const a = await udpSocket(t);
    const b = await udpSocket(t);
    const replies = { a: 0, b: 0 };
    a.on('message', () => replies.a++);
    b.on('message', () => replies.b++);
    a.send(stamped(0), proxy.port, '127.0.0.1');
    b.send(stamped(1), proxy.port, '127.0.0.1');
    b.send(stamped(2), proxy.port, '127.0.0.1');
    await waitFor(() => replies.a === 1 && replies.b === 2, 'replies to both clients');
    const sessions = proxy.sessions().sort((x, y) => x.datagramsUp - y.datagramsUp);
    assert.deepEqual(
      sessions.map((s) => [s.client, s.datagramsUp, s.datagramsDown]),
      [
        [`127.0.0.1:${portOf(a)}`, 1, 1],
        [`127.0.0.1:${portOf(b)}`, 2, 2],
      ],
    );
    assert.equal(sink.sources.size, 2, 'the server sees one address per client');
    await waitFor(() => proxy.sessions().length === 0, 'idle sessions to expire', 2000);
    a.send(stamped(3), proxy.port, '127.0.0.1');
    await waitFor(() => replies.a === 2, 'a reply through a fresh session');
    assert.equal(sink.sources.size, 3, 'a new session has a new upstream socket');
    assert.deepEqual(proxy.counters().sessions, { opened: 3, failed: 0, expired: 2, evicted: 0 });
  });

  it('holds at most maxSessions, evicting the least recently active', async (t) => {
    const sink = await startSink(t);
    const proxy = await startUdpProxy(t, sink.port, { maxSessions: 3 });
    const clients = [];
    for (let i = 0; i < 5; i++) {
      const client = await udpSocket(t);
      clients.push(client);
      client.send(stamped(i), proxy.port, '127.0.0.1');
      await waitFor(() => proxy.counters().upstream.received === i + 1, `client ${i}`);
    }
    assert.deepEqual(
      proxy
        .sessions()
        .map((s) => s.client)
        .sort(),
      clients
        .slice(2)
        .map((c) => `127.0.0.1:${portOf(c)}`)
        .sort(),
    );
    const attempts = (): number => proxy.counters().sessions.opened + proxy.counters().sessions.failed;
    await waitFor(() => attempts() === 5, 'one attempt to open a session per client');
    assert.equal(proxy.counters().sessions.evicted, 2);
  });

  it('roam(): the server sees the new address and replies still reach the client', async (t) => {
    const sink = await startSink(t, { echo: true });
    const proxy = await startUdpProxy(t, sink.port);
    const client = await udpSocket(t);
    const replies: number[] = [];
    client.on('message', (data) => replies.push(data.readUInt32BE(0)));
    const exchange = async (seq: number): Promise<string> => {
      client.send(stamped(seq), proxy.port, '127.0.0.1');
      await waitFor(() => replies.includes(seq), `the reply to ${seq}`);
      return sink.arrivals.find((a) => a.seq === seq)?.from ?? '';
    };
    const first = await exchange(0);
    assert.equal(proxy.sessions()[0]?.upstreamLocal, first);
    const [moved] = await proxy.roam();
    assert.ok(moved !== undefined && moved.upstreamLocal !== first);
    assert.equal(await exchange(1), moved.upstreamLocal);
    const [loopback] = await proxy.roam({ client: `127.0.0.1:${portOf(client)}`, address: '127.0.0.2' });
    assert.match(loopback?.upstreamLocal ?? '', /^127\.0\.0\.2:\d+$/);
    assert.equal(await exchange(2), loopback?.upstreamLocal);
    // A taken port fails cleanly and leaves the session where it was.
    const squatter = await udpSocket(t, '127.0.0.3');
    await assert.rejects(proxy.roam({ address: '127.0.0.3', port: portOf(squatter) }), (error: unknown) =>
      isFaultlineError(error, 'FL_ERR_ADDRESS_IN_USE'),
    );
    assert.equal(proxy.sessions()[0]?.upstreamLocal, loopback?.upstreamLocal);
    assert.equal(await exchange(3), loopback?.upstreamLocal);
    assert.equal(proxy.sessions().length, 1, 'still one session: the client did not change');
  });

  it('roam() while the first socket is still opening: a late failure of that open leaves the session alone', async (t) => {
    const sink = await startSink(t, { echo: true });
    const squatter = await udpSocket(t);
    const proxy = new HeldFirstOpen({
      name: 'udp-test',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${sink.port}`,
      random: new Random(1),
    });
    proxy.takenPort = portOf(squatter);
    await proxy.start();
    t.after(() => {
      proxy.release();
      return proxy.stop();
    });
    const client = await udpSocket(t);
    const replies: number[] = [];
    client.on('message', (data) => replies.push(data.readUInt32BE(0)));
    client.send(stamped(0), proxy.port, '127.0.0.1');
    await waitFor(() => proxy.queued().upstream === 1, 'the datagram waiting for the session socket');
    const [moved] = await proxy.roam();
    assert.ok(moved !== undefined, 'the session was roamed');
    await waitFor(() => replies.includes(0), 'the reply through the roamed socket');
    proxy.release();
    const attempts = (): number => proxy.counters().sessions.opened + proxy.counters().sessions.failed;
    await waitFor(() => attempts() === 1, 'the first open to end');
    const { upstream, sessions } = proxy.counters();
    assert.deepEqual(
      sessions,
      { opened: 1, failed: 0, expired: 0, evicted: 0 },
      'the session has its socket',
    );
    assert.equal(proxy.lastSessionError, undefined, 'no session failed');
    assert.deepEqual(
      proxy.sessions().map((s) => s.upstreamLocal),
      [moved.upstreamLocal],
      'the session and its roamed socket are kept',
    );
    assert.equal(upstream.forwarded, 1);
    assert.equal(upstream.dropped, 0);
    client.send(stamped(1), proxy.port, '127.0.0.1');
    await waitFor(() => replies.includes(1), 'a reply through the same session');
    assert.equal(sink.arrivals.find((a) => a.seq === 1)?.from, moved.upstreamLocal);
    assert.equal(proxy.counters().sessions.opened, 1, 'no new session was needed');
  });

  it('roamEvery() cycles through addresses while traffic flows', async (t) => {
    const sink = await startSink(t, { echo: true });
    const proxy = await startUdpProxy(t, sink.port);
    const client = await udpSocket(t);
    let replies = 0;
    client.on('message', () => replies++);
    const roaming = proxy.roamEvery(100, { addresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    const sent = 120;
    for (let seq = 0; seq < sent; seq++) {
      client.send(stamped(seq), proxy.port, '127.0.0.1');
      await sleep(5);
    }
    roaming.stop();
    await settle(() => replies);
    const hosts = new Set(sink.arrivals.map((a) => a.from.split(':')[0]));
    assert.ok(hosts.has('127.0.0.2') && hosts.has('127.0.0.3') && hosts.has('127.0.0.4'), [...hosts].join());
    assert.ok(sink.sources.size >= 4, `sources: ${[...sink.sources].join(', ')}`);
    // A reply already on its way to an address the client just left is lost, as for a real move.
    assert.ok(replies >= sent - 10, `${replies} of ${sent} replies`);
    const settled = proxy.sessions()[0]?.upstreamLocal;
    await sleep(250);
    assert.equal(proxy.sessions()[0]?.upstreamLocal, settled, 'stop() ends the schedule');
  });

  it('stop() leaves no socket or timer behind: the process exits by itself', async () => {
    const proxyModule = new URL('../../../src/proxy/udp/udp-proxy.js', import.meta.url).href;
    const script = `
      import { createSocket } from 'node:dgram';
      import { UdpProxy } from ${JSON.stringify(proxyModule)};
      const server = createSocket('udp4');
      server.on('message', (m, r) => server.send(m, r.port, r.address));
      await new Promise((r) => server.bind(0, '127.0.0.1', r));
      const proxy = new UdpProxy({ name: 'exit', listen: '127.0.0.1:0', upstream: '127.0.0.1:' + server.address().port });
      await proxy.start();
      proxy.impair('both', { delay: { ms: 30000 }, reorder: { probability: 0.5 }, rate: { bytesPerSec: 10 } });
      proxy.roamEvery(50);
      const client = createSocket('udp4');
      for (let i = 0; i < 20; i++) client.send(Buffer.alloc(100), proxy.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      await proxy.stop();
      client.close();
      server.close();
      console.log('stopped');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    assert.equal(signal, null, `the process had to be killed: something kept it alive\n${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /stopped/);
  });
});
