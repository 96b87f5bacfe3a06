import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RawReply, rawExchange, startApi, startEcho } from './helpers.js';

function assertJsonError(reply: RawReply, status: number, code: string, field: string): void {
  assert.equal(reply.status, status, reply.body);
  assert.equal(reply.headers.get('content-type'), 'application/json');
  assert.equal(Number(reply.headers.get('content-length')), Buffer.byteLength(reply.body));
  const body = JSON.parse(reply.body) as { error: string; status: number; code: string; field: string };
  assert.deepEqual(Object.keys(body), ['error', 'status', 'code', 'field']);
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.field, field);
  assert.ok(body.error.length > 0);
}

test('regression: malformed HTTP gets a 400 with a JSON body naming what is wrong', async (t) => {
  const api = await startApi(t);
  const port = api.server.port;
  const host = `Host: 127.0.0.1:${port}`;
  assertJsonError(await rawExchange(port, 'GARBAGE\r\n\r\n'), 400, 'FL_ERR_INVALID_ARGUMENT', 'method');
  assertJsonError(
    await rawExchange(port, `GET /proxies HTTP/9.9\r\n${host}\r\n\r\n`),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'version',
  );
  assertJsonError(
    await rawExchange(port, `GET /proxies HTTP/1.1\r\n${host}\r\nBad Header\r\n\r\n`),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'headers',
  );
  assertJsonError(
    await rawExchange(
      port,
      `POST /proxies HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'body',
  );
  // HTTP/1.1 without Host: JSON as well (Node's own answer has no body).
  assertJsonError(
    await rawExchange(port, 'GET /proxies HTTP/1.1\r\nConnection: close\r\n\r\n'),
    400,
    'FL_ERR_INVALID_ARGUMENT',
    'host',
  );
  // The server lives on.
  assert.equal((await api.call('GET', '/version')).status, 200);
  assert.ok(api.log.some((line) => / - - 400 0ms error="malformed HTTP request: /.test(line)));
});

test('regression: a URL or headers over 16 KiB get 431 with a JSON body', async (t) => {
  const api = await startApi(t);
  const port = api.server.port;
  const longUrl = `/proxies/${'a'.repeat(17 * 1024)}`;
  assertJsonError(
    await rawExchange(port, `GET ${longUrl} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
    431,
    'FL_ERR_TOO_LARGE',
    'headers',
  );
  const manyHeaders = Array.from({ length: 400 }, (_, i) => `X-Filler-${i}: ${'x'.repeat(40)}`).join('\r\n');
  assertJsonError(
    await rawExchange(port, `GET /proxies HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${manyHeaders}\r\n\r\n`),
    431,
    'FL_ERR_TOO_LARGE',
    'headers',
  );
  // Just under the limit is routed as usual: a 404 for a proxy with a long name.
  const fits = await api.call('GET', `/proxies/${'a'.repeat(15 * 1024)}`);
  assert.equal(fits.status, 404);
  assert.equal((await api.call('GET', '/proxies')).status, 200);
});

test('CONNECT and unsupported Expect values get JSON errors too', async (t) => {
  const api = await startApi(t);
  const port = api.server.port;
  assertJsonError(
    await rawExchange(port, `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`),
    405,
    'FL_ERR_METHOD_NOT_ALLOWED',
    'method',
  );
  assertJsonError(
    await rawExchange(
      port,
      `POST /reset HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n`,
    ),
    417,
    'FL_ERR_INVALID_ARGUMENT',
    'expect',
  );
});

test('regression: invalid IP literals and host names are a 400 naming the field, never a lookup or a 500', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const bad = [
    '256.0.0.1:0',
    '1.2.3:0',
    '127.1:0',
    '127.0.0.01:0',
    '0x7f.0.0.1:0',
    '1.2.3.4.5:0',
    '[zzz]:0',
    '[127.0.0.1]:0',
    'bad host:0',
    'a..b:0',
    '-lead.example:0',
    `${'a'.repeat(64)}.example:0`,
  ];
  for (const listen of bad) {
    const reply = await api.call('POST', '/proxies', { body: { name: 'x', listen, upstream: echo.address } });
    assert.equal(reply.status, 400, `${listen}: ${reply.text}`);
    assert.deepEqual(
      [(reply.json as { code: string }).code, (reply.json as { field: string }).field],
      ['FL_ERR_INVALID_ARGUMENT', 'listen'],
      listen,
    );
    const upstream = await api.call('POST', '/proxies', {
      body: { name: 'x', listen: '127.0.0.1:0', upstream: listen.replace(/:0$/, ':80') },
    });
    assert.equal(upstream.status, 400, `${listen}: ${upstream.text}`);
    assert.equal((upstream.json as { field: string }).field, 'upstream');
  }
  assert.equal((await api.call('GET', '/proxies')).text, '{}');
  for (const [i, listen] of ['127.0.0.1:0', 'localhost:0', '[::1]:0', '127.3.4.5:0'].entries()) {
    const reply = await api.call('POST', '/proxies', {
      body: { name: `ok${i}`, listen, upstream: 'db.internal_net.example:5432' },
    });
    // [::1] may be missing on a machine without IPv6; that is a bind failure (500), not a refusal.
    if (listen === '[::1]:0' && reply.status === 500) continue;
    assert.equal(reply.status, 201, `${listen}: ${reply.text}`);
  }
});
