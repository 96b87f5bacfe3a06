import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Api, Peer, startApi, startEcho, waitFor } from './helpers.js';

/** The samples of a metrics page, keyed `name{labels}`. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    result.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return result;
}

async function scrape(api: Api): Promise<Map<string, number>> {
  const reply = await api.call('GET', '/metrics');
  assert.equal(reply.status, 200);
  return samples(reply.text);
}

test('metrics: Prometheus 0.0.4 text with HELP and TYPE for every family', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  await api.call('POST', '/proxies', { body: { name: 'db', listen: '127.0.0.1:0', upstream: echo.address } });
  const reply = await api.call('GET', '/metrics');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.ok(reply.text.endsWith('\n'));
  const families: Array<[string, string]> = [
    ['faultline_proxy_bytes_in_total', 'counter'],
    ['faultline_proxy_bytes_out_total', 'counter'],
    ['faultline_proxy_bytes_dropped_total', 'counter'],
    ['faultline_proxy_connections_total', 'counter'],
    ['faultline_proxy_connections_active', 'gauge'],
  ];
  const lines = reply.text.trimEnd().split('\n');
  for (const [name, type] of families) {
    const help = lines.findIndex((line) => line.startsWith(`# HELP ${name} `));
    assert.ok(help >= 0, `no HELP for ${name}`);
    assert.equal(lines[help + 1], `# TYPE ${name} ${type}`);
  }
  for (const line of lines) {
    if (!line.startsWith('#')) assert.match(line, /^faultline_[a-z_]+\{(?:[a-z_]+="[^"]*",?)+\} \d+$/);
  }
  assert.equal(samples(reply.text).get('faultline_proxy_connections_active{proxy="db"}'), 0);
});

test('metrics: counters follow real traffic per proxy and direction', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const created = await api.call('POST', '/proxies', {
    body: { name: 'db', listen: '127.0.0.1:0', upstream: echo.address },
  });
  const listen = (created.json as { listen: string }).listen;
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));

  const client = await Peer.connect(t, port);
  await client.roundTrip(Buffer.alloc(10_000, 1));
  await client.roundTrip('0123456789');
  let metrics = await scrape(api);
  for (const direction of ['upstream', 'downstream']) {
    assert.equal(metrics.get(`faultline_proxy_bytes_in_total{proxy="db",direction="${direction}"}`), 10_010);
    assert.equal(metrics.get(`faultline_proxy_bytes_out_total{proxy="db",direction="${direction}"}`), 10_010);
    assert.equal(metrics.get(`faultline_proxy_bytes_dropped_total{proxy="db",direction="${direction}"}`), 0);
  }
  assert.equal(metrics.get('faultline_proxy_connections_total{proxy="db"}'), 1);
  assert.equal(metrics.get('faultline_proxy_connections_active{proxy="db"}'), 1);

  // limit_data lets 4 bytes through upstream and drops the rest.
  await api.call('POST', '/proxies/db/toxics', {
    body: { type: 'limit_data', stream: 'upstream', attributes: { bytes: 4 } },
  });
  const second = await Peer.connect(t, port);
  second.socket.write('abcdefghij');
  await second.closed;
  client.socket.destroy();
  await waitFor('both connections to be gone', async () => {
    metrics = await scrape(api);
    return metrics.get('faultline_proxy_connections_active{proxy="db"}') === 0;
  });
  assert.equal(metrics.get('faultline_proxy_connections_total{proxy="db"}'), 2);
  assert.equal(metrics.get('faultline_proxy_bytes_in_total{proxy="db",direction="upstream"}'), 10_020);
  assert.equal(metrics.get('faultline_proxy_bytes_out_total{proxy="db",direction="upstream"}'), 10_014);
  assert.equal(metrics.get('faultline_proxy_bytes_dropped_total{proxy="db",direction="upstream"}'), 6);
});

test('metrics: label values are escaped', async (t) => {
  const api = await startApi(t);
  const echo = await startEcho(t);
  const created = await api.call('POST', '/proxies', {
    body: { name: 'a "quoted"\\name', listen: '127.0.0.1:0', upstream: echo.address },
  });
  assert.equal(created.status, 201, created.text);
  const metrics = await scrape(api);
  assert.equal(metrics.get('faultline_proxy_connections_total{proxy="a \\"quoted\\"\\\\name"}'), 0);
});
