import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Peer, startApi, startEcho } from './helpers.js';

const prototypeNames = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

test('regression: proxies named like Object.prototype members are listed, shown, measured and deleted', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  for (const name of prototypeNames) {
    const reply = await api.call('POST', '/proxies', {
      body: { name, listen: '127.0.0.1:0', upstream: echo.address },
    });
    assert.equal(reply.status, 201, `${name}: ${reply.text}`);
  }
  const listed = await api.call('GET', '/proxies');
  assert.equal(listed.status, 200);
  // The raw text, not just the parsed object: `__proto__` must be a key of the JSON itself.
  for (const name of prototypeNames) assert.ok(listed.text.includes(`"${name}":{"name":"${name}"`), name);
  const parsed = JSON.parse(listed.text) as Record<string, { name: string; listen: string }>;
  assert.deepEqual(Object.keys(parsed).sort(), [...prototypeNames].sort());
  assert.equal(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value?.name, '__proto__');

  const inProcess = await api.hub.proxies();
  assert.deepEqual(Object.keys(inProcess).sort(), [...prototypeNames].sort());
  assert.deepEqual(Object.keys(api.hub.stats()).sort(), [...prototypeNames].sort());

  const proto = Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value as { listen: string };
  const client = await Peer.connect(t, portOf(proto.listen));
  await client.roundTrip('through __proto__');
  const metrics = (await api.call('GET', '/metrics')).text;
  for (const name of prototypeNames) {
    assert.match(metrics, new RegExp(`^faultline_proxy_connections_total\\{proxy="${name}"\\} \\d+$`, 'm'));
  }
  assert.match(metrics, /^faultline_proxy_connections_total\{proxy="__proto__"\} 1$/m);

  for (const name of prototypeNames) {
    const toxic = await api.call('POST', `/proxies/${name}/toxics`, { body: { name, type: 'noop' } });
    assert.equal(toxic.status, 200, `${name}: ${toxic.text}`);
    const shown = await api.call('GET', `/proxies/${name}/toxics/${name}`);
    assert.equal((shown.json as { name: string }).name, name);
    assert.equal((await api.call('GET', `/proxies/${name}`)).status, 200);
  }
  for (const name of prototypeNames) {
    assert.equal((await api.call('DELETE', `/proxies/${name}`)).status, 204, name);
  }
  assert.equal((await api.call('GET', '/proxies')).text, '{}');
});

test('a __proto__ key in a JSON body is an own key like any other: it cannot supply missing fields', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const smuggled = `{"__proto__":{"name":"evil"},"listen":"127.0.0.1:0","upstream":"${echo.address}"}`;
  const reply = await api.call('POST', '/proxies', { body: smuggled });
  assert.equal(reply.status, 400, reply.text);
  assert.equal((reply.json as { field: string }).field, 'name');
  assert.equal((await api.call('GET', '/proxies')).text, '{}');

  await api.call('POST', '/proxies', { body: { name: 'db', listen: '127.0.0.1:0', upstream: echo.address } });
  const before = (await api.call('GET', '/proxies/db')).text;
  const patched = await api.call('PATCH', '/proxies/db', { body: '{"__proto__":{"enabled":false}}' });
  assert.equal(patched.status, 200, patched.text);
  assert.equal((await api.call('GET', '/proxies/db')).text, before);
});

test('names a URL cannot address ("." and "..", or with "/") are refused for proxies and toxics', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  for (const name of ['.', '..', 'a/b']) {
    const proxy = await api.call('POST', '/proxies', {
      body: { name, listen: '127.0.0.1:0', upstream: echo.address },
    });
    assert.equal(proxy.status, 400, `${name}: ${proxy.text}`);
    assert.equal((JSON.parse(proxy.text) as { field: string }).field, 'name');
  }
  await api.call('POST', '/proxies', { body: { name: 'p', listen: '127.0.0.1:0', upstream: echo.address } });
  for (const name of ['.', '..', 'a/b']) {
    const toxic = await api.call('POST', '/proxies/p/toxics', { body: { name, type: 'noop' } });
    assert.equal(toxic.status, 400, `${name}: ${toxic.text}`);
    assert.equal((JSON.parse(toxic.text) as { field: string }).field, 'name');
  }
  assert.deepEqual(Object.keys(await api.hub.proxies()), ['p']);
  assert.deepEqual(await api.hub.toxics('p'), []);
});
