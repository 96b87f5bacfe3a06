import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import {
  type Api,
  busyPort,
  listeningServers,
  Peer,
  startApi,
  startEcho,
  tryConnect,
  waitFor,
} from './helpers.js';

interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: unknown[];
}

async function create(api: Api, body: object): Promise<ProxyJson> {
  const reply = await api.call('POST', '/proxies', { body });
  assert.equal(reply.status, 201, reply.text);
  return reply.json as ProxyJson;
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

test('a listen port in use gives 500 with Go’s message, and nothing is created or left listening', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const port = await busyPort(t);
  const servers = await listeningServers();
  const reply = await api.call('POST', '/proxies', {
    body: { name: 'pg', listen: `127.0.0.1:${port}`, upstream: echo.address },
  });
  assert.equal(reply.status, 500);
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.equal(
    reply.text,
    `{"error":"listen tcp 127.0.0.1:${port}: bind: address already in use","status":500,"code":"FL_ERR_ADDRESS_IN_USE","field":"listen"}`,
  );
  assert.deepEqual((await api.call('GET', '/proxies')).json, {});
  assert.equal(await listeningServers(), servers);
  // The name is free for a later create.
  await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
});

test('disabling closes live connections and refuses new ones; enabling listens on the same port', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  const port = portOf(proxy.listen);
  const client = await Peer.connect(t, port);
  await client.roundTrip('hello');

  const disabled = await api.call('PATCH', '/proxies/pg', { body: { enabled: false } });
  assert.equal(disabled.status, 200);
  assert.equal((disabled.json as ProxyJson).enabled, false);
  assert.equal((disabled.json as ProxyJson).listen, proxy.listen, 'listen keeps the bound port');
  await client.closed;
  assert.equal(await tryConnect(port), 'ECONNREFUSED');

  const enabled = await api.call('POST', '/proxies/pg', { body: { enabled: true } });
  assert.equal(enabled.status, 200);
  assert.deepEqual(enabled.json, { ...proxy, enabled: true });
  const again = await Peer.connect(t, port);
  await again.roundTrip('back again');
});

test('toxics survive disable and enable; reset enables and removes them, releasing held data', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  const port = portOf(proxy.listen);
  // faultline's timeout holds data (Toxiproxy ≥ 2.2 drops it) and hands it over when removed.
  const toxic = await api.call('POST', '/proxies/pg/toxics', {
    body: { type: 'timeout', attributes: { timeout: 0 } },
  });
  assert.equal(toxic.status, 200);
  const client = await Peer.connect(t, port);
  client.socket.write('held');
  await waitFor('the echo to reach the proxy', () => api.hub.proxy('pg').stats.downstream.bytesIn === 4);
  assert.equal(api.hub.proxy('pg').stats.downstream.bytesOut, 0, 'the timeout toxic let data through');

  assert.equal((await api.call('POST', '/reset')).status, 204);
  assert.equal((await client.receive(4)).toString(), 'held');
  assert.deepEqual(((await api.call('GET', '/proxies/pg')).json as ProxyJson).toxics, []);

  await api.call('POST', '/proxies/pg/toxics', { body: { type: 'latency', attributes: { latency: 1 } } });
  await api.call('PATCH', '/proxies/pg', { body: { enabled: false } });
  await client.closed;
  const off = (await api.call('GET', '/proxies/pg')).json as ProxyJson;
  assert.equal(off.enabled, false);
  assert.equal(off.toxics.length, 1, 'disabling keeps toxics');

  assert.equal((await api.call('POST', '/reset')).status, 204);
  assert.deepEqual((await api.call('GET', '/proxies/pg')).json, { ...proxy, enabled: true, toxics: [] });
  const again = await Peer.connect(t, port);
  await again.roundTrip('after reset');
});

test('deleting a proxy closes its connections and frees its port', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  const client = await Peer.connect(t, portOf(proxy.listen));
  await client.roundTrip('x');
  assert.equal((await api.call('DELETE', '/proxies/pg')).status, 204);
  await client.closed;
  assert.equal(await tryConnect(portOf(proxy.listen)), 'ECONNREFUSED');
});

test('moving a proxy to a taken port gives 500 and leaves it where it was, connections included', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const taken = await busyPort(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  const client = await Peer.connect(t, portOf(proxy.listen));
  await client.roundTrip('before');
  const reply = await api.call('PATCH', '/proxies/pg', { body: { listen: `127.0.0.1:${taken}` } });
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.json, {
    error: `listen tcp 127.0.0.1:${taken}: bind: address already in use`,
    status: 500,
    code: 'FL_ERR_ADDRESS_IN_USE',
    field: 'listen',
  });
  assert.deepEqual((await api.call('GET', '/proxies/pg')).json, proxy);
  await client.roundTrip('after');
});

