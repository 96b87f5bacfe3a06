// Runs the Vitest suites (./*.vitest.ts, compiled) with Vitest itself, so that `npm test` (node:test)
// includes them: Vitest's own fake timers are what they test against.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, repositoryRoot, run } from '../support/scratch-project.js';

const vitest = join(repositoryRoot, 'node_modules', 'vitest', 'vitest.mjs');
const config = join(repositoryRoot, 'vitest.config.mjs');

function vitestRun(args: readonly string[]): ReturnType<typeof run> {
  return run(process.execPath, [vitest, 'run', '--config', config, '--reporter', 'verbose', ...args], {
    cwd: repositoryRoot,
    env: cleanEnv({ NO_COLOR: '1' }),
    timeoutMs: 110_000,
  });
}

test('the Vitest suites pass under Vitest', { timeout: 120_000 }, async () => {
  const result = await vitestRun([]);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.code, 0, output);
  assert.match(output, /Tests\s+\d+ passed/, output);
  assert.doesNotMatch(output, /(failed|skipped)/, output);
});

test('--tags-filter selects scenario tests by their experiment.tags', { timeout: 120_000 }, async () => {
  const file = join(repositoryRoot, 'dist', 'test', 'vitest', 'tags.vitest.js');
  // ✓ ran and passed, ↓ skipped: the verbose reporter's marks.
  const marks = (output: string): Record<string, string> =>
    Object.fromEntries(
      [...output.matchAll(/^ *([✓↓×]) \S+tags\.vitest\.js > (.+?)(?: \d+ms)?$/gm)].map((m) => [m[2], m[1]]),
    );
  const [network, notNetwork] = await Promise.all([
    vitestRun(['--tags-filter', 'chaos:network', file]),
    vitestRun(['--tags-filter', 'chaos && !chaos:network', file]),
  ]);
  for (const result of [network, notNetwork]) {
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  }
  assert.deepEqual(marks(network.stdout), {
    'slow link @chaos @chaos:network': '✓',
    'crash @chaos @chaos:process': '↓',
    untagged: '↓',
  });
  assert.deepEqual(marks(notNetwork.stdout), {
    'slow link @chaos @chaos:network': '↓',
    'crash @chaos @chaos:process': '✓',
    untagged: '↓',
  });
});
