import { constants } from 'node:buffer';
import { freemem } from 'node:os';
import { formatSize } from '../core/size.js';

/** The default memory budget's share of the machine's available memory (per partition searched). */
export const defaultMemoryShare = 'a quarter of the available memory';

/**
 * The default memory budget of one partition's search: a quarter of `process.availableMemory()` (what
 * the process may still allocate, a cgroup limit included), at least 64 MiB, and at most what one typed
 * array may hold (V8's limit, 4 GiB on 64-bit Node), since the memo is a few flat arrays. With a
 * worker thread two partitions are searched at once: half of the available memory at most.
 */
export function defaultMaxMemoryBytes(): number {
  const available = typeof process.availableMemory === 'function' ? process.availableMemory() : freemem();
  const cap = Math.min(constants.MAX_LENGTH, 4 * 1024 ** 3);
  return Math.max(64 * 1024 ** 2, Math.min(cap, Math.floor(available / 4)));
}

/**
 * The checker's `memory budget ran out on …` reason, naming the budget and, for the default, where it
 * came from: `memory budget 1.5 GiB (a quarter of the available memory) ran out on …`.
 */
export function explainMemoryReason(reason: string, maxMemoryBytes: number, isDefault: boolean): string {
  const prefix = 'memory budget ran out';
  if (!reason.startsWith(prefix)) return reason;
  const origin = isDefault ? ` (${defaultMemoryShare})` : '';
  return `memory budget ${formatSize(maxMemoryBytes)}${origin} ran out${reason.slice(prefix.length)}`;
}
