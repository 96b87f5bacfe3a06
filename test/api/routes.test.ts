import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { startApiServer } from '../../src/api/server.js';
import { type Api, Peer, type Reply, startApi, startEcho, tryConnect } from './helpers.js';

const json = 'application/json';

/** An error reply: Toxiproxy's `{error, status}`, then faultline's stable `code` and the `field` it names. */
function assertError(reply: Reply, status: number, message: string | RegExp, field?: string): void {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.headers['content-type'], json);
  const body = reply.json as { error: string; status: number; code: string; field?: string };
  assert.deepEqual(Object.keys(body), ['error', 'status', 'code', 'field']);
  assert.equal(body.status, status);
  assert.match(body.code, /^FL_ERR_[A-Z_]+$/);
  assert.ok(typeof body.field === 'string' && body.field !== '', reply.text);
  if (field !== undefined) assert.equal(body.field, field);
  if (typeof message === 'string') assert.equal(body.error, message);
  else assert.match(body.error, message);
}

/** Runs a request that must be refused, and checks it left every proxy and toxic as it was. */
async function refused(
  api: Api,
  method: string,
  path: string,
  body: string | object | undefined,
): Promise<Reply> {
  const before = (await api.call('GET', '/proxies')).json;
  const reply = await api.call(method, path, body === undefined ? {} : { body });
  assert.deepEqual((await api.call('GET', '/proxies')).json, before, `${method} ${path} changed the state`);
  return reply;
}

async function withProxy(
  api: Api,
  upstream: string,
  name = 'redis',
): Promise<{ name: string; listen: string }> {
  const reply = await api.call('POST', '/proxies', { body: { name, listen: '127.0.0.1:0', upstream } });
  assert.equal(reply.status, 201, reply.text);
  return reply.json as { name: string; listen: string };
}

test('proxies: create 201, list keyed by name in name order, show 200, delete 204', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  assert.deepEqual((await api.call('GET', '/proxies')).json, {});

  const created = await api.call('POST', '/proxies', {
    body: { name: 'zeta', listen: 'localhost:0', upstream: echo.address },
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers['content-type'], json);
  const zeta = created.json as { listen: string };
  assert.match(zeta.listen, /^127\.0\.0\.1:\d+$/, 'listen is normalised to the bound address');
  assert.ok(!zeta.listen.endsWith(':0'));
  assert.equal(
    created.text,
    `{"name":"zeta","listen":"${zeta.listen}","upstream":"${echo.address}","enabled":true,"toxics":[]}`,
  );
  await withProxy(api, echo.address, 'alpha');

  const list = await api.call('GET', '/proxies');
  assert.equal(list.status, 200);
  assert.deepEqual(Object.keys(list.json as object), ['alpha', 'zeta']);

  const show = await api.call('GET', '/proxies/zeta');
  assert.equal(show.status, 200);
  assert.deepEqual(show.json, created.json);

  const disabled = await api.call('POST', '/proxies', {
    body: { name: 'off', listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
  });
  assert.equal(disabled.status, 201);
  assert.equal((disabled.json as { enabled: boolean }).enabled, false);

  const deleted = await api.call('DELETE', '/proxies/zeta');
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, '');
  assert.deepEqual(Object.keys((await api.call('GET', '/proxies')).json as object), ['alpha', 'off']);
  assertError(await api.call('DELETE', '/proxies/zeta'), 404, 'proxy not found: "zeta"');
});

test('proxies: every refused create leaves nothing behind, with the status Toxiproxy gives', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address);

  assertError(
    await refused(api, 'POST', '/proxies', '{"name": bad}'),
    400,
    'bad request body: expected a value, got "b" at position 9',
  );
  assertError(
    await refused(api, 'POST', '/proxies', '{"name":"x",'),
    400,
    'bad request body: expected a member name in quotes, got end of body at position 12',
  );
  assertError(
    await refused(api, 'POST', '/proxies', ''),
    400,
    /^bad request body: empty body; expected a JSON object/,
  );
  assertError(await refused(api, 'POST', '/proxies', '[]'), 400, /expected an object, got an array/);
  assertError(
    await refused(api, 'POST', '/proxies', '['.repeat(100_000)),
    400,
    'bad request body: nesting deeper than 32 levels at position 32',
  );
  assertError(
    await refused(api, 'POST', '/proxies', { listen: '127.0.0.1:0', upstream: echo.address }),
    400,
    'missing required field: name',
  );
  assertError(
    await refused(api, 'POST', '/proxies', { name: 'x', listen: '127.0.0.1:0' }),
    400,
    'missing required field: upstream',
  );
  assertError(
    await refused(api, 'POST', '/proxies', { name: 'x', listen: 'nowhere', upstream: echo.address }),
    400,
    /listen: expected "host:port"/,
  );
  assertError(
    await refused(api, 'POST', '/proxies', {
      name: 'x',
      listen: '127.0.0.1:0',
      upstream: echo.address,
      enabled: 'yes',
    }),
    400,
    /enabled: expected true or false, got "yes"/,
  );
  assertError(
    await refused(api, 'POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream: echo.address }),
    409,
    'proxy already exists: "redis"',
  );
});

