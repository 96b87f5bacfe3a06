import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ToxiproxyClient } from '../../src/api/client.js';
import { ProxyHub, type ToxiproxyApi } from '../../src/api/hub.js';
import { startApiServer } from '../../src/api/server.js';
import { FaultlineError } from '../../src/core/errors.js';
import { ToxiproxyClient as PublicClient, startApiServer as publicStart } from '../../src/public/api.js';
import { busyPort, Peer, startApi, startEcho, testSeed } from './helpers.js';

test('the public entry point exports the server and the client', () => {
  assert.equal(PublicClient, ToxiproxyClient);
  assert.equal(publicStart, startApiServer);
});

test('ToxiproxyClient drives every endpoint', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const client = new ToxiproxyClient(`${api.server.url}/`);
  assert.equal(await client.version(), '2.12.0');
  assert.deepEqual(await client.proxies(), {});

  const created = await client.createProxy({ name: 'db', listen: '127.0.0.1:0', upstream: echo.address });
  assert.equal(created.enabled, true);
  assert.match(created.listen, /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(await client.getProxy('db'), created);
  assert.deepEqual(await client.proxies(), { db: created });

  const toxic = await client.addToxic('db', { type: 'latency', attributes: { latency: 5 } });
  assert.deepEqual(toxic, {
    attributes: { latency: 5, jitter: 0 },
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
  });
  assert.deepEqual(await client.toxics('db'), [toxic]);
  assert.deepEqual(await client.getToxic('db', 'latency_downstream'), toxic);
  const updated = await client.updateToxic('db', 'latency_downstream', {
    attributes: { jitter: 2 },
    toxicity: 0.5,
  });
  assert.deepEqual(updated, { ...toxic, attributes: { latency: 5, jitter: 2 }, toxicity: 0.5 });
  await client.removeToxic('db', 'latency_downstream');
  assert.deepEqual(await client.toxics('db'), []);

  const disabled = await client.updateProxy('db', { enabled: false });
  assert.equal(disabled.enabled, false);
  await client.reset();
  assert.equal((await client.getProxy('db')).enabled, true);

  const populated = await client.populate([
    { name: 'db', listen: created.listen, upstream: echo.address },
    { name: 'odd name?#%', listen: '127.0.0.1:0', upstream: echo.address, toxics: [{ type: 'noop' }] },
  ]);
  assert.deepEqual(
    populated.map((proxy) => proxy.name),
    ['db', 'odd name?#%'],
  );
  assert.deepEqual(await client.populate([]), []);
  await client.deleteProxy('db');
  assert.deepEqual(Object.keys(await client.proxies()), ['odd name?#%']);
  // Names that need encoding in a path round-trip.
  assert.equal((await client.getToxic('odd name?#%', 'noop_downstream')).type, 'noop');
  await client.deleteProxy('odd name?#%');
  assert.deepEqual(await client.proxies(), {});
});

test('ToxiproxyClient turns error replies back into FaultlineErrors with the server’s message', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const taken = await busyPort(t);
  const client = new ToxiproxyClient(api.server.url);
  await client.createProxy({ name: 'db', listen: '127.0.0.1:0', upstream: echo.address });

  const expect = async (
    promise: Promise<unknown>,
    code: string,
    message: string | RegExp,
    status: number,
  ) => {
    const error = await promise.then(
      () => assert.fail('expected a rejection'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof FaultlineError, String(error));
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.equal(error.details.status, status);
    return error;
  };
  const bad = await expect(
    client.addToxic('db', { type: 'latency', attributes: { latency: -1 } }),
    'FL_ERR_INVALID_ARGUMENT',
    'attributes.latency: expected a number >= 0, got -1',
    400,
  );
  assert.equal(bad.details.field, 'attributes.latency');
  await expect(
    client.addToxic('db', { type: 'down' }),
    'FL_ERR_UNKNOWN_TOXIC',
    /unknown toxic type "down"/,
    400,
  );
  await expect(client.getProxy('nope'), 'FL_ERR_NOT_FOUND', 'proxy not found: "nope"', 404);
  await expect(
    client.getToxic('db', 'nope'),
    'FL_ERR_NOT_FOUND',
    'toxic not found: "nope" on proxy "db"',
    404,
  );
  await expect(
    client.createProxy({ name: 'db', listen: '127.0.0.1:0', upstream: echo.address }),
    'FL_ERR_ALREADY_EXISTS',
    'proxy already exists: "db"',
    409,
  );
  await expect(
    client.createProxy({ name: 'x', listen: `127.0.0.1:${taken}`, upstream: echo.address }),
    'FL_ERR_ADDRESS_IN_USE',
    `listen tcp 127.0.0.1:${taken}: bind: address already in use`,
    500,
  );
});

