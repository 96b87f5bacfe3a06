import assert from 'node:assert/strict';
import { test } from 'node:test';
// The package is CommonJS: Node's ESM loader gives its module.exports as the default export and, through
// its static analysis of `exports.X = …`, the same classes as named exports.
import toxiproxyNodeClient, {
  type ICreateToxicBody,
  type Latency,
  Toxiproxy,
  ToxiproxyError,
} from 'toxiproxy-node-client';
import { Peer, startApi, startEcho, tryConnect } from './helpers.js';

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/** Slack under a toxic's delay for timer granularity; the delay is measured from the socket read. */
const slackMs = 10;

test('toxiproxy-node-client loads from ESM both ways', () => {
  assert.equal(toxiproxyNodeClient.Toxiproxy, Toxiproxy);
  assert.equal(toxiproxyNodeClient.ToxiproxyError, ToxiproxyError);
});

test('toxiproxy-node-client 4.x drives faultline as it drives Toxiproxy', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const toxiproxy = new Toxiproxy(api.server.url);

  // 4.1 returns the body as text; Toxiproxy ≥ 2.7 sends exactly this.
  assert.equal(await toxiproxy.getVersion(), '{"version": "2.12.0"}\n');

  const proxy = await toxiproxy.createProxy({ name: 'redis', listen: 'localhost:0', upstream: echo.address });
  assert.equal(proxy.name, 'redis');
  assert.equal(proxy.enabled, true);
  assert.equal(proxy.upstream, echo.address);
  assert.match(proxy.listen, /^127\.0\.0\.1:[1-9]\d*$/);
  const port = portOf(proxy.listen);

  const client = await Peer.connect(t, port);
  await client.roundTrip('no toxic yet');

  // As in the client's README: only type and attributes; the server fills name, stream and toxicity.
  const toxic = await proxy.addToxic<Latency>({
    type: 'latency',
    attributes: { latency: 300, jitter: 0 },
  } as ICreateToxicBody<Latency>);
  assert.equal(toxic.name, 'latency_downstream');
  assert.equal(toxic.stream, 'downstream');
  assert.equal(toxic.toxicity, 1);
  assert.deepEqual(toxic.attributes, { latency: 300, jitter: 0 });
  let elapsed = await client.roundTrip('slow');
  assert.ok(elapsed >= 300 - slackMs, `round trip ${elapsed.toFixed(1)} ms with 300 ms of latency`);

  const fetched = await proxy.getToxic<Latency>('latency_downstream');
  assert.deepEqual(fetched.toJson(), toxic.toJson());

  const slower = await toxic.update({ ...toxic.toJson(), attributes: { latency: 1200, jitter: 0 } });
  assert.equal(slower.attributes.latency, 1200);
  elapsed = await client.roundTrip('slower');
  assert.ok(elapsed >= 1200 - slackMs, `round trip ${elapsed.toFixed(1)} ms with 1200 ms of latency`);

  await slower.remove();
  elapsed = await client.roundTrip('fast again');
  assert.ok(elapsed < 1200, `round trip ${elapsed.toFixed(1)} ms after the toxic was removed`);
  await assert.rejects(proxy.getToxic('latency_downstream'), {
    name: 'Error',
    message: 'Request failed with status code 404',
  });

  // "down" is done by disabling the proxy.
  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(down.enabled, false);
  assert.equal(down.listen, proxy.listen);
  await client.closed;
  assert.equal(await tryConnect(port), 'ECONNREFUSED');

  const populated = await toxiproxy.populate([
    { name: 'postgres', listen: 'localhost:0', upstream: echo.address },
    { name: 'redis', listen: proxy.listen, upstream: proxy.upstream, enabled: false },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ['postgres', 'redis']);
  assert.equal(populated.postgres?.enabled, true);

  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ['postgres', 'redis']);
  assert.equal(all.redis?.enabled, false);
  assert.equal((await toxiproxy.get('redis')).enabled, false);

  await proxy.addToxic({ type: 'limit_data', attributes: { bytes: 1 } } as ICreateToxicBody<{
    bytes: number;
  }>);
  await toxiproxy.reset();
  const afterReset = await toxiproxy.get('redis');
  assert.equal(afterReset.enabled, true);
  assert.equal(afterReset.listen, proxy.listen, 're-enabled on the same port');
  const again = await Peer.connect(t, port);
  await again.roundTrip('after reset, no toxics');

  await assert.rejects(
    toxiproxy.createProxy({ name: 'redis', listen: 'localhost:0', upstream: echo.address }),
    (error: unknown) =>
      error instanceof ToxiproxyError && error.message === 'Request failed with status code 409',
  );
  await assert.rejects(toxiproxy.get('nope'), { message: 'Request failed with status code 404' });

  await afterReset.remove();
  await again.closed;
  assert.deepEqual(Object.keys(await toxiproxy.getAll()), ['postgres']);
});
