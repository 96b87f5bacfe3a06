// Run with: npx tsc -p . && node --test dist/examples/udp-sync/protocol.test.js
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decode,
  encode,
  isJsonValue,
  MAX_DATAGRAM_BYTES,
  MAX_STATE_BYTES,
  type Message,
  stateBytes,
} from './protocol.js';

const session = '0123456789abcdef0123456789abcdef';

test('every message survives an encode/decode round trip', () => {
  const messages: Message[] = [
    {
      type: 'sync',
      session,
      packet: 9,
      seq: 4,
      baseSeq: 2,
      set: { a: 1, b: { c: [true, null, 'x'] } },
      del: ['d'],
    },
    { type: 'sync', session, packet: 0, seq: 0, baseSeq: 0, set: {}, del: [] },
    { type: 'ack', session, seq: 4 },
    { type: 'reset', session },
  ];
  for (const message of messages) assert.deepEqual(decode(encode(message)), { ok: true, message });
});

test('a key named __proto__ stays a plain key', () => {
  const bytes = Buffer.from(
    `{"v":1,"t":"sync","s":"${session}","p":1,"seq":1,"base":0,"set":{"__proto__":{"x":1}},"del":[]}`,
  );
  const decoded = decode(bytes);
  assert.ok(decoded.ok && decoded.message.type === 'sync');
  assert.deepEqual(Object.keys(decoded.message.set), ['__proto__']);
  assert.equal(Object.getPrototypeOf(decoded.message.set), Object.prototype);
});

test('malformed datagrams are rejected whole, with a reason', () => {
  const sync = (fields: string) => Buffer.from(`{"v":1,"t":"sync","s":"${session}",${fields}}`);
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not json'), /not JSON/],
    [Buffer.from('[1]'), /object/],
    [Buffer.from(`{"v":2,"t":"ack","s":"${session}","seq":1}`), /version/],
    [Buffer.from('{"v":1,"t":"ack","s":"short","seq":1}'), /session/],
    [Buffer.from(`{"v":1,"t":"hello","s":"${session}"}`), /unknown type/],
    [Buffer.from(`{"v":1,"t":"ack","s":"${session}","seq":-1}`), /seq/],
    [sync('"p":1,"seq":1.5,"base":0,"set":{},"del":[]'), /seq/],
    [sync('"p":1,"seq":1,"base":2,"set":{},"del":[]'), /base/],
    [sync('"seq":1,"base":0,"set":{},"del":[]'), /packet/],
    [sync('"p":1,"seq":1,"base":0,"set":[],"del":[]'), /set/],
    [sync('"p":1,"seq":1,"base":0,"set":{},"del":[1]'), /del/],
    [sync('"p":1,"seq":1,"base":0,"set":{"a":1},"del":["a"]'), /both/],
    [Buffer.alloc(MAX_DATAGRAM_BYTES + 1, 32), /exceeds/],
  ];
  for (const [bytes, reason] of cases) {
    const decoded = decode(bytes);
    assert.equal(decoded.ok, false, bytes.toString().slice(0, 80));
    if (!decoded.ok) assert.match(decoded.reason, reason);
  }
});

test('encode refuses a message that would not fit in one datagram', () => {
  const set = { big: 'x'.repeat(MAX_DATAGRAM_BYTES) };
  assert.throws(
    () => encode({ type: 'sync', session, packet: 1, seq: 1, baseSeq: 0, set, del: [] }),
    RangeError,
  );
});

test('the widest envelope around the largest state still fits a datagram', () => {
  const max = Number.MAX_SAFE_INTEGER;
  const filler = 'x'.repeat(MAX_STATE_BYTES - stateBytes({ k: '' }));
  const set = { k: filler };
  assert.equal(stateBytes(set), MAX_STATE_BYTES);
  assert.ok(
    encode({ type: 'sync', session, packet: max, seq: max, baseSeq: max, set, del: [] }).length <=
      MAX_DATAGRAM_BYTES,
  );
});

test('isJsonValue accepts plain JSON only', () => {
  for (const ok of [null, 1, 'a', true, [1, [2]], { a: { b: null } }]) assert.equal(isJsonValue(ok), true);
  for (const bad of [
    undefined,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    () => 1,
    new Date(0),
    new Map(),
    [undefined],
    { a: 1n },
  ]) {
    assert.equal(isJsonValue(bad), false, String(bad));
  }
});
