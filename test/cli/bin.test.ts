import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url); // dist/test/cli/ → the repository
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

test('the faultline bin keeps its run bit after a build and runs as a command', () => {
  const bin = fileURLToPath(new URL(packageJson.bin.faultline as string, root));
  assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is not executable`);
  assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), packageJson.version);
});