test('proxies: names are URL-decoded in paths', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address, 'my db:primary');
  const show = await api.call('GET', `/proxies/${encodeURIComponent('my db:primary')}`);
  assert.equal(show.status, 200);
  assert.equal((show.json as { name: string }).name, 'my db:primary');
  const added = await api.call('POST', `/proxies/my%20db%3Aprimary/toxics`, {
    body: { name: 'slow down', type: 'latency' },
  });
  assert.equal(added.status, 200);
  assert.equal((await api.call('GET', '/proxies/my%20db%3Aprimary/toxics/slow%20down')).status, 200);
  assertError(await api.call('GET', '/proxies/%E0%A4%A'), 400, /invalid percent-encoding/);
});

test('toxics: create 200 with defaults, list, show, update merges, delete 204', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address);
  assert.deepEqual((await api.call('GET', '/proxies/redis/toxics')).json, []);

  const created = await api.call('POST', '/proxies/redis/toxics', {
    body: { type: 'latency', attributes: { latency: 100, jitter: 10 } },
  });
  assert.equal(created.status, 200);
  assert.equal(
    created.text,
    '{"attributes":{"latency":100,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}',
  );
  const up = await api.call('POST', '/proxies/redis/toxics', {
    body: { name: 'cut', type: 'limit_data', stream: 'upstream', toxicity: 0.5, attributes: { bytes: 10 } },
  });
  assert.equal(up.status, 200);
  assert.deepEqual(up.json, {
    attributes: { bytes: 10 },
    name: 'cut',
    type: 'limit_data',
    stream: 'upstream',
    toxicity: 0.5,
  });
  const noop = await api.call('POST', '/proxies/redis/toxics', { body: { type: 'noop', stream: 'both' } });
  assert.deepEqual(noop.json, {
    attributes: {},
    name: 'noop_both',
    type: 'noop',
    stream: 'both',
    toxicity: 1,
  });

  const list = await api.call('GET', '/proxies/redis/toxics');
  assert.equal(list.status, 200);
  assert.deepEqual(
    (list.json as Array<{ name: string }>).map((toxic) => toxic.name),
    ['latency_downstream', 'cut', 'noop_both'],
  );
  assert.deepEqual((await api.call('GET', '/proxies/redis/toxics/cut')).json, up.json);
  const proxy = (await api.call('GET', '/proxies/redis')).json as { toxics: unknown[] };
  assert.equal(proxy.toxics.length, 3);

  // A partial update keeps what it does not name (Toxiproxy's TestUpdateToxics).
  const patched = await api.call('PATCH', '/proxies/redis/toxics/latency_downstream', {
    body: { attributes: { latency: 1000 } },
  });
  assert.equal(patched.status, 200);
  assert.deepEqual((patched.json as { attributes: object }).attributes, { latency: 1000, jitter: 10 });
  const posted = await api.call('POST', '/proxies/redis/toxics/latency_downstream', {
    body: { toxicity: 0.25 },
  });
  assert.equal(posted.status, 200);
  assert.deepEqual(posted.json, {
    attributes: { latency: 1000, jitter: 10 },
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.25,
  });
  // The node client sends the whole toxic back; same name, type and stream are fine.
  const whole = await api.call('POST', '/proxies/redis/toxics/cut', {
    body: { name: 'cut', type: 'limit_data', stream: 'upstream', toxicity: 1, attributes: { bytes: 20 } },
  });
  assert.equal(whole.status, 200, whole.text);

  const removed = await api.call('DELETE', '/proxies/redis/toxics/cut');
  assert.equal(removed.status, 204);
  assert.equal(removed.text, '');
  assert.ok(Array.isArray((await api.call('GET', '/proxies/redis/toxics')).json));
  assert.equal(((await api.call('GET', '/proxies/redis/toxics')).json as unknown[]).length, 2);
});

