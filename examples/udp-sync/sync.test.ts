// The udp-sync client and server over real loopback sockets, without faults. Fault tests: resilience.test.ts.
// Run with: npx tsc -p . && node --test dist/examples/udp-sync/sync.test.js
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { SyncClient, type SyncClientOptions } from './client.js';
import { runDemo } from './demo.js';
import { MAX_STATE_BYTES, type SyncMessage } from './protocol.js';
import { type ApplyEvent, SyncServer, type SyncServerOptions } from './server.js';
import { RawPeer, waitUntil } from './test-support.js';

const session = 'feedfacefeedfacefeedfacefeedface';

async function startServer(
  t: { after: (fn: () => Promise<void>) => void },
  options: SyncServerOptions = {},
  port = 0,
) {
  const server = new SyncServer(options);
  const address = await server.start({ host: '127.0.0.1', port });
  const applied: ApplyEvent[] = [];
  server.on('apply', (event) => applied.push(event));
  t.after(() => server.close());
  return { server, address, applied };
}

async function connectClient(
  t: { after: (fn: () => Promise<void>) => void },
  address: { address: string; port: number },
  options: SyncClientOptions = {},
) {
  const client = new SyncClient(options);
  t.after(() => client.close());
  await client.connect({ host: address.address, port: address.port });
  return client;
}

function sync(fields: Partial<SyncMessage> & Pick<SyncMessage, 'packet' | 'seq' | 'baseSeq'>): SyncMessage {
  return { type: 'sync', session, set: {}, del: [], ...fields };
}

test('a client syncs sets, updates and deletes; the server applies each version once, in order', async (t) => {
  const { server, address, applied } = await startServer(t);
  const client = await connectClient(t, address);
  client.set('a', 1);
  client.update({ b: { nested: [1, 2] }, c: 'three' });
  await client.whenSynced(2000);
  client.delete('a');
  client.set('c', null);
  await client.whenSynced(2000);
  assert.deepEqual(client.state, { b: { nested: [1, 2] }, c: null });
  assert.deepEqual(server.session(client.session)?.state, client.state);
  assert.equal(server.session(client.session)?.appliedSeq, client.seq);
  const seqs = applied.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    [...new Set(seqs)].sort((a, b) => a - b),
    'each version applied once, increasing',
  );
  assert.equal(server.sessions().length, 1);
});

test('the client copies values: mutating an object after set() changes nothing', async (t) => {
  const { server, address } = await startServer(t);
  const client = await connectClient(t, address);
  const value = { n: 1 };
  client.set('v', value);
  value.n = 2;
  await client.whenSynced(2000);
  assert.deepEqual(server.session(client.session)?.state, { v: { n: 1 } });
});

test('set refuses a state that would outgrow a datagram, and values that are not plain JSON', async (t) => {
  const { address } = await startServer(t);
  const client = await connectClient(t, address);
  client.set('small', 1);
  assert.throws(() => client.set('big', 'x'.repeat(MAX_STATE_BYTES)), RangeError);
  assert.throws(() => client.set('date', new Date() as never), TypeError);
  assert.throws(() => client.update({ ok: 1, nan: Number.NaN }), TypeError);
  assert.deepEqual(client.state, { small: 1 });
  assert.equal(client.seq, 1);
});

test('the server ignores stale and duplicate versions and applies a newer one whatever its base', async (t) => {
  const { server, address, applied } = await startServer(t);
  const peer = await RawPeer.open(address);
  t.after(() => peer.close());
  peer.send(sync({ packet: 1, seq: 1, baseSeq: 0, set: { x: 1 } }));
  await peer.replies(1);
  peer.send(sync({ packet: 2, seq: 3, baseSeq: 1, set: { x: 3 } })); // version 2 never arrived: fine
  peer.send(sync({ packet: 3, seq: 2, baseSeq: 1, set: { x: 2 } })); // late: superseded
  peer.send(sync({ packet: 4, seq: 3, baseSeq: 1, set: { x: 3 } })); // duplicate
  const replies = await peer.replies(4);
  assert.deepEqual(
    replies.map((m) => (m.type === 'ack' ? m.seq : m.type)),
    [1, 3, 3, 3],
  );
  assert.deepEqual(server.session(session)?.state, { x: 3 });
  assert.deepEqual(
    applied.map((e) => e.seq),
    [1, 3],
  );
  assert.equal(server.stats.stale, 1);
  assert.equal(server.stats.current, 1);
});

