// useFaultline bound to a Vitest test: the fault a test injects is healed when that test finishes.
import { afterAll, expect, test } from 'vitest';
import { tcp } from '../../src/proxy/tcp-faults.js';
import { TcpProxy } from '../../src/proxy/tcp-proxy.js';
import { useFaultline } from '../../src/testing/index.js';

const proxy = new TcpProxy({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' });
afterAll(() => proxy.stop());

test('a test injects a latency toxic through its own ledger', async (ctx) => {
  const fl = useFaultline(ctx, { seed: 42 });
  await tcp.latency({ proxy, latencyMs: 100 }).inject(fl.context);
  expect(proxy.toxics.map((toxic) => toxic.kind)).toEqual(['latency']);
  expect(fl.replay).toMatch(
    /^FAULTLINE_SEED=42 npx vitest run .*use-faultline\.vitest\.js' -t 'a test injects/,
  );
});

test('the next test finds it healed', () => {
  expect(proxy.toxics).toEqual([]);
});
