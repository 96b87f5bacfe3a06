import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToxiproxyClient } from '../../src/api/client.js';
import { ProxyHub } from '../../src/api/hub.js';
import { startApiServer } from '../../src/api/server.js';
import { FaultlineError } from '../../src/core/errors.js';
import { type Api, type Reply, startApi, startEcho } from './helpers.js';

interface ErrorJson {
  error: string;
  status: number;
  code: string;
  field: string;
}

function assertRefused(reply: Reply, status: number, code: string, field: string): ErrorJson {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.headers['content-type'], 'application/json');
  const body = reply.json as ErrorJson;
  assert.deepEqual([body.status, body.code, body.field], [status, code, field], reply.text);
  return body;
}

async function snapshot(api: Api): Promise<string> {
  return (await api.call('GET', '/proxies')).text;
}

test('the API answers only to its own address and loopback names in Host (DNS rebinding guard)', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const port = api.server.port;
  for (const host of [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `LOCALHOST:${port}`,
    `[::1]:${port}`,
    'localhost',
    '127.0.0.1',
    '[::1]',
  ]) {
    assert.equal((await api.call('GET', '/version', { headers: { Host: host } })).status, 200, host);
  }
  const before = await snapshot(api);
  for (const host of [
    `evil.example:${port}`,
    'evil.example',
    `localhost:${port + 1}`,
    `127.0.0.1:${port === 65535 ? 1 : port + 1}`,
    `127.0.0.2:${port}`,
    `localhost.evil.example:${port}`,
    'local host',
  ]) {
    const body = assertRefused(
      await api.call('POST', '/proxies', {
        headers: { Host: host },
        body: { name: 'x', listen: '127.0.0.1:0', upstream: echo.address },
      }),
      403,
      'FL_ERR_FORBIDDEN',
      'host',
    );
    assert.match(body.error, /not allowed/);
  }
  assert.equal(await snapshot(api), before, 'a refused Host changed nothing');
});

test('allowedHosts adds names (any port, or one port); "*" turns the Host check off', async (t) => {
  const api = await startApi(t, { allowedHosts: ['toxiproxy', 'proxy.test:1234'] });
  const ok = async (host: string): Promise<number> =>
    (await api.call('GET', '/version', { headers: { Host: host } })).status;
  assert.equal(await ok('toxiproxy:32768'), 200);
  assert.equal(await ok('TOXIPROXY'), 200);
  assert.equal(await ok('proxy.test:1234'), 200);
  assert.equal(await ok('proxy.test:1235'), 403);
  assert.equal(await ok('other:1234'), 403);
  const open = await startApi(t, { allowedHosts: ['*'] });
  assert.equal((await open.call('GET', '/version', { headers: { Host: 'anything.example' } })).status, 200);
});

test('allowedHosts entries that could never match a Host header are refused, naming the entry', async () => {
  const hub = new ProxyHub();
  try {
    for (const [allowedHosts, field, pattern] of [
      [['toxiproxy', '::1'], 'allowedHosts[1]', /IPv6 address goes in brackets: "\[::1\]"/],
      [['fe80::1'], 'allowedHosts[0]', /"\[fe80::1\]"/],
      [['a b'], 'allowedHosts[0]', /not a valid host name/],
      [[' toxiproxy'], 'allowedHosts[0]', /not a valid host name/],
      [['[not-v6]:80'], 'allowedHosts[0]', /is not an IPv6 address/],
      [['name:99999'], 'allowedHosts[0]', /expected a host name/],
      [['name:'], 'allowedHosts[0]', /expected a host name/],
      [[''], 'allowedHosts[0]', /no host name/],
      [[42], 'allowedHosts[0]', /got 42/],
      ['toxiproxy', 'allowedHosts', /expected an array/],
    ] as const) {
      await assert.rejects(
        startApiServer({ hub, port: 0, allowedHosts: allowedHosts as never }),
        (error: unknown) => {
          assert.ok(error instanceof FaultlineError);
          assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
          assert.equal(error.details.field, field);
          assert.ok(error.message.startsWith(`${field}: `), error.message);
          assert.match(error.message, pattern);
          return true;
        },
        JSON.stringify(allowedHosts),
      );
    }
  } finally {
    await hub.close();
  }
});

test('an IPv6 address is allowed in brackets, with or without a port', async (t) => {
  const api = await startApi(t, { allowedHosts: ['[FD00::1]', '[fd00::2]:1234'] });
  const status = async (host: string): Promise<number> =>
    (await api.call('GET', '/version', { headers: { Host: host } })).status;
  assert.equal(await status('[fd00::1]:5555'), 200);
  assert.equal(await status('[fd00::1]'), 200);
  assert.equal(await status('[fd00::2]:1234'), 200);
  assert.equal(await status('[fd00::2]:1235'), 403);
});

