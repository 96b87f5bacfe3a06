// A scenario run from a Vitest test: runScenarioIn with the test's context.
import { expect, test } from 'vitest';
import { runScenarioIn } from '../../src/testing/index.js';

test('an inline scenario runs inside a Vitest test', async (ctx) => {
  const result = await runScenarioIn(ctx, {
    experiment: { name: 'vitest inline', seed: 2 },
    targets: { front: { type: 'tcp-proxy', upstream: '127.0.0.1:9' } },
    faults: [{ kind: 'tcp.latency', at: '0s', for: '20ms', params: { proxy: 'front', latencyMs: 5 } }],
  });
  expect(result.verdict).toBe('pass');
  expect(result.injections.map((record) => record.step.kind)).toEqual(['tcp.latency']);
});
