/**
 * Shared by the soak (bench/soak) and its test (test/soak), which checks its report: the TCP scenarios
 * of the soak: one proxy each, in front of an echo server, with the toxics below, and
 * what every connection through it must see. Data-preserving scenarios must echo every byte back
 * (a lost byte is a failure); the others cut data on purpose and are held to their exact documented
 * behaviour instead (docs/toxics.md).
 */
import type { ToxicInput } from '../../src/api/hub.js';

/** How a client behaves: `half-close` writes its request and ends at once, then reads the whole reply
 * (HTTP/1.0, `nc -N`, `redis-cli < file`); `interactive` writes its request (in 1–3 pieces), reads the
 * whole reply, then ends. */
export type ClientMode = 'half-close' | 'interactive';
export const clientModes: readonly ClientMode[] = ['half-close', 'interactive'];

/** What one client connection saw, from its own side. Times are performance.now() ms. */
export interface ConnectionRecord {
  readonly scenario: string;
  readonly mode: ClientMode;
  /** Bytes of the request (the echo server returns them all). */
  readonly size: number;
  /** Bytes received back. */
  received: number;
  /** Leading received bytes equal to the request's. */
  matched: number;
  /** Received bytes (within the request's length) that differ from the request's. */
  differing: number;
  /** The peer's FIN arrived ('end'). */
  gotEnd: boolean;
  /** Socket error code, if any (ECONNRESET, EPIPE, …). */
  error: string | undefined;
  /** Destroyed by the soak after the per-connection deadline. */
  hung: boolean;
  connectStartMs: number;
  /** When the client called end(). */
  endSentMs: number | undefined;
  firstByteMs: number | undefined;
  /** When the peer's FIN or an error closed the connection. */
  closedMs: number | undefined;
}

export interface Scenario {
  readonly name: string;
  /** Added in this order (a direction's chain runs in the order toxics were added). */
  readonly toxics: readonly ToxicInput[];
  /** Every byte sent must come back (lost bytes are counted and fail the run). */
  readonly preserving: boolean;
  /** What the scenario promises, in a few words, for the table. */
  readonly expectation: string;
  /** Request sizes, bytes: log-uniform in [1, maxBytes]. */
  readonly maxBytes: number;
  /** Why this connection breaks the scenario's promise, or undefined when it keeps it. */
  check(record: ConnectionRecord): string | undefined;
}

/**
 * Node timers may fire early relative to performance.now() (docs/toxics.md, Timing): libuv counts from the
 * loop time of the iteration that set them, in whole ms, and under a soak's load one iteration can take a
 * few ms — a FIN 1.6 ms early was seen. Early by more than this is a real miss.
 */
const earlyMs = 3;

function clean(record: ConnectionRecord): string | undefined {
  if (record.hung) return 'hung (no close within the deadline)';
  if (record.received > record.size) return `got ${record.received} bytes for a ${record.size}-byte request`;
  if (record.differing > 0) return `${record.differing} bytes differ from the request`;
  return undefined;
}

/** Every byte back, unchanged, then a clean FIN. */
function wholeEcho(record: ConnectionRecord): string | undefined {
  const problem = clean(record);
  if (problem !== undefined) return problem;
  if (record.error !== undefined)
    return `error ${record.error} after ${record.received}/${record.size} bytes`;
  if (record.received !== record.size) return `lost ${record.size - record.received} of ${record.size} bytes`;
  if (!record.gotEnd) return 'closed without FIN';
  return undefined;
}

/** The FIN reached the client at least `delayMs` after the client's own end(). */
function slowClose(record: ConnectionRecord, delayMs: number): string | undefined {
  if (record.endSentMs === undefined || record.closedMs === undefined) return 'no close seen';
  const waited = record.closedMs - record.endSentMs;
  return waited >= delayMs - earlyMs
    ? undefined
    : `FIN came ${waited.toFixed(1)} ms after the client's end(), expected ≥ ${delayMs} ms (slow_close)`;
}

/** What a client that writes after the proxy closed its connection sees. */
function writeAfterClose(code: string): boolean {
  return code === 'EPIPE' || code === 'ECONNRESET';
}

const log2 = (n: number): number => Math.log(n) / Math.LN2;