test('ToxiproxyClient reports a server that is not there as FL_ERR_HTTP with the cause', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new ToxiproxyClient(`http://127.0.0.1:${address.port}`);
  const error = await client.proxies().then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof FaultlineError);
  assert.equal(error.code, 'FL_ERR_HTTP');
  assert.match(error.message, /ECONNREFUSED/);
  assert.ok(error.cause instanceof Error);
});

test("ToxiproxyClient takes the field from the body only, not from a Toxiproxy message's prefix", async (t) => {
  // Toxiproxy's own errors carry no field; a Go decoding error starts with "json: ".
  const server = createHttpServer((_req, res) => {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({ error: 'json: cannot unmarshal string into Go value of type int64', status: 400 }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const error = await new ToxiproxyClient(`http://127.0.0.1:${address.port}`).proxies().then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof FaultlineError);
  assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
  assert.equal(error.details.field, undefined);
});

/** One scenario, every step's result or error, with ports and listen addresses made comparable. */
async function scenario(api: ToxiproxyApi, upstream: string, taken: number): Promise<unknown[]> {
  const steps: Array<() => Promise<unknown>> = [
    () => api.version(),
    () => api.createProxy({ name: 'a', listen: '127.0.0.1:0', upstream }),
    () => api.createProxy({ name: 'a', listen: '127.0.0.1:0', upstream }),
    () => api.createProxy({ name: 'b', listen: `127.0.0.1:${taken}`, upstream }),
    () => api.createProxy({ name: '', listen: '127.0.0.1:0', upstream }),
    () => api.addToxic('a', { type: 'latency', attributes: { latency: 10 } }),
    () => api.addToxic('a', { type: 'latency', attributes: { latency: 10 } }),
    () => api.addToxic('a', { type: 'bandwidth', stream: 'both', toxicity: 0.5, attributes: { rate: 100 } }),
    () => api.addToxic('a', { type: 'slicer', toxicity: 1.5 }),
    () => api.addToxic('a', { type: 'nope' }),
    () => api.addToxic('nope', { type: 'noop' }),
    () => api.toxics('a'),
    () => api.updateToxic('a', 'latency_downstream', { attributes: { jitter: 3 } }),
    () => api.updateToxic('a', 'latency_downstream', { attributes: { bogus: 3 } }),
    () => api.updateToxic('a', 'missing', { toxicity: 0 }),
    () => api.getToxic('a', 'bandwidth_both'),
    () => api.removeToxic('a', 'bandwidth_both'),
    () => api.removeToxic('a', 'bandwidth_both'),
    () => api.updateProxy('a', { enabled: false }),
    () => api.updateProxy('nope', { enabled: false }),
    () =>
      api.populate([
        { name: 'a', listen: '127.0.0.1:0', upstream },
        { name: 'c', listen: '127.0.0.1:0', upstream: 'nowhere' },
      ]),
    () => api.populate([{ name: 'c', listen: '127.0.0.1:0', upstream, toxics: [{ type: 'noop' }] }]),
    () => api.reset(),
    () => api.proxies(),
    () => api.deleteProxy('c'),
    () => api.deleteProxy('c'),
    () => api.getProxy('a'),
  ];
  const results: unknown[] = [];
  for (const step of steps) {
    try {
      results.push({ ok: await step() });
    } catch (error) {
      assert.ok(error instanceof FaultlineError, String(error));
      results.push({ code: error.code, message: error.message });
    }
  }
  return JSON.parse(
    JSON.stringify(results).replace(/127\.0\.0\.1:(?!0")\d+/g, (match) => {
      return match === `127.0.0.1:${taken}` ? match : '127.0.0.1:PORT';
    }),
  ) as unknown[];
}

test('ToxiproxyClient over HTTP and ProxyHub in process give the same results and errors', async (t) => {
  const echo = await startEcho(t);
  const taken = await busyPort(t);
  const local = new ProxyHub({ seed: testSeed });
  t.after(() => local.close());
  const api = await startApi(t);
  const direct = await scenario(local, echo.address, taken);
  const remote = await scenario(new ToxiproxyClient(api.server.url), echo.address, taken);
  assert.deepEqual(remote, direct);
  // Spot-check that the scenario really exercised errors and successes.
  assert.deepEqual(direct[2], { code: 'FL_ERR_ALREADY_EXISTS', message: 'proxy already exists: "a"' });
  assert.equal((direct[3] as { code: string }).code, 'FL_ERR_ADDRESS_IN_USE');
  assert.equal((direct[9] as { code: string }).code, 'FL_ERR_UNKNOWN_TOXIC');

  // Both hubs really proxy: a client through each reaches the echo server.
  for (const hub of [local, api.hub]) {
    const peer = await Peer.connect(t, hub.proxy('a').port);
    await peer.roundTrip('same');
  }
});
