import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFaultlineError } from '../../../src/core/errors.js';
import { UdpProxy, validateImpairments } from '../../../src/proxy/udp/udp-proxy.js';
import { startUdpProxy } from './helpers.js';

function rejects(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT'), `not a FaultlineError: ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('UDP proxy: bad input', () => {
  it('names the field and what would be valid', () => {
    rejects(
      () => validateImpairments({ loss: { probability: 2 } }, 'upstream'),
      'upstream.loss.probability: expected a number >= 0 and <= 1, got 2',
    );
    rejects(
      () => validateImpairments({ delay: { ms: -1 } }, 'downstream'),
      /^downstream\.delay\.ms: expected a number >= 0/,
    );
    rejects(
      () => validateImpairments({ jitter: { ms: 1 } }, 'upstream'),
      'upstream.jitter: unknown field; expected one of loss, delay, reorder, duplicate, corrupt, rate, blackhole',
    );
    rejects(
      () => validateImpairments({ loss: { model: 'gilbert-elliott', p: 0.1, r: 1.5 } }, 'upstream'),
      /^upstream\.loss\.r: expected a number >= 0 and <= 1, got 1\.5$/,
    );
    rejects(
      () => validateImpairments({ loss: { model: 'markov' } }, 'x'),
      /^x\.loss\.model: expected one of/,
    );
    rejects(
      () => validateImpairments({ loss: { probability: 0.1, burst: 2 } }, 'x'),
      /^x\.loss\.burst: unknown field; expected one of probability$/,
    );
    rejects(() => validateImpairments({ delay: { ms: 5, jitterMs: 'x' } }, 'x'), /^x\.delay\.jitterMs:/);
    rejects(
      () => validateImpairments({ delay: { ms: 5, distribution: 'pareto' } }, 'x'),
      /^x\.delay\.distribution:/,
    );
    rejects(() => validateImpairments({ reorder: { probability: 0.1, gap: 0 } }, 'x'), /^x\.reorder\.gap:/);
    rejects(
      () => validateImpairments({ duplicate: { probability: 0.1, copies: 1.5 } }, 'x'),
      /^x\.duplicate\.copies:/,
    );
    rejects(() => validateImpairments({ rate: { bytesPerSec: 0 } }, 'x'), /^x\.rate\.bytesPerSec:/);
    rejects(
      () => validateImpairments({ rate: { bytesPerSec: 10, queueBytes: -1 } }, 'x'),
      /^x\.rate\.queueBytes:/,
    );
    rejects(() => validateImpairments({ blackhole: 'yes' }, 'x'), /^x\.blackhole: expected true or false/);
    rejects(() => validateImpairments(null, 'x'), /^x: expected an object, got null$/);
    rejects(
      () => validateImpairments({ corrupt: { probability: Number.NaN } }, 'x'),
      /^x\.corrupt\.probability:/,
    );
  });

  it('returns a copy, so the caller changing its object later changes nothing', () => {
    const input = { loss: { probability: 0.1 } };
    const valid = validateImpairments(input, 'x');
    input.loss.probability = 0.9;
    assert.deepEqual(valid, { loss: { probability: 0.1 } });
  });

  it('a rejected impair() leaves both directions as they were', async (t) => {
    const proxy = await startUdpProxy(t, 9);
    proxy.impair('upstream', { loss: { probability: 0.1 } });
    proxy.impair('downstream', { delay: { ms: 5 } });
    const before = proxy.impairments();
    rejects(
      () => proxy.impair('both', { loss: { probability: 0.5 }, delay: { ms: -5 } }),
      /^both\.delay\.ms: expected a number >= 0/,
    );
    rejects(
      () => proxy.impair('sideways' as 'both', {}),
      'direction: expected one of "upstream", "downstream", "both", got "sideways"',
    );
    rejects(() => proxy.impair('upstream', { loss: { probability: 0.2 }, nonsense: 1 } as never), /nonsense/);
    assert.deepEqual(proxy.impairments(), before);
    // The returned object is a copy, too.
    const copy = proxy.impairments();
    (copy.upstream.loss as { probability: number }).probability = 1;
    assert.deepEqual(proxy.impairments(), before);
  });

  it('rejects bad options and bad roam arguments', async (t) => {
    rejects(
      () => new UdpProxy({ name: 'x', listen: 'nowhere', upstream: '127.0.0.1:1' }),
      /^listen: expected/,
    );
    rejects(
      () => new UdpProxy({ name: 'x', listen: ':0', upstream: '127.0.0.1:1', maxSessions: 0 }),
      /^maxSessions: expected an integer >= 1, got 0$/,
    );
    const proxy = await startUdpProxy(t, 9);
    await assert.rejects(proxy.roam({ address: 'not-an-ip' }), /address: expected an IPv4 address/);
    await assert.rejects(proxy.roam({ port: 70000 }), /port: expected an integer >= 0 and <= 65535/);
    await assert.rejects(proxy.roam({ client: '127.0.0.1:1' }), (error: unknown) =>
      isFaultlineError(error, 'FL_ERR_NOT_FOUND'),
    );
    rejects(() => proxy.roamEvery(-1), /^intervalMs:/);
    rejects(() => proxy.roamEvery(100, { addresses: [] }), /^addresses:/);
    rejects(() => proxy.roamEvery(100, { addresses: ['::1'] }), /^addresses\[0\]: expected an IPv4 address/);
  });

  it('start() on a taken port fails with FL_ERR_ADDRESS_IN_USE', async (t) => {
    const first = await startUdpProxy(t, 9);
    const second = new UdpProxy({ name: 'again', listen: first.listen, upstream: '127.0.0.1:9' });
    await assert.rejects(second.start(), (error: unknown) => {
      assert.ok(isFaultlineError(error, 'FL_ERR_ADDRESS_IN_USE'));
      assert.match(error.message, /^listen udp 127\.0\.0\.1:\d+: bind: address already in use$/);
      return true;
    });
    await second.stop();
  });
});
