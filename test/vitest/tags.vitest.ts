// Scenarios as Vitest tests, tagged by their experiment.tags: test/vitest/vitest.test.ts runs this file
// with `--tags-filter` and checks which of them ran. The tags are declared in vitest.config.mjs.
import { expect, test } from 'vitest';
import { subscribe } from '../../src/core/events.js';
import { scenarioTest } from '../../src/testing/index.js';

/** The fault kinds injected while `body` runs (a passing run may not have injected anything otherwise). */
async function injectedDuring(body: () => Promise<void>): Promise<string[]> {
  const kinds: string[] = [];
  const stop = subscribe(
    (event) => {
      if (event.type === 'fault.inject') kinds.push(event.kind);
    },
    ['fault.inject'],
  );
  try {
    await body();
  } finally {
    stop();
  }
  return kinds;
}

const network = await scenarioTest({
  experiment: { name: 'slow link', tags: ['chaos', 'chaos:network'], seed: 1 },
  targets: { front: { type: 'tcp-proxy', upstream: '127.0.0.1:9' } },
  faults: [{ kind: 'tcp.latency', at: '0s', for: '20ms', params: { proxy: 'front', latencyMs: 5 } }],
});

const crash = await scenarioTest({
  experiment: { name: 'crash', tags: ['chaos', 'chaos:process'], seed: 2 },
  targets: {
    svc: {
      type: 'process',
      argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
      restart: 'on-failure',
    },
  },
  faults: [{ kind: 'process.kill', at: '0s', params: { target: 'svc', signal: 'SIGKILL' } }],
});

test(network.name, network.options, async (ctx) => {
  expect(ctx.task.tags).toEqual(['chaos', 'chaos:network']); // Vitest's own tags, not a name match
  expect(await injectedDuring(() => network.run(ctx))).toEqual(['tcp.latency']);
});

test(crash.name, crash.options, async (ctx) => {
  expect(await injectedDuring(() => crash.run(ctx))).toEqual(['process.kill']);
});

test('untagged', () => {
  expect(network.tags).toEqual(['chaos', 'chaos:network']);
});
