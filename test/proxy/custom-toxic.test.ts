import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { createFault } from '../../src/core/fault-registry.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { registerToxic, toxicKind } from '../../src/proxy/toxic-registry.js';
import { noop } from '../../src/proxy/toxics/noop.js';
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
  assert.equal(toxicKind('drop-every-nth'), dropEveryNth);
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

test('a custom kind’s typed names show on the Toxiproxy API in snake_case', async (t) => {
  const spec = { default: 0, integer: true, unit: 'bytes', description: 'x' };
  registerToxic({
    ...noop,
    name: 'wire-names',
    attributes: { delayMs: { ...spec, unit: 'ms' }, sizeBytes: spec },
  });
  const hub = startHub(t);
  const proxy = await startProxy(hub, 9);
  const added = await hub.addToxic('test', { type: 'wire_names', attributes: { delay_ms: 5 } });
  assert.deepEqual(added, {
    attributes: { delay_ms: 5, size_bytes: 0 },
    name: 'wire_names_downstream',
    type: 'wire_names',
    stream: 'downstream',
    toxicity: 1,
  });
  assert.deepEqual(proxy.toxics, [
    {
      name: 'wire_names_downstream',
      kind: 'wire-names',
      stream: 'downstream',
      toxicityProbability: 1,
      attributes: { delayMs: 5, sizeBytes: 0 },
    },
  ]);
  await assert.rejects(
    hub.updateToxic('test', 'wire_names_downstream', { attributes: { delayMs: 1 } }),
    /^FaultlineError: attributes\.delayMs: unknown attribute "delayMs" for wire_names; valid: delay_ms, size_bytes/,
  );
  await assert.rejects(hub.addToxic('test', { type: 'wire-names' }), /type: unknown toxic type "wire-names"/);
  const updated = await hub.updateToxic('test', 'wire_names_downstream', { attributes: { size_bytes: 9 } });
  assert.deepEqual(updated.attributes, { delay_ms: 5, size_bytes: 9 });

  // The typed path names its own fields.
  const ledger = new Ledger();
  const context = { ledger, clock: realClock, random: new Random(1) };
  t.after(() => ledger.close());
  assert.throws(() => createFault('tcp.wire-names', { proxy, delay_ms: 1 }), /delay_ms: unknown parameter/);
  await createFault('tcp.wire-names', { proxy, stream: 'upstream', delayMs: 7 }).inject(context);
  assert.deepEqual((await hub.getToxic('test', 'wire-names-upstream')).attributes, {
    delay_ms: 7,
    size_bytes: 0,
  });
  assert.throws(
    () => proxy.updateToxic('wire-names-upstream', { attributes: { delay_ms: 1 } }),
    /attributes\.delay_ms: unknown attribute "delay_ms" for wire-names; valid: delayMs, sizeBytes/,
  );
});
