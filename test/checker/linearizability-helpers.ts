import type { Op, OpType } from '../../src/history/op.js';

/** `[process, type, f, value]`: one event of a hand-written history. */
export type Line = readonly [process: number, type: OpType, f: string, value?: unknown];

/** A history from lines in order; each event's time is its position (so order = real time). */
export function history(lines: readonly Line[]): Op[] {
  return lines.map(([process, type, f, value], index) => ({
    process,
    type,
    f,
    value: value ?? null,
    time: index,
    index,
  }));
}

/** Shorthands: `call(p, f, v)` and `ret(p, f, v)` etc. */
export const call = (process: number, f: string, value: unknown = null): Line => [
  process,
  'invoke',
  f,
  value,
];
export const ok = (process: number, f: string, value: unknown = null): Line => [process, 'ok', f, value];
export const fail = (process: number, f: string, value: unknown = null): Line => [process, 'fail', f, value];
export const info = (process: number, f: string, value: unknown = null): Line => [process, 'info', f, value];
