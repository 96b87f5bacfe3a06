import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultlineError } from '../../src/core/errors.js';
import { registerToxic } from '../../src/proxy/toxic-registry.js';
import { noop } from '../../src/proxy/toxics/noop.js';
import { startHub } from './helpers.js';

const prototypeNames = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

test('attribute names are a toxic kind’s own: prototype names are refused, not inherited or dropped', async (t) => {
  const hub = startHub(t);
  await hub.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
  await hub.addToxic('p', { type: 'latency', name: 'kept', attributes: { latency: 5 } });
  for (const name of prototypeNames) {
    // JSON.parse keeps `__proto__` as an own key, as an API request body carries it.
    const attributes = JSON.parse(`{"${name}": 5}`);
    const refusal = (error: FaultlineError): boolean => {
      assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
      assert.match(
        error.message,
        new RegExp(`^attributes\\.${name}: unknown attribute "${name}" for latency`),
      );
      return true;
    };
    await assert.rejects(hub.addToxic('p', { type: 'latency', attributes }), refusal);
    await assert.rejects(hub.updateToxic('p', 'kept', { attributes }), refusal);
  }
  const toxics = await hub.toxics('p');
  assert.equal(toxics.length, 1, 'nothing was added');
  assert.deepEqual({ ...toxics[0]?.attributes }, { latency: 5, jitter: 0 }, 'nothing was changed');
});

test('a registered toxic kind’s name must be kebab-case, its attribute names camelCase', () => {
  const spec = { default: 0, unit: 'ms', description: 'x' };
  assert.throws(
    () => registerToxic({ ...noop, name: 'proto-attribute', attributes: JSON.parse('{"__proto__": {}}') }),
    /attributes\.__proto__: must be camelCase/,
  );
  assert.throws(
    () => registerToxic({ ...noop, name: 'snake-attribute', attributes: { delay_ms: spec } }),
    /attributes\.delay_ms: must be camelCase/,
  );
  assert.throws(() => registerToxic({ ...noop, name: 'snake_name' }), /name: must be kebab-case/);
  assert.throws(
    () => registerToxic({ ...noop, name: 'reserved-attribute', attributes: { stream: spec } }),
    /attributes\.stream: is a parameter every toxic fault has/,
  );
});
