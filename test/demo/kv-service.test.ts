// The demo service's protocol and its one difference between variants, on the real process: the fixed
// store keeps an acknowledged write across SIGKILL, the buggy one loses it until its next flush.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KvClient, kvServicePath } from '../../src/demo/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'faultline-demo-test-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the service on a free port with its data in `dir`; resolves with a client once it listens. */
async function startService(
  dir: string,
  variant: 'buggy' | 'fixed',
): Promise<{ client: KvClient; child: ChildProcess }> {
  const argv = [kvServicePath, '--data-dir', dir, '--variant', variant, '--flush-interval-ms', '60000'];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const url = /listening on (http:\S+),/.exec(out)?.[1];
    if (url !== undefined) return { client: new KvClient(url), child };
  }
  throw new Error(`kv-service exited before listening: ${out}`);
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('demo kv-service', () => {
  it('speaks its protocol: health, put, get, 404, cas (200 and 409), scan, bad bodies', async () => {
    const dir = mkdtempSync(join(dataDir, 'faultline-protocol-'));
    const { client, child } = await startService(dir, 'fixed');
    try {
      const health = await fetch(new URL('/health', client.baseUrl));
      assert.deepEqual([health.status, await health.json()], [200, { ok: true }]);
      assert.equal(await client.read('a'), null);
      await client.write('a', 1);
      assert.equal(await client.read('a'), 1);
      await client.cas('a', 1, 2);
      assert.equal(await client.read('a'), 2);
      await assert.rejects(client.cas('a', 1, 3), { name: 'FailError', message: 'cas a: it held 2' });
      await client.cas('new key/ü', null, { nested: [true] });
      assert.deepEqual(await client.entries(), { a: 2, 'new key/ü': { nested: [true] } });
      const bad = await fetch(new URL('/kv/a', client.baseUrl), { method: 'PUT', body: 'not json' });
      assert.equal(bad.status, 400);
      assert.equal((await fetch(new URL('/nope', client.baseUrl))).status, 404);
    } finally {
      await kill(child);
    }
  });

  it('serves sets, counters and queues; fixed keeps them across SIGKILL, buggy loses the unflushed', async () => {
    for (const variant of ['fixed', 'buggy'] as const) {
      const dir = mkdtempSync(join(dataDir, `faultline-collections-${variant}-`));
      const first = await startService(dir, variant);
      const { client } = first;
      assert.deepEqual(await client.setRead('s'), []);
      await client.setAdd('s', 1);
      await client.setAdd('s', 1);
      await client.setAdd('s', 'two');
      assert.deepEqual(await client.setRead('s'), [1, 'two']);
      assert.equal(await client.counterRead('c'), 0);
      await client.counterAdd('c', 5);
      await client.counterAdd('c', -2);
      assert.equal(await client.counterRead('c'), 3);
      assert.equal(await client.dequeue('q'), null);
      await client.enqueue('q', 'a');
      await client.enqueue('q', 'b');
      await client.enqueue('q', 'c');
      assert.equal(await client.dequeue('q'), 'a');
      const bad = await fetch(new URL('/counter/c/add', client.baseUrl), {
        method: 'POST',
        body: '{"delta":"x"}',
      });
      assert.equal(bad.status, 400);
      assert.equal((await fetch(new URL('/queue/q/peek', client.baseUrl), { method: 'POST' })).status, 404);
      await kill(first.child);
      const second = await startService(dir, variant);
      try {
        const kept = variant === 'fixed';
        assert.deepEqual(await second.client.setRead('s'), kept ? [1, 'two'] : [], variant);
        assert.equal(await second.client.counterRead('c'), kept ? 3 : 0, variant);
        assert.equal(await second.client.dequeue('q'), kept ? 'b' : null, variant);
      } finally {
        await kill(second.child);
      }
    }
  });

  it('fixed: an acknowledged write survives SIGKILL; buggy: it is lost (acknowledged before durable)', async () => {
    for (const variant of ['fixed', 'buggy'] as const) {
      const dir = mkdtempSync(join(dataDir, `faultline-${variant}-`));
      const first = await startService(dir, variant);
      await first.client.write('k', 'acknowledged');
      await kill(first.child);
      const second = await startService(dir, variant);
      try {
        assert.equal(await second.client.read('k'), variant === 'fixed' ? 'acknowledged' : null, variant);
      } finally {
        await kill(second.child);
      }
    }
  });
});
