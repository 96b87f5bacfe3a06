import { invalid, requireNumber } from './assert.js';

/**
 * The only source of randomness: xoshiro128** (Blackman & Vigna), seeded from a 128-bit hash of the
 * run's seed and this stream's label path. `fork(label)` derives a stream from the seed and path alone,
 * never from how many draws were made, so streams stay independent and reproducible whatever the
 * interleaving of the code that uses them.
 */
export class Random {
  readonly seed: number;
  readonly path: string;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number, path = '') {
    requireNumber(seed, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
    this.seed = seed;
    this.path = path;
    const [a, b, c, d] = hash128(`${seed}/${path}`);
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    if ((a | b | c | d) === 0) this.d = 1; // the all-zero state is a fixed point
    for (let i = 0; i < 8; i++) this.nextUint32(); // spread the hash's bits through the state
  }

  /**
   * The seed of a component that was given none: `FAULTLINE_SEED` when set, so one variable replays a
   * whole test run or CI job; else a fresh one (the one place that may read ambient entropy).
   */
  static freshSeed(): number {
    const fromEnvironment = process.env.FAULTLINE_SEED;
    if (fromEnvironment === undefined || fromEnvironment === '') return Math.floor(Math.random() * 2 ** 32);
    return Random.parseSeed(fromEnvironment, 'FAULTLINE_SEED');
  }

  /** A seed written as text (a flag, a variable): an integer from 0 to 2^53 - 1, else an error naming `field`. */
  static parseSeed(text: string, field: string): number {
    const seed = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed)) {
      const valid = 'an integer from 0 to 2^53 - 1';
      throw invalid(field, `expected ${valid}, got ${JSON.stringify(text)}`, valid);
    }
    return seed;
  }

  /**
   * The stream of a component, from its options, the one way every component takes randomness: `random`
   * (a stream to fork `label` from), or `seed`, or neither (`freshSeed()`). Giving both is refused. The
   * component exposes `.seed` of the result, so a run can always be replayed.
   */
  static from(
    options: { readonly seed?: number | undefined; readonly random?: Random | undefined },
    label: string,
  ): Random {
    if (options.random !== undefined) {
      if (!(options.random instanceof Random)) throw invalid('random', 'expected a Random', 'a Random');
      if (options.seed !== undefined) {
        throw invalid('seed', 'give seed or random, not both', 'seed (a number) or random (a Random)');
      }
      return options.random.fork(label);
    }
    const seed = options.seed ?? Random.freshSeed();
    requireNumber(seed, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
    return new Random(seed, label);
  }

  /** An independent, deterministic stream named `label` below this one. */
  fork(label: string): Random {
    return new Random(this.seed, this.path === '' ? label : `${this.path}/${label}`);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Normal deviate (Marsaglia polar method). */
  normal(mean = 0, standardDeviation = 1): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return mean + standardDeviation * spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return mean + standardDeviation * u * factor;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** cyrb128: a fast, well-mixed 128-bit string hash, used only to seed. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