test('a diff lists every key changed since its base, so a revert over a lost ack lands right', async (t) => {
  const { server, address } = await startServer(t);
  const peer = await RawPeer.open(address);
  t.after(() => peer.close());
  peer.send(sync({ packet: 1, seq: 1, baseSeq: 0, set: { x: 1, y: 1 } }));
  peer.send(sync({ packet: 2, seq: 2, baseSeq: 1, set: { x: 2 }, del: ['y'] })); // its ack is "lost"
  // Version 3 sets x back to 1 and y again: still changes since base 1, so they are in the diff.
  peer.send(sync({ packet: 3, seq: 3, baseSeq: 1, set: { x: 1, y: 1 } }));
  await peer.replies(3);
  assert.deepEqual(server.session(session)?.state, { x: 1, y: 1 });
});

test('the server asks for the whole state when it does not hold the base', async (t) => {
  const { server, address } = await startServer(t);
  const peer = await RawPeer.open(address);
  t.after(() => peer.close());
  peer.send(sync({ packet: 1, seq: 5, baseSeq: 4, set: { x: 5 } })); // unknown session, not from empty
  assert.deepEqual((await peer.replies(1))[0], { type: 'reset', session });
  assert.equal(server.sessions().length, 0, 'no session is opened from a base the server never held');
  peer.send(sync({ packet: 2, seq: 5, baseSeq: 0, set: { x: 5, y: 0 } }));
  peer.send(sync({ packet: 3, seq: 7, baseSeq: 6, set: { x: 7 } })); // base newer than held
  const replies = await peer.replies(3);
  assert.deepEqual(replies.slice(1), [
    { type: 'ack', session, seq: 5 },
    { type: 'reset', session },
  ]);
  // A sync from empty replaces the state, so keys deleted meanwhile do not survive.
  peer.send(sync({ packet: 4, seq: 7, baseSeq: 0, set: { x: 7 } }));
  await peer.replies(4);
  assert.deepEqual(server.session(session)?.state, { x: 7 });
});

test('the server follows the newest datagram’s source, not a late one from the old address', async (t) => {
  const { server, address } = await startServer(t);
  const home = await RawPeer.open(address);
  const away = await RawPeer.open(address, '127.0.0.2');
  t.after(() => Promise.all([home.close(), away.close()]).then(() => {}));
  const roams: string[] = [];
  server.on('roam', (e) => roams.push(e.to));
  home.send(sync({ packet: 1, seq: 1, baseSeq: 0, set: { a: 1 } }));
  await home.replies(1);
  away.send(sync({ packet: 3, seq: 2, baseSeq: 1, set: { a: 2 } }));
  await away.replies(1);
  home.send(sync({ packet: 2, seq: 2, baseSeq: 1, set: { a: 2 } })); // late from the old address
  await away.replies(2); // its ack goes to the current address
  const held = server.session(session);
  assert.equal(held?.address, '127.0.0.2');
  assert.equal(held?.port, away.port);
  assert.deepEqual(roams, [`127.0.0.2:${away.port}`]);
  assert.equal(home.received.length, 1);
});

test('malformed datagrams get no reply and change nothing', async (t) => {
  const { server, address } = await startServer(t);
  const peer = await RawPeer.open(address);
  t.after(() => peer.close());
  peer.sendBytes(Buffer.from('garbage'));
  peer.send({ type: 'ack', session, seq: 1 }); // well-formed, but not for a server
  peer.send(sync({ packet: 1, seq: 0, baseSeq: 0 }));
  await peer.replies(1);
  assert.equal(server.stats.malformed, 2);
  assert.equal(peer.received.length, 1);
});

