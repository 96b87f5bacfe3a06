import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyPort, listeningServers, Peer, startApi, startEcho } from './helpers.js';

interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Array<{ name: string; type: string; attributes: Record<string, number> }>;
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

test('populate takes a bare array and answers 201 {"proxies":[…]} in input order', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const reply = await api.call('POST', '/populate', {
    body: [
      { name: 'web', listen: 'localhost:0', upstream: echo.address },
      { name: 'db', listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
    ],
  });
  assert.equal(reply.status, 201);
  assert.equal(reply.headers['content-type'], 'application/json');
  const { proxies } = reply.json as { proxies: ProxyJson[] };
  assert.deepEqual(
    proxies.map((proxy) => [proxy.name, proxy.enabled, proxy.toxics]),
    [
      ['web', true, []],
      ['db', false, []],
    ],
  );
  assert.match(proxies[0]?.listen ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
  const client = await Peer.connect(t, portOf(proxies[0]?.listen ?? ''));
  await client.roundTrip('populated');
  assert.deepEqual(Object.keys((await api.call('GET', '/proxies')).json as object), ['db', 'web']);

  const empty = await api.call('POST', '/populate', { body: [] });
  assert.equal(empty.status, 201);
  assert.equal(empty.text, '{"proxies":[]}', 'always an array, never null');
});

test('populate refuses bad input as a whole: nothing from earlier entries is created', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const first = { name: 'first', listen: '127.0.0.1:0', upstream: echo.address };
  const cases: Array<[unknown, number, string | RegExp]> = [
    ['', 400, /^bad request body: empty body; expected a JSON array of proxies$/],
    ['[{"name":', 400, 'bad request body: expected a value, got end of body at position 9'],
    [{ proxies: [first] }, 400, 'proxies: expected an array of proxies, got an object'],
    [[first, { name: 'second', listen: '127.0.0.1:0' }], 400, 'missing required field: upstream at proxy 2'],
    [
      [first, { listen: '127.0.0.1:0', upstream: echo.address }],
      400,
      'missing required field: name at proxy 2',
    ],
    [[first, 'oops'], 400, /proxies\[1\]: expected an object, got "oops"/],
    [[first, { ...first }], 400, /proxies\[1\]\.name: duplicate proxy name "first"/],
    [
      [
        first,
        {
          name: 'second',
          listen: '127.0.0.1:0',
          upstream: echo.address,
          toxics: [{ type: 'latency', toxicity: 3 }],
        },
      ],
      400,
      /proxies\[1\]\.toxics\[0\]\.toxicity: expected a number >= 0 and <= 1, got 3/,
    ],
    [
      [first, { name: 'second', listen: '127.0.0.1:0', upstream: echo.address, toxics: [{ type: 'nope' }] }],
      400,
      /unknown toxic type "nope"/,
    ],
  ];
  const servers = await listeningServers();
  for (const [body, status, message] of cases) {
    const reply = await api.call('POST', '/populate', {
      body: typeof body === 'string' ? body : (body as object),
    });
    assert.equal(reply.status, status, reply.text);
    const error = (reply.json as { error: string }).error;
    if (typeof message === 'string') assert.equal(error, message);
    else assert.match(error, message);
    assert.deepEqual((await api.call('GET', '/proxies')).json, {}, `after ${JSON.stringify(body)}`);
    assert.equal(await listeningServers(), servers);
  }
});

test('populate with a taken port: 500, nothing created, nothing left listening, replaced proxies restored', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const taken = await busyPort(t);
  const existing = (
    await api.call('POST', '/proxies', {
      body: { name: 'kept', listen: '127.0.0.1:0', upstream: echo.address },
    })
  ).json as ProxyJson;
  await api.call('POST', '/proxies/kept/toxics', { body: { type: 'latency', attributes: { latency: 1 } } });
  const before = (await api.call('GET', '/proxies')).json;
  const servers = await listeningServers();

  const reply = await api.call('POST', '/populate', {
    body: [
      { name: 'kept', listen: existing.listen, upstream: other.address }, // would replace
      { name: 'new', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'clash', listen: `127.0.0.1:${taken}`, upstream: echo.address },
    ],
  });
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.json, {
    error: `listen tcp 127.0.0.1:${taken}: bind: address already in use`,
    status: 500,
    code: 'FL_ERR_ADDRESS_IN_USE',
    field: 'proxies[2].listen',
  });
  assert.deepEqual((await api.call('GET', '/proxies')).json, before);
  assert.equal(await listeningServers(), servers);
  const client = await Peer.connect(t, portOf(existing.listen));
  await client.roundTrip('still here');
  assert.equal(other.accepted, 0);
});

