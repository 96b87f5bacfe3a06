// `faultline validate` and `faultline schema`: the format from the command line.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './run-cli.js';

const example = fileURLToPath(new URL('../../../examples/scenarios/slow-cache.toml', import.meta.url));

describe('faultline validate', () => {
  it('says ok for a valid file, and file:line:column for a bad one; exit 3 when any is bad', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-validate-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'experiment:\n  name: x\n  timeLimit: soon\n');
    const good = await runCli(['validate', example]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^ok .*slow-cache\.toml: "slow cache", 2 fault\(s\)$/m);
    const mixed = await runCli(['validate', example, bad]);
    assert.equal(mixed.code, 3);
    assert.match(mixed.stderr, /bad\.yaml:3:14: experiment\.timeLimit: expected a duration/);
    const missing = await runCli(['validate', join(dir, 'none.toml')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /none\.toml: ENOENT/);
    const none = await runCli(['validate']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /expected at least one scenario file/);
  });

  it('--schedule prints the resolved schedule: the same seed the same, another seed another', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-schedule-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const monkey = join(dir, 'monkey.yaml');
    await writeFile(
      monkey,
      [
        'experiment: { name: monkey, duration: 2m, timeLimit: 3m }',
        'targets: { db: { type: tcp-proxy, upstream: "127.0.0.1:5432" } }',
        'faults:',
        '  - every: 5s',
        '    for: 1s',
        '    probability: 0.5',
        '    oneOf:',
        '      - { kind: tcp.timeout, params: { proxy: db } }',
        '      - { kind: tcp.reset-peer, params: { proxy: db } }',
        '',
      ].join('\n'),
    );
    const run = async (seed: string) => {
      const result = await runCli(['validate', '--schedule', '--seed', seed, monkey]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout;
    };
    const first = await run('11');
    assert.match(first, /^ {2}seed 11: \d+ injection\(s\) within the method's 120 s$/m);
    assert.equal(await run('11'), first);
    assert.notEqual(await run('12'), first);
    const bad = await runCli(['validate', '--seed=1.5', monkey]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--seed: expected an integer/);
  });

  it('schema prints the format as JSON Schema', async () => {
    const result = await runCli(['schema']);
    assert.equal(result.code, 0, result.stderr);
    const schema = JSON.parse(result.stdout) as { $schema: string; properties: Record<string, unknown> };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    for (const section of [
      'experiment',
      'targets',
      'steadyState',
      'faults',
      'workload',
      'checks',
      'rollbacks',
    ]) {
      assert.ok(section in schema.properties, section);
    }
  });
});
