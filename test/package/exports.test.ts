// The package's entry points: each lists its exports by name (no `export *`, so nothing internal leaks
// in by accident), and the root offers everything every subpath does — the same objects.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const publicDir = new URL('../../../src/public/', import.meta.url);
const entries = readdirSync(publicDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
const subpaths = entries.filter((file) => file !== 'index.ts').map((file) => file.replace(/\.ts$/, ''));

/** The names a module exports: `export { a, type B as C } from …` and `export class D` … */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of (match[1] as string).split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)
        ?.trim();
      if (name) names.add(name);
    }
  }
  for (const match of text.matchAll(/export\s+(?:class|function|const|type|interface)\s+(\w+)/g)) {
    names.add(match[1] as string);
  }
  return names;
}

describe('entry points', () => {
  it('name every export: no `export *` in src/public', () => {
    assert.ok(entries.length >= 9, `found ${entries.join(', ')}`);
    for (const file of entries) {
      const text = readFileSync(new URL(file, publicDir), 'utf8');
      assert.doesNotMatch(text, /export\s+\*/, `src/public/${file} re-exports with *`);
    }
  });

  it('the root offers every value each subpath exports, as the same object', async () => {
    const root = (await import('../../src/public/index.js')) as Record<string, unknown>;
    for (const subpath of subpaths) {
      const module = (await import(`../../src/public/${subpath}.js`)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        assert.ok(Object.hasOwn(root, name), `faultline/${subpath} exports ${name}; the root does not`);
        assert.equal(root[name], value, `the root's ${name} is another object than faultline/${subpath}'s`);
      }
    }
  });

  it('the root names every type and value each subpath names', () => {
    const root = exportedNames(readFileSync(new URL('index.ts', publicDir), 'utf8'));
    for (const subpath of subpaths) {
      const missing = [...exportedNames(readFileSync(new URL(`${subpath}.ts`, publicDir), 'utf8'))].filter(
        (name) => !root.has(name),
      );
      assert.deepEqual(missing, [], `faultline/${subpath} names these; the root does not`);
    }
  });

  it('every subpath is in package.json exports', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const subpath of subpaths)
      assert.ok(`./${subpath}` in manifest.exports, `./${subpath} is not exported`);
  });
});