test('populate keeps unchanged proxies, replaces changed ones, creates new ones and leaves others alone', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const make = async (name: string): Promise<ProxyJson> => {
    const created = await api.call('POST', '/proxies', {
      body: { name, listen: '127.0.0.1:0', upstream: echo.address },
    });
    await api.call('POST', `/proxies/${name}/toxics`, { body: { type: 'noop' } });
    return created.json as ProxyJson;
  };
  const same = await make('same');
  const changed = await make('changed');
  const untouched = await make('untouched');
  const sameClient = await Peer.connect(t, portOf(same.listen));
  await sameClient.roundTrip('a');
  const changedClient = await Peer.connect(t, portOf(changed.listen));
  await changedClient.roundTrip('b');

  const reply = await api.call('POST', '/populate', {
    body: [
      { name: 'same', listen: same.listen, upstream: echo.address },
      { name: 'changed', listen: changed.listen, upstream: other.address },
      { name: 'fresh', listen: '127.0.0.1:0', upstream: echo.address },
    ],
  });
  assert.equal(reply.status, 201, reply.text);
  const proxies = (reply.json as { proxies: ProxyJson[] }).proxies;
  assert.deepEqual(
    proxies.map((proxy) => [proxy.name, proxy.upstream, proxy.toxics.length]),
    [
      ['same', echo.address, 1],
      ['changed', other.address, 0],
      ['fresh', echo.address, 0],
    ],
  );
  assert.equal(proxies[1]?.listen, changed.listen, 'the replacement took over the port');

  await sameClient.roundTrip('kept alive'); // unchanged: its connection lives on
  await changedClient.closed; // replaced: its connection was dropped
  const moved = await Peer.connect(t, portOf(changed.listen));
  await moved.roundTrip('to the new upstream');
  assert.equal(other.accepted, 1);
  const all = (await api.call('GET', '/proxies')).json as Record<string, ProxyJson>;
  assert.deepEqual(Object.keys(all), ['changed', 'fresh', 'same', 'untouched']);
  assert.deepEqual(all.untouched, { ...untouched, toxics: all.untouched?.toxics });
  assert.equal(all.untouched?.toxics.length, 1);
});

test('populate with toxics (faultline’s addition) creates them, and they act on traffic', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const reply = await api.call('POST', '/populate', {
    body: [
      {
        name: 'db',
        listen: '127.0.0.1:0',
        upstream: echo.address,
        toxics: [
          { type: 'latency', attributes: { latency: 200 } },
          { name: 'cap', type: 'limit_data', stream: 'upstream', attributes: { bytes: 1000 } },
        ],
      },
    ],
  });
  assert.equal(reply.status, 201, reply.text);
  const db = (reply.json as { proxies: ProxyJson[] }).proxies[0] as ProxyJson;
  assert.deepEqual(
    db.toxics.map((toxic) => [toxic.name, toxic.type, toxic.attributes]),
    [
      ['latency_downstream', 'latency', { latency: 200, jitter: 0 }],
      ['cap', 'limit_data', { bytes: 1000 }],
    ],
  );
  const client = await Peer.connect(t, portOf(db.listen));
  const elapsed = await client.roundTrip('slow');
  assert.ok(elapsed >= 190, `round trip ${elapsed.toFixed(1)} ms, expected ≥ 200 ms of latency`);

  // Toxics given for an unchanged proxy replace its toxics, and its connection lives on.
  const again = await api.call('POST', '/populate', {
    body: [{ name: 'db', listen: db.listen, upstream: echo.address, toxics: [{ type: 'noop' }] }],
  });
  assert.equal(again.status, 201, again.text);
  assert.deepEqual(
    ((again.json as { proxies: ProxyJson[] }).proxies[0] as ProxyJson).toxics.map((toxic) => toxic.name),
    ['noop_downstream'],
  );
  await client.roundTrip('fast now');
});

test('regression: a populate that fails to bind keeps the live connections of the proxies it would replace', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const taken = await busyPort(t);
  const created = await api.call('POST', '/populate', {
    body: [
      { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'b', listen: '127.0.0.1:0', upstream: echo.address },
    ],
  });
  const [a, b] = (created.json as { proxies: ProxyJson[] }).proxies as [ProxyJson, ProxyJson];
  const clientA = await Peer.connect(t, portOf(a.listen));
  const clientB = await Peer.connect(t, portOf(b.listen));
  await clientA.roundTrip('a1');
  await clientB.roundTrip('b1');
  const before = (await api.call('GET', '/proxies')).json;
  const servers = await listeningServers();

  const reply = await api.call('POST', '/populate', {
    body: [
      { name: 'a', listen: a.listen, upstream: other.address }, // same port, new upstream: replaced
      { name: 'b', listen: '127.0.0.1:0', upstream: other.address }, // new port: replaced
      { name: 'c', listen: `127.0.0.1:${taken}`, upstream: echo.address }, // cannot bind
    ],
  });
  assert.equal(reply.status, 500, reply.text);
  assert.deepEqual((await api.call('GET', '/proxies')).json, before);
  assert.equal(await listeningServers(), servers);
  // The connections made before the refused populate are still there, and still go to the old upstream.
  await clientA.roundTrip('a2');
  await clientB.roundTrip('b2');
  assert.equal(other.accepted, 0);
  assert.equal((reply.json as { field: string }).field, 'proxies[2].listen');
});

test('populate can swap two proxies’ ports: each replacement takes over the other’s listener', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const other = await startEcho(t);
  const created = await api.call('POST', '/populate', {
    body: [
      { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'b', listen: '127.0.0.1:0', upstream: other.address },
    ],
  });
  const [a, b] = (created.json as { proxies: ProxyJson[] }).proxies as [ProxyJson, ProxyJson];
  const servers = await listeningServers();
  const reply = await api.call('POST', '/populate', {
    body: [
      { name: 'a', listen: b.listen, upstream: echo.address },
      { name: 'b', listen: a.listen, upstream: other.address },
    ],
  });
  assert.equal(reply.status, 201, reply.text);
  const swapped = (reply.json as { proxies: ProxyJson[] }).proxies;
  assert.deepEqual(
    swapped.map((proxy) => proxy.listen),
    [b.listen, a.listen],
  );
  assert.equal(await listeningServers(), servers);
  const toA = await Peer.connect(t, portOf(b.listen));
  await toA.roundTrip('to a');
  assert.equal(echo.accepted, 1);
  assert.equal(other.accepted, 0);
});
