// The package's entry points: each lists its exports by name (no `export *`, so nothing internal leaks
// in by accident), and the root offers everything every subpath does — the same objects.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const publicDir = new URL('../../../src/public/', import.meta.url);
const entries = readdirSync(publicDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
const subpaths = entries.filter((file) => file !== 'index.ts').map((file) => file.replace(/\.ts$/, ''));

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

  it('every subpath is in package.json exports', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const subpath of subpaths)
      assert.ok(`./${subpath}` in manifest.exports, `./${subpath} is not exported`);
  });
});
