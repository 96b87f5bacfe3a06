// scenarioTest on node:test: a scenario's experiment.tags go into the test's name as `@tag` words, so
// `--test-name-pattern` selects chaos tests by tag — checked with real `node --test` child runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScenarioInput } from '../../src/scenario/index.js';
import { runScenarioIn, type ScenarioTest, scenarioTest } from '../../src/testing/index.js';
import { cleanEnv } from '../support/scratch-project.js';

const testing = new URL('../../src/testing/index.js', import.meta.url).href;

const crashToml = `[experiment]
name = "crash"
tags = ["chaos", "chaos:process"]
seed = 2

[targets.svc]
type = "process"
argv = [${JSON.stringify(process.execPath)}, "-e", "setInterval(() => {}, 1000)"]
restart = "on-failure"

[[faults]]
kind = "process.kill"
at = "0s"
params = { target = "svc", signal = "SIGKILL" }
`;

const suite = (crashFile: string): string => `import { test } from 'node:test';
import { scenarioTest } from ${JSON.stringify(testing)};
const network = await scenarioTest({
  experiment: { name: 'slow link', tags: ['chaos', 'chaos:network'], seed: 1 },
  targets: { front: { type: 'tcp-proxy', upstream: '127.0.0.1:9' } },
  faults: [{ kind: 'tcp.latency', at: '0s', for: '20ms', params: { proxy: 'front', latencyMs: 5 } }],
});
const crash = await scenarioTest(${JSON.stringify(crashFile)});
test(network.name, network.options, network.run);
test(crash.name, crash.options, crash.run);
test('untagged', () => {});
`;

/** `node --test` of `file` with a name pattern (or none): each test's name and whether it ran or was skipped. */
async function nodeTest(file: string, pattern?: string): Promise<Record<string, string>> {
  const args = [
    '--test',
    '--test-reporter=tap',
    ...(pattern === undefined ? [] : ['--test-name-pattern', pattern]),
  ];
  const child = spawn(process.execPath, [...args, file], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const [code] = await once(child, 'close');
  assert.equal(code, 0, output);
  return Object.fromEntries(
    [...output.matchAll(/^ok \d+ - (.+?)( # SKIP.*)?$/gm)].map((m) => [m[1], m[2] ? 'skipped' : 'ran']),
  );
}

test('--test-name-pattern selects scenario tests by their tags', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-tags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const crashFile = join(dir, 'crash.toml');
  writeFileSync(crashFile, crashToml);
  const file = join(dir, 'chaos.test.mjs');
  writeFileSync(file, suite(crashFile));
  const [all, network, process, chaos] = await Promise.all([
    nodeTest(file),
    nodeTest(file, '@chaos:network'),
    nodeTest(file, '@chaos:process'),
    nodeTest(file, '@chaos\\b'),
  ]);
  const names = ['slow link @chaos @chaos:network', 'crash @chaos @chaos:process', 'untagged'];
  const expect = (...states: string[]) => Object.fromEntries(names.map((name, i) => [name, states[i]]));
  assert.deepEqual(all, expect('ran', 'ran', 'ran'));
  assert.deepEqual(network, expect('ran', 'skipped', 'skipped'));
  assert.deepEqual(process, expect('skipped', 'ran', 'skipped'));
  assert.deepEqual(chaos, expect('ran', 'ran', 'skipped'));
});

test('scenarioTest: name and tags from the experiment; a scenario that does not validate throws at once', async () => {
  const plain = await scenarioTest({ experiment: { name: 'no tags' } });
  assert.equal(plain.name, 'no tags');
  assert.deepEqual(plain.tags, []);
  assert.deepEqual(plain.options, { timeout: 660_000, tags: [] }); // the default 10m time limit + 1m
  await assert.rejects(
    scenarioTest({ experiment: { name: 'bad', tags: 'chaos' } } as unknown as ScenarioInput),
    /experiment\.tags/,
  );
});

/**
 * Never called: compiling it (this file is built with the project's strict tsc) proves the documented forms
 * fit node:test's own signatures — `test(x.name, x.options, x.run)`, and a test that awaits runScenarioIn.
 */
function documentedForms(x: ScenarioTest): void {
  test(x.name, x.options, x.run);
  test('inline', async (t) => {
    await runScenarioIn(t, { experiment: { name: 'typed', seed: 1 } });
  });
}
void documentedForms;
