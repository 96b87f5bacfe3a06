import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { toxicKind } from '../../src/proxy/toxic-registry.js';
import { dropEveryNth } from './fixtures/drop-every-nth.js';
import { connect, startHub, startProxy, startServer, waitFor } from './helpers.js';

// docs/creating-toxics.md shows test/proxy/fixtures/drop-every-nth.ts verbatim. This file compiles it
// (via the import above, through the package's public `faultline/proxy` entry), checks the document
// still shows exactly that code, and proves the toxic does what the document says.

const root = new URL('../../../', import.meta.url); // dist/test/proxy/ → the repository

test('docs/creating-toxics.md shows the tested example verbatim', () => {
  const doc = readFileSync(new URL('docs/creating-toxics.md', root), 'utf8');
  const source = readFileSync(new URL('test/proxy/fixtures/drop-every-nth.ts', root), 'utf8');
  const marker = '<!-- example: test/proxy/fixtures/drop-every-nth.ts -->';
  const at = doc.indexOf(marker);
  assert.ok(at >= 0, `the document marks the example with ${marker}`);
  const block = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(block, 'a ```ts block follows the marker');
  assert.equal(block[1], source, 'the example in the document differs from the tested file');
});

test('the example toxic registers and drops every n-th chunk', async (t) => {
  assert.equal(toxicKind('drop_every_nth'), dropEveryNth);
  const received: Buffer[] = [];
  const server = await startServer(t, (socket) => socket.on('data', (chunk: Buffer) => received.push(chunk)));
  const hub = startHub(t);
  const proxy = await startProxy(hub, server.port);
  await hub.addToxic('test', { type: 'drop_every_nth', stream: 'upstream', attributes: { n: 3 } });
  const client = await connect(t, proxy.port);
  // One message per chunk: each is written only after the proxy has read the previous one.
  const messages = Array.from({ length: 9 }, (_, i) => `<${i + 1}>`);
  for (const [i, message] of messages.entries()) {
    client.write(message);
    await waitFor(() => proxy.stats.upstream.bytesIn >= 3 * (i + 1), `message ${i + 1} at the proxy`);
  }
  const kept = messages.filter((_, i) => (i + 1) % 3 !== 0).join('');
  await waitFor(() => Buffer.concat(received).length >= kept.length, 'the kept messages at the server');
  assert.equal(Buffer.concat(received).toString(), kept);
  assert.equal(proxy.stats.upstream.bytesDropped, 9);

  await hub.updateToxic('test', 'drop_every_nth_upstream', { attributes: { n: 0 } });
  client.write('<after update>');
  await waitFor(() => Buffer.concat(received).toString().endsWith('<after update>'), 'data after the update');
});