test('toxics: every refused request leaves the proxy as it was, with the right status and message', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address);
  await api.call('POST', '/proxies/redis/toxics', { body: { type: 'latency', attributes: { latency: 5 } } });
  const toxics = '/proxies/redis/toxics';

  assertError(
    await refused(api, 'POST', toxics, '{"type":'),
    400,
    'bad request body: expected a value, got end of body at position 8',
  );
  assertError(
    await refused(api, 'POST', toxics, '{"type":"latency",}'),
    400,
    'bad request body: expected a member name in quotes, got "}" at position 18',
  );
  assertError(
    await refused(api, 'POST', toxics, ''),
    400,
    /^bad request body: empty body; expected a JSON object/,
  );
  assertError(
    await refused(api, 'POST', toxics, '"latency"'),
    400,
    /toxic: expected an object, got "latency"/,
  );
  assertError(await refused(api, 'POST', toxics, {}), 400, 'type: is required');
  assertError(
    await refused(api, 'POST', toxics, { type: 'down' }),
    400,
    /^type: unknown toxic type "down"; valid: latency, bandwidth, .*noop/,
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'l2', attributes: { latency: 'abc' } }),
    400,
    'attributes.latency: expected a number >= 0, got "abc"',
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'l2', attributes: { latency: -5 } }),
    400,
    'attributes.latency: expected a number >= 0, got -5',
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'l2', toxicity: 2 }),
    400,
    'toxicity: expected a number >= 0 and <= 1, got 2',
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'l2', stream: 'sideways' }),
    400,
    'stream: expected one of "upstream", "downstream", "both", got "sideways"',
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'l2', attributes: { delay: 5 } }),
    400,
    'attributes.delay: unknown attribute "delay" for latency; valid: latency, jitter',
  );
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency' }),
    409,
    'toxic already exists: "latency_downstream" on proxy "redis"',
  );
  // Names are unique across streams (Toxiproxy's TestAddConflictingToxicsMultistream).
  assertError(
    await refused(api, 'POST', toxics, { type: 'latency', name: 'latency_downstream', stream: 'upstream' }),
    409,
    /toxic already exists/,
  );
  assertError(await refused(api, 'POST', '/proxies/nope/toxics', '{bad'), 404, 'proxy not found: "nope"');
  assertError(await refused(api, 'GET', '/proxies/nope/toxics', undefined), 404, 'proxy not found: "nope"');
  assertError(
    await refused(api, 'GET', `${toxics}/nope`, undefined),
    404,
    'toxic not found: "nope" on proxy "redis"',
  );
  assertError(await refused(api, 'GET', '/proxies/nope/toxics/x', undefined), 404, 'proxy not found: "nope"');
  assertError(await refused(api, 'PATCH', `${toxics}/nope`, { toxicity: 1 }), 404, /toxic not found/);
  assertError(await refused(api, 'DELETE', `${toxics}/nope`, undefined), 404, /toxic not found/);
  assertError(await refused(api, 'DELETE', '/proxies/nope/toxics/x', undefined), 404, /proxy not found/);

  const one = `${toxics}/latency_downstream`;
  assertError(await refused(api, 'PATCH', one, '{'), 400, /^bad request body: /);
  assertError(await refused(api, 'PATCH', one, ''), 400, /^bad request body: empty body/);
  assertError(
    await refused(api, 'PATCH', one, { toxicity: -0.1 }),
    400,
    /toxicity: expected a number >= 0 and <= 1/,
  );
  assertError(
    await refused(api, 'PATCH', one, { attributes: { latency: 'slow' } }),
    400,
    /attributes.latency/,
  );
  assertError(await refused(api, 'PATCH', one, { attributes: { rate: 1 } }), 400, /unknown attribute "rate"/);
  // A valid attribute next to a bad one must not be applied either.
  assertError(
    await refused(api, 'POST', one, { attributes: { latency: 50, jitter: -1 } }),
    400,
    /attributes.jitter/,
  );
  assertError(await refused(api, 'PATCH', one, { type: 'bandwidth' }), 400, /cannot change the type/);
  assertError(await refused(api, 'PATCH', one, { stream: 'upstream' }), 400, /cannot change the stream/);
});

