import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../../src/core/random.js';

function draws(random: Random, n: number): number[] {
  return Array.from({ length: n }, () => random.nextUint32());
}

describe('Random', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    assert.deepEqual(draws(new Random(42), 100), draws(new Random(42), 100));
    assert.notDeepEqual(draws(new Random(42), 100), draws(new Random(43), 100));
  });

  it('forks streams that depend only on seed and label, not on earlier draws', () => {
    const a = new Random(7);
    const b = new Random(7);
    draws(b, 1000); // the parent's position must not matter
    assert.deepEqual(draws(a.fork('x'), 50), draws(b.fork('x'), 50));
    assert.notDeepEqual(draws(a.fork('x'), 50), draws(a.fork('y'), 50));
    assert.deepEqual(draws(a.fork('x').fork('y'), 20), draws(new Random(7, 'x/y'), 20));
  });

  it('is uniform: mean, variance and bucket counts of 200,000 draws are within statistical bounds', () => {
    const random = new Random(1);
    const n = 200_000;
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const x = random.next();
      assert.ok(x >= 0 && x < 1);
      sum += x;
      sumSquares += x * x;
      buckets[Math.floor(x * 10)]! += 1;
    }
    const mean = sum / n;
    const variance = sumSquares / n - mean * mean;
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
    // Chi-squared with 9 degrees of freedom: 27.9 is the 0.999 quantile.
    const expected = n / 10;
    const chiSquared = buckets.reduce((acc, count) => acc + (count - expected) ** 2 / expected, 0);
    assert.ok(chiSquared < 27.9, `chi-squared ${chiSquared}`);
  });

  it('draws normals with the requested mean and standard deviation', () => {
    const random = new Random(3);
    const n = 100_000;
    const values = Array.from({ length: n }, () => random.normal(10, 2));
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    assert.ok(Math.abs(mean - 10) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(sd - 2) < 0.05, `sd ${sd}`);
  });

  it('int, between, chance and pick stay in range', () => {
    const random = new Random(9);
    for (let i = 0; i < 10_000; i++) {
      const k = random.int(7);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
      const x = random.between(-3, 5);
      assert.ok(x >= -3 && x < 5);
    }
    assert.equal(random.chance(0), false);
    assert.equal(random.chance(1), true);
    assert.ok(['a', 'b'].includes(random.pick(['a', 'b'])));
    assert.throws(() => random.pick([]), RangeError);
  });

  it('refuses a seed that is not a non-negative integer, naming the field', () => {
    for (const seed of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new Random(seed), { code: 'FL_ERR_INVALID_ARGUMENT', message: /^seed:/ });
    }
  });
});

describe('Random.freshSeed', () => {
  const withSeedVariable = <T>(value: string | undefined, body: () => T): T => {
    const saved = process.env.FAULTLINE_SEED;
    if (value === undefined) delete process.env.FAULTLINE_SEED;
    else process.env.FAULTLINE_SEED = value;
    try {
      return body();
    } finally {
      if (saved === undefined) delete process.env.FAULTLINE_SEED;
      else process.env.FAULTLINE_SEED = saved;
    }
  };

  it('takes FAULTLINE_SEED when set, so one variable replays a run', () => {
    assert.equal(
      withSeedVariable('42', () => Random.freshSeed()),
      42,
    );
    assert.equal(
      withSeedVariable('9007199254740991', () => Random.freshSeed()),
      Number.MAX_SAFE_INTEGER,
    );
    const fresh = withSeedVariable(undefined, () => Random.freshSeed());
    assert.ok(Number.isInteger(fresh) && fresh >= 0 && fresh < 2 ** 32);
  });

  it('refuses a FAULTLINE_SEED that is not a seed, naming the variable', () => {
    for (const bad of ['abc', '-1', '1.5', ' 7', '9007199254740992', '1e3']) {
      assert.throws(
        () => withSeedVariable(bad, () => Random.freshSeed()),
        (error: Error & { code?: string }) =>
          error.code === 'FL_ERR_INVALID_ARGUMENT' &&
          /^FAULTLINE_SEED: expected an integer/.test(error.message),
        bad,
      );
    }
  });
});
