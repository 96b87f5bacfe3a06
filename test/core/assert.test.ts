// Typos get a suggestion: `closest` names the one valid name a misspelling most likely meant, and the
// validators (one of a list, unknown parameter, unknown CLI flag) put it in their message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest, requireOneOf } from '../../src/core/assert.js';
import { validateParams } from '../../src/core/params.js';

describe('closest', () => {
  const kinds = ['tcp.latency', 'tcp.limit-data', 'tcp.limit-time', 'udp.delay', 'udp.loss'];
  it('names the valid name within two edits, swaps counting as one', () => {
    assert.equal(closest('tcp.latancy', kinds), 'tcp.latency');
    assert.equal(closest('tcp.lantecy', kinds), 'tcp.latency');
    assert.equal(closest('UDP.LOSS', kinds), 'udp.loss');
    assert.equal(closest('timeLimt', ['name', 'duration', 'timeLimit']), 'timeLimit');
  });
  it('names nothing when nothing is near, or two are as near', () => {
    assert.equal(closest('sideways', ['upstream', 'downstream', 'both']), undefined);
    assert.equal(closest('tcp.limit-dat', ['tcp.limit-data', 'tcp.limit-date']), undefined);
    assert.equal(closest('fast', ['auto', 'batch', 'dgram']), undefined); // short names: one edit at most
  });
  it('the validators put it in their message', () => {
    assert.throws(
      () => requireOneOf('udp.los', 'kind', kinds),
      /kind: got "udp\.los": did you mean "udp\.loss"\? Expected one of/,
    );
    assert.throws(
      () => requireOneOf('sideways', 'stream', ['upstream', 'both']),
      /stream: expected one of "upstream", "both", got "sideways"$/,
    );
    assert.throws(
      () => validateParams({ latencyMs: { type: 'number', description: 'ms' } }, { latencyMS: 5 }),
      /latencyMS: unknown parameter \(did you mean latencyMs\?\); valid: latencyMs/,
    );
  });
});

describe('an unknown command-line flag', () => {
  it('is named, with the flag it most likely meant', async () => {
    const { parseCommandLine } = await import('../../src/cli/usage.js');
    const options = { 'dry-run': { type: 'boolean' }, seed: { type: 'string' } } as const;
    assert.throws(
      () => parseCommandLine({ args: ['--dryrun'], options }, 'usage'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'FL_ERR_USAGE');
        assert.equal(error.message, 'unknown option --dryrun (did you mean --dry-run?)');
        return true;
      },
    );
    assert.throws(
      () => parseCommandLine({ args: ['--zzz'], options }, 'usage'),
      /^FaultlineError: unknown option --zzz$/,
    );
  });
});