test('the server refuses a state larger than a datagram can carry', async (t) => {
  const { server, address } = await startServer(t);
  const peer = await RawPeer.open(address);
  t.after(() => peer.close());
  const half = 'x'.repeat(MAX_STATE_BYTES / 2);
  peer.send(sync({ packet: 1, seq: 1, baseSeq: 0, set: { a: half } }));
  await peer.replies(1);
  peer.send(sync({ packet: 2, seq: 2, baseSeq: 1, set: { b: half } }));
  await waitUntil(() => server.stats.refused === 1, 2000, 'the refusal');
  assert.deepEqual(server.session(session)?.state, { a: half });
});

test('heartbeats keep an idle session alive; a silent one expires', async (t) => {
  const { server, address } = await startServer(t, { sessionTimeoutMs: 400 });
  const client = await connectClient(t, address, { heartbeatIntervalMs: 100 });
  client.set('a', 1);
  await client.whenSynced(2000);
  const expired = once(server, 'expire');
  const sent = client.stats.sent;
  await waitUntil(() => client.stats.sent >= sent + 10, 5000, '10 heartbeats'); // 1 s, more than twice the timeout
  assert.equal(server.sessions().length, 1);
  assert.ok(client.connected);
  await client.close();
  const [info] = await expired;
  assert.equal(info.id, client.session);
  assert.equal(server.sessions().length, 0);
});

test('the client reports down and up, and resyncs its whole state with a restarted server', async (t) => {
  const first = await startServer(t);
  const client = await connectClient(t, first.address, { serverTimeoutMs: 300 });
  client.update({ a: 1, b: 2 });
  await client.whenSynced(2000);
  const down = once(client, 'down');
  await first.server.close();
  client.delete('a');
  client.set('c', 3);
  await down;
  assert.equal(client.connected, false);
  // A new server on the same port knows nothing: it resets the client, which sends everything from empty.
  const second = await startServer(t, {}, first.address.port);
  const up = once(client, 'up');
  await client.whenSynced(5000);
  await up;
  assert.ok(client.stats.resets >= 1);
  assert.deepEqual(second.server.session(client.session)?.state, { b: 2, c: 3 });
  assert.equal(second.applied[0]?.baseSeq, 0);
});

test('a client that moves to a new socket keeps its session', async (t) => {
  const { server, address } = await startServer(t);
  const client = await connectClient(t, address);
  client.set('where', 'home');
  await client.whenSynced(2000);
  const before = server.session(client.session);
  await client.rebind('127.0.0.3');
  client.set('where', 'away');
  await client.whenSynced(2000);
  const after = server.session(client.session);
  assert.equal(server.sessions().length, 1);
  assert.equal(after?.address, '127.0.0.3');
  assert.notEqual(after?.port, before?.port);
  assert.equal(after?.roams, 1);
  assert.deepEqual(after?.state, { where: 'away' });
});

test('many deletes while the server is away fall back to a full sync, and still converge', async (t) => {
  const first = await startServer(t);
  const client = await connectClient(t, first.address, { maxTombstones: 4 });
  const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
  client.update(Object.fromEntries(keys.map((k) => [k, 1])));
  await client.whenSynced(2000);
  await first.server.close();
  for (const key of keys.slice(0, 8)) client.delete(key);
  assert.equal(client.ackedSeq, 0, 'tombstones dropped: only a sync from empty is safe now');
  const second = await startServer(t, {}, first.address.port);
  await client.whenSynced(5000);
  assert.deepEqual(second.server.session(client.session)?.state, { k8: 1, k9: 1 });
});

test('whenSynced rejects after its timeout when no server answers, even with nothing to send', async (t) => {
  const { server, address } = await startServer(t);
  await server.close();
  const client = await connectClient(t, address);
  assert.equal(client.synced, false, 'no server has acknowledged even the empty version');
  await assert.rejects(client.whenSynced(200), /not synced within 200 ms/);
  client.set('a', 1);
  await assert.rejects(client.whenSynced(200), /not synced within 200 ms/);
});

test('the demo syncs and prints', async () => {
  const lines: string[] = [];
  const held = await runDemo((line) => lines.push(line));
  assert.deepEqual(held, { mode: 'insert', cursor: { line: 3, column: 7 } });
  assert.ok(lines.some((line) => line.includes('"base":3')));
});
