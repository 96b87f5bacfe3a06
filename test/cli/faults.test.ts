// `faultline faults`: the registry as people and tools read it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from './run-cli.js';

describe('faultline faults', () => {
  it('lists every kind, one line each, from every family', async () => {
    const result = await runCli(['faults']);
    assert.equal(result.code, 0, result.stderr);
    for (const kind of ['tcp.latency', 'udp.loss', 'net.partition']) {
      assert.match(result.stdout, new RegExp(`^${kind.replace('.', '\\.')}\\s+\\S`, 'm'), `${kind} listed`);
    }
  });

  it('shows one kind with its parameters: type, range, unit, default', async () => {
    const result = await runCli(['faults', 'tcp.latency']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ {2}latencyMs {2}number, ≥ 0, ms, default 0$/m);
    assert.match(result.stdout, /^ {2}proxy {2}a tcp-proxy, required$/m);
  });

  it('--json gives every kind with a JSON Schema that refuses unknown keys', async () => {
    const result = await runCli(['faults', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const kinds = JSON.parse(result.stdout) as { kind: string; schema: { additionalProperties: boolean } }[];
    assert.ok(kinds.length >= 26);
    for (const info of kinds) assert.equal(info.schema.additionalProperties, false, info.kind);
  });

  it('an unknown kind is a usage error naming the valid ones', async () => {
    const result = await runCli(['faults', 'tcp.latencyy']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown fault kind "tcp\.latencyy"; valid: .*tcp\.latency/);
  });
});
