// Each folder of src/ owns its domain: a module imports from its own folder, from core/, and from another
// folder only through that folder's index.ts. src/public/ assembles the package's entry points and may
// pick from any folder's modules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const src = join(root, 'src');

/** Every relative specifier a module imports or re-exports from (static and dynamic). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g))
    found.push(match[1] as string);
  return found;
}

/** The imports of `file` (a path under src/) that break the rule, as `file: specifier`. */
function violations(file: string, text: string): string[] {
  const folder = file.split('/')[0] as string;
  if (folder === 'public') return [];
  return specifiers(text)
    .filter((specifier) => {
      const target = normalize(join(dirname(file), specifier));
      const [targetFolder, ...rest] = target.split('/');
      if (targetFolder === undefined || targetFolder.startsWith('..')) return true; // outside src/
      if (targetFolder === folder || targetFolder === 'core') return false;
      return rest.join('/') !== 'index.js';
    })
    .map((specifier) => `src/${file}: ${specifier}`);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => relative(src, join(dir, file)));
}

describe('folder boundaries', () => {
  it('the rule is checked as meant (a sample)', () => {
    assert.deepEqual(violations('net/link.ts', "import { TcpProxy } from '../proxy/tcp-proxy.js';"), [
      'src/net/link.ts: ../proxy/tcp-proxy.js',
    ]);
    assert.deepEqual(violations('net/link.ts', "import { TcpProxy } from '../proxy/index.js';"), []);
    assert.deepEqual(violations('net/link.ts', "import type { Clock } from '../core/clock.js';"), []);
    assert.deepEqual(violations('checker/models/kv.ts', "export { x } from '../../history/op.js';"), [
      'src/checker/models/kv.ts: ../../history/op.js',
    ]);
    assert.deepEqual(violations('checker/models/kv.ts', "import { y } from '../model.js';"), []);
    assert.deepEqual(violations('public/proxy.ts', "export { z } from '../proxy/hub.js';"), []);
    assert.deepEqual(violations('cli/main.ts', "const m = await import('../../scripts/x.js');"), [
      'src/cli/main.ts: ../../scripts/x.js',
    ]);
  });

  it('every module imports other folders only through their index.ts', () => {
    const found = sources(src).flatMap((file) => violations(file, readFileSync(join(src, file), 'utf8')));
    assert.deepEqual(found, []);
  });

  it('every folder that others import from has an index.ts', () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    const withIndex = new Set(
      folders.filter((f) => readdirSync(join(src, f.name)).includes('index.ts')).map((f) => f.name),
    );
    const imported = new Set(
      sources(src).flatMap((file) =>
        specifiers(readFileSync(join(src, file), 'utf8'))
          .map((specifier) => normalize(join(dirname(file), specifier)).split('/'))
          .filter(
            ([folder, rest]) => folder !== file.split('/')[0] && folder !== 'core' && rest === 'index.js',
          )
          .map(([folder]) => folder as string),
      ),
    );
    for (const folder of imported) assert.ok(withIndex.has(folder), `src/${folder} has no index.ts`);
  });
});
