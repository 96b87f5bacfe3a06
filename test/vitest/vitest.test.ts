// Runs the Vitest suites (./*.vitest.ts, compiled) with Vitest itself, so that `npm test` (node:test)
// includes them: Vitest's own fake timers are what they test against.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, repositoryRoot, run } from '../support/scratch-project.js';

test('the Vitest suites pass under Vitest', { timeout: 120_000 }, async () => {
  const vitest = join(repositoryRoot, 'node_modules', 'vitest', 'vitest.mjs');
  const config = join(repositoryRoot, 'vitest.config.mjs');
  const result = await run(process.execPath, [vitest, 'run', '--config', config, '--reporter', 'verbose'], {
    cwd: repositoryRoot,
    env: cleanEnv({ NO_COLOR: '1' }),
    timeoutMs: 110_000,
  });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.code, 0, output);
  assert.match(output, /Tests\s+\d+ passed/, output);
  assert.doesNotMatch(output, /(failed|skipped)/, output);
});
