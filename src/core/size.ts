import { invalid } from './assert.js';

const unitBytes: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const sizePattern = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Parses a size such as `"512MiB"`, `"2GiB"`, `"1.5 GB"` or `"1048576"` (plain bytes) into whole bytes.
 * Binary (KiB, MiB, GiB, TiB) and decimal (kB, MB, GB, TB) units, case-insensitive. `field` names the
 * input in the error.
 */
export function parseSize(input: string | number, field = 'size'): number {
  const expected =
    'a size such as "512MiB", "2GiB", "1.5GB" (units B, kB, MB, GB, KiB, MiB, GiB, TiB) or bytes';
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input);
    throw invalid(field, `expected ${expected}, got ${String(input)}`, expected);
  }
  const match = sizePattern.exec(input.trim());
  const scale = match === null ? undefined : unitBytes[(match[2] ?? '').toLowerCase() || 'b'];
  if (match === null || scale === undefined) {
    throw invalid(field, `expected ${expected}, got ${JSON.stringify(input)}`, expected);
  }
  return Math.floor(Number(match[1]) * scale);
}

/** Bytes the way people read them, in binary units: `512 MiB`, `1.5 GiB`, `800 B`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(unit === 0 ? 0 : 2))} ${units[unit]}`;
}
