/**
 * A history recorded from a real Redis through faultline's proxy under `timeout` and `reset_peer` toxics
 * (test/support/redis-history.ts) must be decided: valid as recorded (Redis is linearizable on one key),
 * not valid with one read falsified after writes of unknown outcome. The same for the recorded fixture,
 * which needs no Redis.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { models } from '../../src/checker/models/index.js';
import { parseHistory } from '../../src/history/formats.js';
import type { Op } from '../../src/history/op.js';
import { falsifyRead } from '../support/chaos-histories.js';
import { withTimeout } from '../support/children.js';
import { haveRedis, recordRedisRegister, startRedis } from '../support/redis-history.js';

// Tests run from dist/test/checker; fixtures stay in the source tree.
const fixture = new URL('../../../test/checker/fixtures/redis-register.jsonl', import.meta.url);

/** The fault windows, from the nemesis notes around them. */
function windowsOf(ops: readonly Op[]): { startNs: number; endNs: number }[] {
  const starts = ops.filter((op) => op.process === 'nemesis' && op.f === 'start');
  const stops = ops.filter((op) => op.process === 'nemesis' && op.f === 'stop');
  assert.equal(starts.length, stops.length, 'every window started is stopped');
  return starts.map((start, i) => ({ startNs: start.time, endNs: (stops[i] as Op).time }));
}

/** Writes of unknown outcome: each may still take effect at any later time, as far as a checker knows. */
function infoWrites(ops: readonly Op[]): number {
  return ops.filter((op) => op.type === 'info' && op.f === 'write').length;
}

/** Twice the worst check time issue 13 targets (5 s); the memory budget is the default. */
const checkTimeoutMs = 10_000;

/** Checks `ops` and asserts the verdict — decided, whatever the writes of unknown outcome did. */
async function assertVerdict(ops: Op[], expected: boolean, what: string): Promise<void> {
  const result = await checkLinearizability(ops, models.register, { timeoutMs: checkTimeoutMs });
  assert.equal(result.valid, expected, `${what}: ${result.reason ?? JSON.stringify(result.stats)}`);
  // Chaos writes distinct values: the distinct-values algorithm decides, with no search.
  assert.equal(result.stats?.partitionsReadMapped, 1, `${what}: ${result.decidedBy}`);
}

/** One read falsified after the 5 writes timed out in the middle window, while others are pending. */
function falsified(ops: Op[]): Op[] {
  return falsifyRead({ ops, windows: windowsOf(ops) }, 'register', 5);
}

describe('a Redis register history recorded through the proxy under timeout toxics', () => {
  let ops: Op[] = [];
  before(async () => {
    assert.ok(
      haveRedis(),
      'redis-server is not installed: apt-get install redis-server (scripts/ensure-test-deps.mjs)',
    );
    const redis = await startRedis();
    try {
      ops = await withTimeout(recordRedisRegister(redis.port, { seed: 13 }), 20_000, 'the Redis workload');
    } finally {
      await redis.stop();
    }
  });

  it('has 20-30 writes of unknown outcome', () => {
    const unknownWrites = infoWrites(ops);
    assert.ok(unknownWrites >= 20 && unknownWrites <= 30, `${unknownWrites} writes of unknown outcome`);
  });

  it('is decided valid as recorded', async () => {
    await assertVerdict(ops, true, 'as recorded');
  });

  it('is decided invalid with one read falsified', async () => {
    await assertVerdict(falsified(ops), false, 'falsified');
  });
});

describe('the recorded Redis fixture (no Redis needed)', () => {
  const { ops } = parseHistory(readFileSync(fixture, 'utf8'), { file: fixture.pathname });

  it('has 20 or more writes of unknown outcome', () => {
    assert.ok(infoWrites(ops) >= 20, `${infoWrites(ops)} writes of unknown outcome`);
  });

  it('is decided valid as recorded', async () => {
    await assertVerdict(ops, true, 'as recorded');
  });

  it('is decided invalid with one read falsified', async () => {
    await assertVerdict(falsified(ops), false, 'falsified');
  });
});
