/**
 * The set of linearized ops of a WGL configuration, kept so that its memo key is short.
 *
 * A full bitset costs n/8 bytes per memo entry (1.25 KB at 10,000 ops), yet almost all of it is
 * predictable: every `ok` op below the first unlinearized one is linearized, none far above it is
 * (an `ok` op has a return deadline, so the linearized ones above it lie in a window about as wide as the
 * concurrency). `info` ops are the exception — one that never took effect stays unlinearized for ever —
 * so they get a bitset of their own, over the `info` ops only (a few hundred in a chaos history).
 *
 * The key is, as bytes: varint state id, varint `firstOk` (the first unlinearized ok op, by ok rank),
 * varint count and little-endian words of the ok bitset from firstOk's word to the last word holding a
 * linearized ok op, varint count and words of the info bitset up to its last non-zero word. It is a
 * function of (set, state) alone, so equal keys mean equal configurations: no lossy hashing.
 */
export class LinearizedSet {
  /** Per op: its rank among the ops of its kind (ok or info). */
  private readonly rank: Int32Array;
  private readonly isOk: Uint8Array;
  private readonly okBits: Uint32Array;
  private readonly infoBits: Uint32Array;
  private okCount = 0;
  private infoCount = 0;
  /** Rank of the first unlinearized ok op (the ok count when all are). */
  private firstOk = 0;
  /** The encoded key of the last `encode`, valid for its returned length. */
  readonly scratch: Uint8Array;

  constructor(isOk: Uint8Array) {
    const n = isOk.length;
    this.isOk = isOk;
    this.rank = new Int32Array(n);
    let oks = 0;
    let infos = 0;
    for (let op = 0; op < n; op++) this.rank[op] = isOk[op] === 1 ? oks++ : infos++;
    this.okBits = new Uint32Array(Math.max(1, Math.ceil(oks / 32)));
    this.infoBits = new Uint32Array(Math.max(1, Math.ceil(infos / 32)));
    this.scratch = new Uint8Array(4 * 5 + 4 * (this.okBits.length + this.infoBits.length));
  }

  /** The longest key `encode` can write. */
  get maxKeyBytes(): number {
    return this.scratch.length;
  }

  add(op: number): void {
    const r = this.rank[op] as number;
    const bit = 1 << (r & 31);
    if (this.isOk[op] === 1) {
      this.okBits[r >>> 5] = (this.okBits[r >>> 5] as number) | bit;
      this.okCount++;
      if (r === this.firstOk) this.advanceFirstOk();
    } else {
      this.infoBits[r >>> 5] = (this.infoBits[r >>> 5] as number) | bit;
      this.infoCount++;
    }
  }

  remove(op: number): void {
    const r = this.rank[op] as number;
    const bit = ~(1 << (r & 31));
    if (this.isOk[op] === 1) {
      this.okBits[r >>> 5] = (this.okBits[r >>> 5] as number) & bit;
      this.okCount--;
      if (r < this.firstOk) this.firstOk = r;
    } else {
      this.infoBits[r >>> 5] = (this.infoBits[r >>> 5] as number) & bit;
      this.infoCount--;
    }
  }

  /** Writes the key of (this set, `stateId`) into `scratch`; returns its length. */
  encode(stateId: number): number {
    const out = this.scratch;
    let at = writeVarint(out, 0, stateId);
    at = writeVarint(out, at, this.firstOk);
    const okBits = this.okBits;
    const from = this.firstOk >>> 5;
    // Every ok op below firstOk is linearized, so the words below `from` hold from * 32 of them.
    let left = this.okCount - from * 32;
    let to = from;
    while (left > 0) left -= popcount(okBits[to++] as number);
    at = writeWords(out, at, okBits, from, to);
    left = this.infoCount;
    to = 0;
    while (left > 0) left -= popcount(this.infoBits[to++] as number);
    return writeWords(out, at, this.infoBits, 0, to);
  }

  private advanceFirstOk(): void {
    const okBits = this.okBits;
    let word = this.firstOk >>> 5;
    // Whole words first: a run of linearized ops is all-ones words.
    while (word < okBits.length && okBits[word] === 0xffffffff) word++;
    let r = word * 32;
    if (word < okBits.length) {
      const inverted = ~(okBits[word] as number);
      r += 31 - Math.clz32(inverted & -inverted);
    }
    this.firstOk = r;
  }
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}

function writeWords(out: Uint8Array, start: number, words: Uint32Array, from: number, to: number): number {
  let at = writeVarint(out, start, to - from);
  for (let w = from; w < to; w++) {
    const word = words[w] as number;
    out[at++] = word & 0xff;
    out[at++] = (word >>> 8) & 0xff;
    out[at++] = (word >>> 16) & 0xff;
    out[at++] = word >>> 24;
  }
  return at;
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}