export function requestSize(maxBytes: number, uniform: number): number {
  return Math.max(1, Math.min(maxBytes, Math.round(2 ** (uniform * log2(maxBytes)))));
}

const kib = 1024;

export const scenarios: readonly Scenario[] = [
  {
    name: 'noop',
    toxics: [{ type: 'noop', stream: 'both' }],
    preserving: true,
    expectation: 'all bytes back',
    maxBytes: 64 * kib,
    check: wholeEcho,
  },
  {
    name: 'latency',
    toxics: [
      { type: 'latency', stream: 'upstream', attributes: { latency: 10, jitter: 5 } },
      { type: 'latency', stream: 'downstream', attributes: { latency: 30, jitter: 10 } },
    ],
    preserving: true,
    expectation: 'all bytes back',
    maxBytes: 64 * kib,
    check: wholeEcho,
  },
  {
    name: 'bandwidth',
    toxics: [
      { type: 'bandwidth', stream: 'upstream', attributes: { rate: 2000 } },
      { type: 'bandwidth', stream: 'downstream', attributes: { rate: 500 } },
    ],
    preserving: true,
    expectation: 'all bytes back',
    maxBytes: 64 * kib,
    check: wholeEcho,
  },
  {
    name: 'slicer',
    toxics: [
      { type: 'slicer', stream: 'upstream', attributes: { average_size: 256, size_variation: 128 } },
      {
        type: 'slicer',
        stream: 'downstream',
        attributes: { average_size: 64, size_variation: 32, delay: 50 },
      },
    ],
    preserving: true,
    expectation: 'all bytes back',
    maxBytes: 64 * kib,
    check: wholeEcho,
  },
  {
    name: 'slow_close',
    toxics: [{ type: 'slow_close', stream: 'downstream', attributes: { delay: 100 } }],
    preserving: true,
    expectation: 'all bytes back, FIN ≥ 100 ms after end()',
    maxBytes: 64 * kib,
    check: (record) => wholeEcho(record) ?? slowClose(record, 100),
  },
  {
    name: 'slow_open',
    toxics: [{ type: 'slow_open', stream: 'upstream', attributes: { delay: 50 } }],
    preserving: true,
    expectation: 'all bytes back, first ≥ 50 ms after connect',
    maxBytes: 64 * kib,
    check: (record) => {
      const problem = wholeEcho(record);
      if (problem !== undefined || record.firstByteMs === undefined) return problem;
      const waited = record.firstByteMs - record.connectStartMs;
      return waited >= 50 - earlyMs
        ? undefined
        : `first byte ${waited.toFixed(1)} ms after connect, expected ≥ 50 ms (slow_open)`;
    },
  },
  {
    name: 'mix',
    toxics: [
      { type: 'slow_open', stream: 'upstream', attributes: { delay: 20 } },
      { type: 'latency', stream: 'downstream', attributes: { latency: 10, jitter: 5 } },
      {
        type: 'slicer',
        stream: 'downstream',
        attributes: { average_size: 32, size_variation: 16, delay: 20 },
      },
      { type: 'bandwidth', stream: 'downstream', attributes: { rate: 1000 } },
      { type: 'noop', stream: 'both' },
      { type: 'slow_close', stream: 'downstream', attributes: { delay: 50 } },
    ],
    preserving: true,
    expectation: 'all bytes back, FIN ≥ 50 ms after end()',
    maxBytes: 32 * kib,
    check: (record) => wholeEcho(record) ?? slowClose(record, 50),
  },
  {
    name: 'limit_data',
    toxics: [{ type: 'limit_data', stream: 'downstream', attributes: { bytes: 4096 } }],
    preserving: false,
    expectation: 'exactly min(size, 4096) bytes back, then FIN',
    maxBytes: 16 * kib,
    check: (record) => {
      const problem = clean(record);
      if (problem !== undefined) return problem;
      const expected = Math.min(record.size, 4096);
      // An interactive client writing after the proxy closed gets EPIPE, and Node then drops what it had
      // not read yet: a prefix is all it can show.
      const cut =
        record.mode === 'interactive' && record.error !== undefined && writeAfterClose(record.error);
      if (cut ? record.received > expected : record.received !== expected)
        return `got ${record.received} bytes, expected exactly ${expected} (limit_data 4096)${record.error ? `, error ${record.error}` : ''}`;
      if (!record.gotEnd && record.error === undefined) return 'closed without FIN';
      return undefined;
    },
  },
  {
    name: 'timeout',
    toxics: [{ type: 'timeout', stream: 'downstream', attributes: { timeout: 100 } }],
    preserving: false,
    expectation: 'no bytes back, FIN ≥ 100 ms after connect',
    maxBytes: 16 * kib,
    check: (record) => {
      const problem = clean(record);
      if (problem !== undefined) return problem;
      if (record.received !== 0) return `got ${record.received} bytes through a timeout toxic`;
      // An interactive client still writing when the proxy closes gets EPIPE (or a reset) instead of the FIN.
      if (record.error !== undefined && !(record.mode === 'interactive' && writeAfterClose(record.error)))
        return `error ${record.error}, expected a FIN`;
      if ((!record.gotEnd && record.error === undefined) || record.closedMs === undefined)
        return 'closed without FIN';
      const waited = record.closedMs - record.connectStartMs;
      return waited >= 100 - earlyMs
        ? undefined
        : `closed ${waited.toFixed(1)} ms after connect, expected ≥ 100 ms (timeout)`;
    },
  },
  {
    name: 'reset_peer',
    toxics: [{ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 20 } }],
    preserving: false,
    expectation: 'no bytes back, ECONNRESET ≥ 20 ms after connect',
    maxBytes: 16 * kib,
    check: (record) => {
      const problem = clean(record);
      if (problem !== undefined) return problem;
      if (record.received !== 0) return `got ${record.received} bytes through reset_peer`;
      if (record.error !== 'ECONNRESET') return `ended with ${record.error ?? 'FIN'}, expected ECONNRESET`;
      const waited = (record.closedMs ?? 0) - record.connectStartMs;
      return waited >= 20 - earlyMs
        ? undefined
        : `reset ${waited.toFixed(1)} ms after connect, expected ≥ 20 ms (reset_peer)`;
    },
  },
  {
    // bandwidth first, so the close of limit_time cuts what bandwidth still holds.
    name: 'limit_time',
    toxics: [
      { type: 'bandwidth', stream: 'downstream', attributes: { rate: 200 } },
      { type: 'limit_time', stream: 'both', attributes: { time: 150 } },
    ],
    preserving: false,
    expectation: 'a prefix back; if cut, FIN ≥ 150 ms after connect',
    maxBytes: 64 * kib,
    check: (record) => {
      const problem = clean(record);
      if (problem !== undefined) return problem;
      if (record.received === record.size && record.error === undefined) return undefined;
      if (record.error !== undefined && !(record.mode === 'interactive' && writeAfterClose(record.error)))
        return `error ${record.error} after ${record.received}/${record.size} bytes, expected a FIN`;
      const waited = (record.closedMs ?? 0) - record.connectStartMs;
      return waited >= 150 - earlyMs
        ? undefined
        : `cut at ${record.received}/${record.size} bytes ${waited.toFixed(1)} ms after connect, expected ≥ 150 ms`;
    },
  },
  {
    name: 'corrupt',
    toxics: [{ type: 'corrupt', stream: 'downstream', attributes: { probability: 0.0005 } }],
    preserving: false,
    expectation: 'length preserved (bits flipped)',
    maxBytes: 64 * kib,
    check: (record) => {
      if (record.hung) return 'hung (no close within the deadline)';
      if (record.error !== undefined)
        return `error ${record.error} after ${record.received}/${record.size} bytes`;
      if (record.received !== record.size)
        return `got ${record.received} bytes for ${record.size}: corrupt must keep the length`;
      if (!record.gotEnd) return 'closed without FIN';
      return undefined;
    },
  },
];

/** Figures of one scenario and client mode. */
export interface ModeFigures {
  connections: number;
  bytesSent: number;
  bytesReceived: number;
  /** Data-preserving scenarios: bytes sent that did not come back intact. */
  lostBytes: number;
  /** Connections that broke the scenario's promise. */
  violations: number;
  /** Up to a few of their descriptions. */
  examples: string[];
  /** Socket errors seen, by code (expected ones included: reset_peer's ECONNRESET). */
  errors: Record<string, number>;
  /** Bytes that came back changed (corrupt). */
  differingBytes: number;
}

export type ScenarioFigures = Record<ClientMode, ModeFigures>;