test('changing upstream drops live connections; new ones go to the new upstream', async (t) => {
  const api = await startApi(t);
  const first = await startEcho(t);
  const second = await startEcho(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: first.address });
  const client = await Peer.connect(t, portOf(proxy.listen));
  await client.roundTrip('one');
  const reply = await api.call('PATCH', '/proxies/pg', { body: { upstream: second.address } });
  assert.equal(reply.status, 200);
  await client.closed;
  const next = await Peer.connect(t, portOf(proxy.listen));
  await next.roundTrip('two');
  assert.equal(second.accepted, 1);
  assert.equal(first.accepted, 1);
});

test('a disabled proxy can be moved and enabled in one request', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address, enabled: false });
  const reply = await api.call('PATCH', '/proxies/pg', { body: { listen: 'localhost:0', enabled: true } });
  assert.equal(reply.status, 200, reply.text);
  const moved = reply.json as ProxyJson;
  assert.equal(moved.enabled, true);
  const client = await Peer.connect(t, portOf(moved.listen));
  await client.roundTrip('moved');

  // And a failed bind leaves it disabled where it was.
  const taken = await busyPort(t);
  await api.call('PATCH', '/proxies/pg', { body: { enabled: false } });
  const before = (await api.call('GET', '/proxies/pg')).json;
  const refused = await api.call('PATCH', '/proxies/pg', {
    body: { listen: `127.0.0.1:${taken}`, enabled: true },
  });
  assert.equal(refused.status, 500);
  assert.deepEqual((await api.call('GET', '/proxies/pg')).json, before);
});

test('reset that cannot re-bind a port gives 500 and changes nothing', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const a = await create(api, { name: 'a', listen: '127.0.0.1:0', upstream: echo.address });
  const b = await create(api, { name: 'b', listen: '127.0.0.1:0', upstream: echo.address });
  await api.call('POST', '/proxies/a/toxics', { body: { type: 'latency' } });
  await api.call('PATCH', '/proxies/a', { body: { enabled: false } });
  await api.call('PATCH', '/proxies/b', { body: { enabled: false } });
  // Someone else takes b's port while it is disabled.
  const squatter = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(portOf(b.listen), '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const before = (await api.call('GET', '/proxies')).json;

  const reply = await api.call('POST', '/reset');
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.json, {
    error: `listen tcp ${b.listen}: bind: address already in use`,
    status: 500,
    code: 'FL_ERR_ADDRESS_IN_USE',
    field: 'listen',
  });
  assert.deepEqual((await api.call('GET', '/proxies')).json, before);
  assert.equal(await tryConnect(portOf(a.listen)), 'ECONNREFUSED');
});

test('regression: a PATCH refused with 500 (port taken on enable) does not change upstream or anything else', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  await api.call('PATCH', '/proxies/pg', { body: { enabled: false } });
  // Someone else takes the port while the proxy is disabled.
  const squatter = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(portOf(proxy.listen), '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const before = (await api.call('GET', '/proxies/pg')).json;
  const servers = await listeningServers();

  for (const body of [
    { upstream: other.address, enabled: true },
    { enabled: true, upstream: other.address },
    { upstream: other.address, listen: proxy.listen, enabled: true },
  ]) {
    const reply = await api.call('PATCH', '/proxies/pg', { body });
    assert.equal(reply.status, 500, reply.text);
    assert.equal((reply.json as { code: string }).code, 'FL_ERR_ADDRESS_IN_USE');
    assert.deepEqual((await api.call('GET', '/proxies/pg')).json, before, JSON.stringify(body));
    assert.equal(await listeningServers(), servers);
  }
});

test('regression: a PATCH that moves and re-targets an enabled proxy onto a taken port keeps its connections', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const taken = await busyPort(t);
  const proxy = await create(api, { name: 'pg', listen: '127.0.0.1:0', upstream: echo.address });
  const client = await Peer.connect(t, portOf(proxy.listen));
  await client.roundTrip('before');
  const reply = await api.call('PATCH', '/proxies/pg', {
    body: { upstream: other.address, listen: `127.0.0.1:${taken}` },
  });
  assert.equal(reply.status, 500, reply.text);
  assert.deepEqual((await api.call('GET', '/proxies/pg')).json, proxy);
  await client.roundTrip('after');
  assert.equal(other.accepted, 0);
});
