/**
 * The udp-sync wire format: one JSON object per datagram, validated field by field on the way in.
 * See README.md in this folder for why these fields are enough to converge under loss, delay,
 * reordering and duplication.
 */

/** A JSON value: what a state may hold under a key. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The synchronised state: a flat map from key to JSON value. */
export type State = Record<string, JsonValue>;

export const PROTOCOL_VERSION = 1;

/** The largest datagram either side sends or accepts: below the common 1280-byte IPv6 minimum MTU. */
export const MAX_DATAGRAM_BYTES = 1200;

/**
 * The largest state (as compact JSON) a session may hold. A full-state sync must always fit in one
 * datagram, so the state gets the datagram budget minus room for the envelope at its widest.
 */
export const MAX_STATE_BYTES = 1000;

/**
 * Client → server. Every datagram the client sends is one of these, heartbeats included (a heartbeat
 * is a sync whose diff is empty because everything is acknowledged).
 */
export interface SyncMessage {
  readonly type: 'sync';
  /** 32 hex digits chosen by the client; the server keys sessions by it, never by source address. */
  readonly session: string;
  /** Datagram number, +1 per datagram sent: the server follows the source of the highest one (roaming). */
  readonly packet: number;
  /** The client's state version; +1 per local change. */
  readonly seq: number;
  /** The version this diff is relative to: the last one the server acknowledged, or 0 for "from empty". */
  readonly baseSeq: number;
  /** Keys whose value changed after baseSeq, with their values at seq. */
  readonly set: State;
  /** Keys deleted after baseSeq. */
  readonly del: readonly string[];
}

/** Server → client: "my copy of your state is your version `seq`". */
export interface AckMessage {
  readonly type: 'ack';
  readonly session: string;
  readonly seq: number;
}

/** Server → client: "I do not hold the base your diff needs; send me your whole state (baseSeq 0)". */
export interface ResetMessage {
  readonly type: 'reset';
  readonly session: string;
}

export type Message = SyncMessage | AckMessage | ResetMessage;

export type DecodeResult =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly reason: string };

const SESSION_PATTERN = /^[0-9a-f]{32}$/;

/** Short wire names keep datagrams small while staying readable in a packet capture. */
interface WireSync {
  v: number;
  t: 'sync';
  s: string;
  p: number;
  seq: number;
  base: number;
  set: State;
  del: readonly string[];
}

/** Encodes a message; throws if it would not fit in one datagram (a bug in the caller). */
export function encode(message: Message): Buffer {
  const wire =
    message.type === 'sync'
      ? ({
          v: PROTOCOL_VERSION,
          t: 'sync',
          s: message.session,
          p: message.packet,
          seq: message.seq,
          base: message.baseSeq,
          set: message.set,
          del: message.del,
        } satisfies WireSync)
      : message.type === 'ack'
        ? { v: PROTOCOL_VERSION, t: 'ack', s: message.session, seq: message.seq }
        : { v: PROTOCOL_VERSION, t: 'reset', s: message.session };
  const bytes = Buffer.from(JSON.stringify(wire), 'utf8');
  if (bytes.length > MAX_DATAGRAM_BYTES) {
    throw new RangeError(
      `udp-sync: a ${message.type} message of ${bytes.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`,
    );
  }
  return bytes;
}

/**
 * Decodes and validates a datagram. Anything unexpected is rejected whole: a datagram may be
 * truncated, corrupted or sent by a stranger, and a half-trusted message is worse than none.
 */
export function decode(bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_DATAGRAM_BYTES)
    return fail(`datagram of ${bytes.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  if (!isObject(wire)) return fail('not a JSON object');
  if (wire.v !== PROTOCOL_VERSION) return fail(`version ${String(wire.v)}, expected ${PROTOCOL_VERSION}`);
  const session = wire.s;
  if (typeof session !== 'string' || !SESSION_PATTERN.test(session))
    return fail('session: expected 32 hex digits');
  switch (wire.t) {
    case 'sync': {
      const { p: packet, seq, base: baseSeq, set, del } = wire;
      if (!isCount(packet)) return fail('packet: expected an integer >= 0');
      if (!isCount(seq)) return fail('seq: expected an integer >= 0');
      if (!isCount(baseSeq) || baseSeq > seq) return fail('base: expected an integer in 0..seq');
      if (!isObject(set)) return fail('set: expected an object');
      if (!Array.isArray(del) || !del.every((key) => typeof key === 'string')) {
        return fail('del: expected an array of keys');
      }
      if (del.some((key) => Object.hasOwn(set, key))) return fail('a key is both set and deleted');
      return { ok: true, message: { type: 'sync', session, packet, seq, baseSeq, set: set as State, del } };
    }
    case 'ack':
      if (!isCount(wire.seq)) return fail('seq: expected an integer >= 0');
      return { ok: true, message: { type: 'ack', session, seq: wire.seq } };
    case 'reset':
      return { ok: true, message: { type: 'reset', session } };
    default:
      return fail(`unknown type ${JSON.stringify(wire.t)}`);
  }
}

/** True for values that survive a JSON round trip unchanged (no undefined, NaN, functions, classes…). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > 32) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every((item) => isJsonValue(item, depth + 1));
  }
  return false;
}

/** Size of a state as compact JSON, the unit MAX_STATE_BYTES is stated in. */
export function stateBytes(state: State): number {
  return Buffer.byteLength(JSON.stringify(state), 'utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function fail(reason: string): DecodeResult {
  return { ok: false, reason };
}
