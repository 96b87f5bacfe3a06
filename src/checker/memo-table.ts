/** Bytes of one arena chunk (at least the longest key): entries never straddle chunks. */
const chunkBytes = 1 << 20;

/**
 * Lowe's memo for the WGL search: the set of configurations (linearized ops, model state) already
 * explored, each stored as its exact key bytes (see `LinearizedSet.encode`: tens of bytes, not n/8).
 * Open addressing over flat typed arrays, no per-entry objects; the keys live in fixed-size chunks of
 * one arena, so growing never copies them and `bytes` is what is held. The caller supplies the hash
 * (kept incrementally, see `zobrist`).
 */
export class MemoTable {
  private readonly chunkSize: number;
  private readonly chunks: Uint8Array[] = [];
  /** Write position in the last chunk. */
  private used: number;
  /** Per entry: chunk index * chunkSize + offset of its key, which starts with a varint of its length. */
  private starts: Float64Array;
  private hashes: Uint32Array;
  /** Slot → entry + 1 (0 = empty). Length is a power of two, at most half full. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  /** `maxKeyBytes`: the longest key `add` will be given. */
  constructor(
    private readonly maxKeyBytes: number,
    initialCapacity = 1024,
  ) {
    this.chunkSize = Math.max(chunkBytes, maxKeyBytes + 5);
    this.used = this.chunkSize; // no chunk yet: the first add allocates one
    this.starts = new Float64Array(initialCapacity);
    this.hashes = new Uint32Array(initialCapacity);
    this.slots = new Int32Array(initialCapacity * 2);
    this.mask = this.slots.length - 1;
    this.indexBytes = initialCapacity * (8 + 4 + 8);
  }

  /** Bytes held: the key chunks and the index. */
  get bytes(): number {
    return this.chunks.length * this.chunkSize + this.indexBytes;
  }

  /** Bytes held once the next insertion has grown the table, at most (as much as `bytes` if it will not). */
  get bytesAfterNextAdd(): number {
    const chunk = this.used + this.maxKeyBytes + 5 > this.chunkSize ? this.chunkSize : 0;
    const full = this.size === this.hashes.length;
    return this.bytes + chunk + (full ? this.indexBytes : 0);
  }

  /** Bytes of starts, hashes and slots (kept, since the budget is checked at every step). */
  private indexBytes: number;

  /** Adds the configuration whose key is `key[0 .. length)`; false if it was already there. */
  add(hash: number, key: Uint8Array, length: number): boolean {
    let slot = hash & this.mask;
    for (;;) {
      const found = this.slots[slot] as number;
      if (found === 0) break;
      const entry = found - 1;
      if (this.hashes[entry] === hash && this.equals(entry, key, length)) return false;
      slot = (slot + 1) & this.mask;
    }
    if (this.size === this.hashes.length) {
      this.grow();
      slot = hash & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    }
    if (this.used + length + 5 > this.chunkSize) {
      this.chunks.push(new Uint8Array(this.chunkSize));
      this.used = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1] as Uint8Array;
    const entry = this.size++;
    this.starts[entry] = (this.chunks.length - 1) * this.chunkSize + this.used;
    let at = this.used;
    for (let v = length; ; v >>>= 7) {
      if (v < 0x80) {
        chunk[at++] = v;
        break;
      }
      chunk[at++] = (v & 0x7f) | 0x80;
    }
    chunk.set(key.subarray(0, length), at);
    this.used = at + length;
    this.hashes[entry] = hash;
    this.slots[slot] = entry + 1;
    return true;
  }

  private equals(entry: number, key: Uint8Array, length: number): boolean {
    const start = this.starts[entry] as number;
    const chunk = this.chunks[Math.floor(start / this.chunkSize)] as Uint8Array;
    let at = start % this.chunkSize;
    let stored = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = chunk[at++] as number;
      stored |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    if (stored !== length) return false;
    for (let i = 0; i < length; i++) if (chunk[at + i] !== key[i]) return false;
    return true;
  }

  private grow(): void {
    const capacity = this.hashes.length * 2;
    const starts = new Float64Array(capacity);
    starts.set(this.starts);
    this.starts = starts;
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    this.slots = new Int32Array(capacity * 2);
    this.mask = this.slots.length - 1;
    this.indexBytes = capacity * (8 + 4 + 8);
    for (let entry = 0; entry < this.size; entry++) {
      let slot = (hashes[entry] as number) & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry + 1;
    }
  }
}

/** A fixed pseudo-random 32-bit value per op (splitmix32 of its id): XOR-ing them hashes a set in O(1) per change. */
export function zobrist(count: number): Uint32Array {
  const values = new Uint32Array(count);
  for (let i = 0; i < count; i++) values[i] = mix32(Math.imul(i + 1, 0x9e3779b9));
  return values;
}

/** The murmur3 finaliser: spreads every input bit over the output. */
export function mix32(value: number): number {
  let h = value ^ (value >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