test('proxies: update by PATCH and by POST; refused updates change nothing', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  await withProxy(api, echo.address);

  const patched = await api.call('PATCH', '/proxies/redis', { body: { upstream: other.address } });
  assert.equal(patched.status, 200);
  assert.equal((patched.json as { upstream: string }).upstream, other.address);
  const posted = await api.call('POST', '/proxies/redis', { body: { enabled: false, name: 'ignored' } });
  assert.equal(posted.status, 200);
  assert.deepEqual(
    { ...(posted.json as object), listen: '' },
    { name: 'redis', listen: '', upstream: other.address, enabled: false, toxics: [] },
  );

  assertError(
    await refused(api, 'PATCH', '/proxies/nope', { enabled: true }),
    404,
    'proxy not found: "nope"',
  );
  assertError(await refused(api, 'PATCH', '/proxies/nope', '{bad'), 404, 'proxy not found: "nope"');
  assertError(await refused(api, 'PATCH', '/proxies/redis', '{bad'), 400, /^bad request body: /);
  assertError(await refused(api, 'PATCH', '/proxies/redis', ''), 400, /^bad request body: empty body/);
  assertError(
    await refused(api, 'PATCH', '/proxies/redis', { enabled: 'no' }),
    400,
    /enabled: expected true or false/,
  );
  assertError(
    await refused(api, 'PATCH', '/proxies/redis', { enabled: true, upstream: 'nowhere' }),
    400,
    /upstream: expected "host:port"/,
  );
  assertError(await refused(api, 'GET', '/proxies/nope', undefined), 404, 'proxy not found: "nope"');
});

test('reset: 204, toxics removed and disabled proxies enabled', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address, 'a');
  await withProxy(api, echo.address, 'b');
  await api.call('POST', '/proxies/a/toxics', { body: { type: 'latency' } });
  await api.call('POST', '/proxies/b/toxics', { body: { type: 'timeout', stream: 'upstream' } });
  await api.call('PATCH', '/proxies/b', { body: { enabled: false } });

  const reset = await api.call('POST', '/reset');
  assert.equal(reset.status, 204);
  assert.equal(reset.text, '');
  const proxies = (await api.call('GET', '/proxies')).json as Record<
    string,
    { enabled: boolean; toxics: unknown[] }
  >;
  assert.deepEqual(
    Object.values(proxies).map((proxy) => [proxy.enabled, proxy.toxics.length]),
    [
      [true, 0],
      [true, 0],
    ],
  );
});

test('version: Toxiproxy ≥ 2.7 body, JSON content type', async (t) => {
  const api = await startApi(t);
  const reply = await api.call('GET', '/version');
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.equal(reply.text, `{"version": "${await api.hub.version()}"}\n`);
  assert.deepEqual(reply.json, { version: '2.12.0' });
});

test('unknown paths are 404, wrong methods 405 with Allow', async (t) => {
  const api = await startApi(t);
  for (const path of [
    '/',
    '/nope',
    '/proxies/',
    '/proxies/a/b',
    '/proxies/a/toxics/',
    '/proxies/a/toxics/b/c',
    '/Proxies',
  ]) {
    assertError(await api.call('GET', path), 404, /^404 page not found/);
  }
  const cases: Array<[string, string, string]> = [
    ['PUT', '/proxies', 'GET, POST'],
    ['DELETE', '/proxies', 'GET, POST'],
    ['PUT', '/proxies/a', 'GET, POST, PATCH, DELETE'],
    ['DELETE', '/proxies/a/toxics', 'GET, POST'],
    ['PUT', '/proxies/a/toxics/b', 'GET, POST, PATCH, DELETE'],
    ['GET', '/reset', 'POST'],
    ['GET', '/populate', 'POST'],
    ['POST', '/version', 'GET'],
    ['POST', '/metrics', 'GET'],
  ];
  for (const [method, path, allow] of cases) {
    const reply = await api.call(method, path);
    assertError(reply, 405, new RegExp(`^method ${method} not allowed on ${path.replace(/\//g, '\\/')}`));
    assert.equal(reply.headers.allow, allow, `${method} ${path}`);
  }
});

