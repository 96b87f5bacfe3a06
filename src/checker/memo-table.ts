/**
 * Lowe's memo for the WGL search: the set of (linearized-ops bitset, model state id) configurations
 * already explored. Open addressing over flat typed arrays, so a million entries cost a few tens of MB
 * and no per-entry objects. The caller supplies the hash (kept incrementally, see `zobrist`).
 */
export class MemoTable {
  readonly words: number;
  private readonly stride: number;
  /** Entry e occupies arena[e * stride .. e * stride + stride): state id, then the bitset words. */
  private arena: Uint32Array;
  private hashes: Uint32Array;
  /** Slot → entry + 1 (0 = empty). Length is a power of two, at most half full. */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(words: number, initialCapacity = 1024) {
    this.words = words;
    this.stride = words + 1;
    this.arena = new Uint32Array(initialCapacity * this.stride);
    this.hashes = new Uint32Array(initialCapacity);
    this.slots = new Int32Array(initialCapacity * 2);
    this.mask = this.slots.length - 1;
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.arena.byteLength + this.hashes.byteLength + this.slots.byteLength;
  }

  /** Bytes held once the next insertion has doubled the table (as much as `bytes` if it will not). */
  get bytesAfterNextAdd(): number {
    return this.size === this.hashes.length ? this.bytes * 2 : this.bytes;
  }

  /** Adds the configuration; false if it was already there. */
  add(hash: number, stateId: number, bits: Uint32Array): boolean {
    const { arena, stride, words } = this;
    let slot = hash & this.mask;
    for (;;) {
      const found = this.slots[slot] as number;
      if (found === 0) break;
      const entry = found - 1;
      if (this.hashes[entry] === hash) {
        const base = entry * stride;
        if (arena[base] === stateId) {
          let same = true;
          for (let w = 0; w < words; w++) {
            if (arena[base + 1 + w] !== bits[w]) {
              same = false;
              break;
            }
          }
          if (same) return false;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.size === this.hashes.length) {
      this.grow();
      return this.add(hash, stateId, bits); // re-probe in the larger table (one level deep)
    }
    const entry = this.size++;
    const base = entry * stride;
    arena[base] = stateId;
    arena.set(bits, base + 1);
    this.hashes[entry] = hash;
    this.slots[slot] = entry + 1;
    return true;
  }

  private grow(): void {
    const capacity = this.hashes.length * 2;
    const arena = new Uint32Array(capacity * this.stride);
    arena.set(this.arena);
    this.arena = arena;
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    this.slots = new Int32Array(capacity * 2);
    this.mask = this.slots.length - 1;
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
