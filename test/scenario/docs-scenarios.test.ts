// Every TOML scenario shown in docs/scenarios.md and under examples/scenarios/ is valid as written.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import '../../src/scenario/fault-families.js';
import { readDocument } from '../../src/scenario/document.js';
import { validateScenario } from '../../src/scenario/format.js';

const root = new URL('../../../', import.meta.url);

it('the scenarios in docs/scenarios.md and examples/scenarios/ validate', () => {
  const page = readFileSync(new URL('docs/scenarios.md', root), 'utf8');
  const blocks = [...page.matchAll(/```toml\n([\s\S]*?)```/g)].map((match, i) => [
    `docs/scenarios.md block ${i + 1}`,
    match[1] as string,
  ]);
  const examples = readdirSync(new URL('examples/scenarios/', root)).map((file) => [
    `examples/scenarios/${file}`,
    readFileSync(new URL(`examples/scenarios/${file}`, root), 'utf8'),
  ]);
  assert.ok(blocks.length >= 2 && examples.length >= 1);
  for (const [name, text] of [...blocks, ...examples] as [string, string][]) {
    const scenario = validateScenario(readDocument(`${name}.toml`.replace(/\.toml\.toml$/, '.toml'), text));
    assert.ok(scenario.experiment.name.length > 0, name);
  }
});
