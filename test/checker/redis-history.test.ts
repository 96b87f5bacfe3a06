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

/**
 * Until issue 13's register algorithm and search portfolio land, the checker runs out of memory on the
 * falsified histories and says `unknown`: those tests run and report as TODO. Delete this once they pass.
 */
const undecidedToday = 'unknown until issue 13 (read-mapped registers, search portfolio) lands';

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

async function assertValid(ops: Op[]): Promise<void> {
  const result = await checkLinearizability(ops, models.register);
  assert.equal(result.valid, true, `as recorded: ${result.reason ?? JSON.stringify(result.stats)}`);
}

/** One read falsified after the 5 writes timed out in the middle window, while others are pending. */
async function assertFalsifiedInvalid(ops: Op[]): Promise<void> {
  const falsified = falsifyRead({ ops, windows: windowsOf(ops) }, 'register', 5);
  const result = await checkLinearizability(falsified, models.register);
  assert.equal(result.valid, false, `falsified: ${result.reason ?? JSON.stringify(result.stats)}`);
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

  it('has 20-30 writes of unknown outcome and is decided valid', async () => {
    const unknownWrites = infoWrites(ops);
    assert.ok(unknownWrites >= 20 && unknownWrites <= 30, `${unknownWrites} writes of unknown outcome`);
    await assertValid(ops);
  });

  it('is decided invalid with one read falsified', { todo: undecidedToday }, async () => {
    await assertFalsifiedInvalid(ops);
  });
});

describe('the recorded Redis fixture (no Redis needed)', () => {
  const { ops } = parseHistory(readFileSync(fixture, 'utf8'), { file: fixture.pathname });

  it('has 20 or more writes of unknown outcome and is decided valid', async () => {
    assert.ok(infoWrites(ops) >= 20, `${infoWrites(ops)} writes of unknown outcome`);
    await assertValid(ops);
  });

  it('is decided invalid with one read falsified', { todo: undecidedToday }, async () => {
    await assertFalsifiedInvalid(ops);
  });
});