test('browsers are refused with 403 (Toxiproxy’s check on the User-Agent prefix)', async (t) => {
  const api = await startApi(t);
  const chrome =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
  assertError(
    await api.call('GET', '/proxies', { headers: { 'User-Agent': chrome } }),
    403,
    'User agent not allowed',
  );
  const before = await api.call('GET', '/proxies');
  assertError(
    await api.call('POST', '/proxies', {
      headers: { 'User-Agent': chrome },
      body: { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' },
    }),
    403,
    'User agent not allowed',
  );
  assert.deepEqual((await api.call('GET', '/proxies')).json, before.json);
  assert.equal((await api.call('GET', '/proxies', { headers: { 'User-Agent': 'Wget/2.1' } })).status, 200);
  assert.equal((await api.call('GET', '/proxies', { headers: { 'User-Agent': 'mozilla/5.0' } })).status, 200);
});

test('every response carries X-Toxiproxy-Request-Id, distinct per request; one log line each', async (t) => {
  const api = await startApi(t);
  const replies = [
    await api.call('GET', '/proxies'),
    await api.call('GET', '/nope'),
    await api.call('POST', '/proxies', { body: '{' }),
    await api.call('POST', '/reset'),
  ];
  const ids = replies.map((reply) => reply.headers['x-toxiproxy-request-id']);
  for (const id of ids) assert.match(String(id), /^\w+$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(api.log.length, 4);
  assert.match(api.log[0] ?? '', /GET \/proxies 200 \d+ms$/);
  assert.match(api.log[1] ?? '', /GET \/nope 404 \d+ms error="404 page not found/);
  assert.match(api.log[2] ?? '', /POST \/proxies 400 \d+ms error="bad request body/);
  assert.ok(api.log.every((line, i) => line.includes(String(ids[i]))));
});

test('bodies over 1 MiB get 413 whether declared or streamed, and change nothing', async (t) => {
  const api = await startApi(t);
  // Declared: refused before the body is read.
  const declared = await new Promise<Reply>((resolve, reject) => {
    const req = request(`${api.server.url}/populate`, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Length': String(2 * 1024 * 1024), 'Content-Type': json },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        req.destroy();
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: JSON.parse(text) as unknown,
        });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  assertError(declared, 413, 'request body too large: the limit is 1048576 bytes');

  // Streamed without a length: read, discarded and refused.
  const big = `[${' '.repeat(1024 * 1024 + 10)}]`;
  const streamed = await new Promise<Reply>((resolve, reject) => {
    const req = request(`${api.server.url}/populate`, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: JSON.parse(text) as unknown,
        });
      });
    });
    req.on('error', reject);
    req.write(big.slice(0, 1000));
    req.end(big.slice(1000));
  });
  assertError(streamed, 413, 'request body too large: the limit is 1048576 bytes');
  assert.deepEqual((await api.call('GET', '/proxies')).json, {});
  // Just under the limit is fine.
  const fits = await api.call('POST', '/populate', { body: `[${' '.repeat(1024 * 1024 - 2)}]` });
  assert.equal(fits.status, 201);
});

test('close() ends idle keep-alive connections and leaves the hub running', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await withProxy(api, echo.address);
  const client = await Peer.connect(t, api.server.port);
  client.socket.write(
    `GET /version HTTP/1.1\r\nHost: 127.0.0.1:${api.server.port}\r\nConnection: keep-alive\r\n\r\n`,
  );
  const head = (await client.receive(17)).toString();
  assert.equal(head, 'HTTP/1.1 200 OK\r\n');
  assert.ok(client.isOpen);
  await api.server.close();
  await client.closed; // the idle keep-alive connection is closed by close(), not by its timeout
  await api.server.close(); // idempotent
  assert.equal((await api.hub.getProxy('redis')).enabled, true);
  assert.equal(await tryConnect(api.server.port), 'ECONNREFUSED');
});

test('startApiServer on a taken port fails like Go does', async (t) => {
  const api = await startApi(t);
  await assert.rejects(startApiServer({ hub: api.hub, port: api.server.port }), {
    name: 'FaultlineError',
    code: 'FL_ERR_ADDRESS_IN_USE',
    message: `listen tcp 127.0.0.1:${api.server.port}: bind: address already in use`,
  });
});
