// The tests stand on their own: nothing under test/ imports from bench/ (code both need lives in
// test/support/, which bench/ may import). Running a benchmark as a program (the soak test starts
// bench/soak/main.js) is not an import and is allowed.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { repositoryRoot } from '../support/scratch-project.js';

/** The module specifiers a TypeScript file imports or re-exports, statically or dynamically. */
function importSpecifiers(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm, // import … from '…', export … from '…'
    /^\s*import\s*['"]([^'"]+)['"]/gm, // import '…' (side effects only)
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('…')
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1] ?? ''));
}

/** `test/...: specifier` for every import from a file under test/ that lands in bench/. */
function benchImports(): string[] {
  const testDir = join(repositoryRoot, 'test');
  const benchDir = join(repositoryRoot, 'bench');
  const files = readdirSync(testDir, { recursive: true })
    .map(String)
    .filter((file) => /\.(ts|mts|js|mjs)$/.test(file));
  return files.flatMap((file) => {
    const path = join(testDir, file);
    return importSpecifiers(readFileSync(path, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .filter((specifier) => `${resolve(dirname(path), specifier)}${sep}`.startsWith(`${benchDir}${sep}`))
      .map((specifier) => `${relative(repositoryRoot, path)}: ${specifier}`);
  });
}

describe('test/ does not import bench/', () => {
  test('the scan finds every form of import', () => {
    const text = [
      "import { a } from '../../bench/a.js';",
      "import type { B } from '../bench/b.js';",
      'import {\n  c,\n  d,\n} from "../../bench/c.js";',
      "export { e } from './e.js';",
      "import '../bench/side-effect.js';",
      "const f = await import('../bench/f.js');",
      "const g = require('../bench/g.js');",
      "const h = new URL('../bench/main.js', import.meta.url); // a path, not an import",
    ].join('\n');
    assert.deepEqual(importSpecifiers(text), [
      '../../bench/a.js',
      '../bench/b.js',
      '../../bench/c.js',
      './e.js',
      '../bench/side-effect.js',
      '../bench/f.js',
      '../bench/g.js',
    ]);
  });

  test('no file under test/ imports from bench/', () => {
    assert.deepEqual(benchImports(), [], 'move what both need into test/support/');
  });
});