test('a token must be a bearer token (RFC 6750), or no request could ever carry it', async () => {
  const hub = new ProxyHub();
  try {
    for (const [token, pattern] of [
      ['two words', /character " " at position 4/],
      [' padded', /character " " at position 1/],
      ['tab\tbed', /character "\\t"/],
      ['', /empty/],
      ['==', /only "="/],
      ['a=b', /character "=" at position 2/],
      [42, /got number/],
    ] as const) {
      await assert.rejects(startApiServer({ hub, port: 0, token: token as string }), (error: unknown) => {
        assert.ok(error instanceof FaultlineError);
        assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
        assert.equal(error.details.field, 'token');
        assert.match(error.message, /^token: expected a bearer token/);
        assert.match(error.message, pattern);
        if (typeof token === 'string' && token.length > 2) assert.ok(!error.message.includes(token));
        return true;
      });
    }
    for (const token of ['abc', 'A-Z_0.9~+/x', 'base64+/==']) {
      await (await startApiServer({ hub, port: 0, token })).close();
    }
  } finally {
    await hub.close();
  }
});

test('with a token every request needs Authorization: Bearer <token>; 401 JSON otherwise', async (t) => {
  const token = 's3cret-token';
  const api = await startApi(t, { token });
  const echo = await startEcho(t);
  const missing = await api.call('GET', '/version');
  assertRefused(missing, 401, 'FL_ERR_UNAUTHORIZED', 'authorization');
  assert.match(String(missing.headers['www-authenticate']), /^Bearer /);
  for (const authorization of [
    `Bearer ${token}x`,
    `Bearer ${token.slice(0, -1)}`,
    `Basic ${token}`,
    `Bearer`,
    `Bearer ${token} extra`,
    token,
  ]) {
    assertRefused(
      await api.call('POST', '/proxies', {
        headers: { Authorization: authorization },
        body: { name: 'x', listen: '127.0.0.1:0', upstream: echo.address },
      }),
      401,
      'FL_ERR_UNAUTHORIZED',
      'authorization',
    );
  }
  assert.equal(
    (await api.call('GET', '/proxies', { headers: { Authorization: `Bearer ${token}` } })).text,
    '{}',
  );
  assert.equal(
    (await api.call('GET', '/version', { headers: { Authorization: `bearer  ${token}` } })).status,
    200,
    'the scheme is case-insensitive',
  );

  // The typed client sends it; without it the client reports FL_ERR_UNAUTHORIZED.
  const client = new ToxiproxyClient(api.server.url, { token });
  await client.createProxy({ name: 'db', listen: '127.0.0.1:0', upstream: echo.address });
  assert.deepEqual(Object.keys(await client.proxies()), ['db']);
  const anonymous = new ToxiproxyClient(api.server.url);
  await assert.rejects(anonymous.proxies(), (error: unknown) => {
    assert.ok(error instanceof FaultlineError);
    assert.equal(error.code, 'FL_ERR_UNAUTHORIZED');
    assert.equal(error.details.field, 'authorization');
    assert.equal(error.details.status, 401);
    return true;
  });
});

test('proxies listen only on loopback and unprivileged ports unless allowRemoteListen', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const refusedListens = [
    '0.0.0.0:0',
    ':0',
    '[::]:0',
    '10.1.2.3:0',
    '192.168.0.1:0',
    'myhost.example:0',
    '[::ffff:10.0.0.1]:0',
    '127.0.0.1:80',
    'localhost:1023',
    '[::1]:1',
  ];
  for (const listen of refusedListens) {
    const body = assertRefused(
      await api.call('POST', '/proxies', { body: { name: 'x', listen, upstream: echo.address } }),
      400,
      'FL_ERR_INVALID_ARGUMENT',
      'listen',
    );
    assert.match(body.error, /--allow-remote-listen/, listen);
  }
  assertRefused(
    await api.call('POST', '/populate', {
      body: [
        { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
        { name: 'b', listen: '0.0.0.0:0', upstream: echo.address },
      ],
    }),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'proxies[1].listen',
  );
  assert.equal(await snapshot(api), '{}');
  await api.call('POST', '/proxies', { body: { name: 'db', listen: '127.0.0.1:0', upstream: echo.address } });
  const before = await snapshot(api);
  assertRefused(
    await api.call('PATCH', '/proxies/db', { body: { listen: '0.0.0.0:0', upstream: '127.0.0.1:9' } }),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'listen',
  );
  assert.equal(await snapshot(api), before);
  // 1024 and above, and any 127.x address, are fine.
  for (const listen of ['127.0.0.1:0', '127.9.9.9:0', 'localhost:0']) {
    const reply = await api.call('PATCH', '/proxies/db', { body: { listen } });
    assert.equal(reply.status, 200, `${listen}: ${reply.text}`);
  }

  const open = await startApi(t, { allowRemoteListen: true });
  const wide = await open.call('POST', '/proxies', {
    body: { name: 'wide', listen: '0.0.0.0:0', upstream: echo.address },
  });
  assert.equal(wide.status, 201, wide.text);
  assert.equal((await open.call('DELETE', '/proxies/wide')).status, 204);
});
