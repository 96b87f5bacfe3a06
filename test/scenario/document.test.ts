// Scenario documents: one model in TOML, YAML and JSON, read with the position of every value, so an
// error about a field names file:line:column in whichever syntax the user wrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invalid } from '../../src/core/assert.js';
import { codes } from '../../src/core/codes.js';
import { locateError } from '../../src/core/source.js';
import { formatOf, readDocument } from '../../src/scenario/document.js';

const toml = `# a scenario
[experiment]
name = "slow db"
seed = 42
tags = ["chaos", "chaos:network"]

[[faults]]
kind = "tcp.latency"
at = "5s"
params = { latencyMs = 200, stream = "both" }

[[faults]]
kind = "process.kill"
params.signal = "SIGKILL"
`;

const yaml = `# a scenario
experiment:
  name: slow db
  seed: 42
  tags: [chaos, "chaos:network"]
faults:
  - kind: tcp.latency
    at: 5s
    params: { latencyMs: 200, stream: both }
  - kind: process.kill
    params:
      signal: SIGKILL
`;

const json = `{
  "experiment": { "name": "slow db", "seed": 42, "tags": ["chaos", "chaos:network"] },
  "faults": [
    { "kind": "tcp.latency", "at": "5s", "params": { "latencyMs": 200, "stream": "both" } },
    { "kind": "process.kill", "params": { "signal": "SIGKILL" } }
  ]
}
`;

const expected = {
  experiment: { name: 'slow db', seed: 42, tags: ['chaos', 'chaos:network'] },
  faults: [
    { kind: 'tcp.latency', at: '5s', params: { latencyMs: 200, stream: 'both' } },
    { kind: 'process.kill', params: { signal: 'SIGKILL' } },
  ],
};

const sources = [
  ['s.toml', toml],
  ['s.yaml', yaml],
  ['s.json', json],
] as const;

/** The 1-based line and column where `needle` (the n-th occurrence) starts in `text`. */
function at(text: string, needle: string, occurrence = 1): string {
  let offset = -1;
  for (let i = 0; i < occurrence; i++) offset = text.indexOf(needle, offset + 1);
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

describe('scenario documents', () => {
  it('read the same model from TOML, YAML and JSON', () => {
    for (const [file, text] of sources) assert.deepEqual(readDocument(file, text).value, expected, file);
  });

  it('know where every field is, and an error about a field names file:line:column', () => {
    const cases = [
      ['s.toml', toml, '200', 'latencyMs', 'process.kill'],
      ['s.yaml', yaml, '200', 'latencyMs', 'process.kill'],
      ['s.json', json, '200', '"latencyMs"', '"process.kill"'],
    ] as const;
    for (const [file, text, value, key, second] of cases) {
      const document = readDocument(file, text);
      const bad = locateError(document, invalid('faults[0].params.latencyMs', 'expected a number <= 100'));
      assert.match(
        String(bad),
        new RegExp(`${file.replace('.', '\\.')}:${at(text, value)}: faults\\[0\\]\\.params\\.latencyMs: `),
      );
      assert.equal((bad as { code: string }).code, codes.config);
      // An unknown key is pointed at by its name, a missing one by where its object starts.
      const unknown = locateError(
        document,
        invalid('faults[0].params.latencyMs', 'unknown parameter; valid: x'),
      );
      assert.match(String(unknown), new RegExp(`:${at(text, key)}: `), `${file}: the key`);
      const missing = locateError(document, invalid('faults[1].params.target', 'is required'));
      assert.match(
        String(missing),
        new RegExp(`:${at(text, 'signal', file.endsWith('.toml') ? 1 : 1).split(':')[0]}:`),
        file,
      );
      assert.ok(document.positions.has('faults[1].kind'), `${file}: ${second}`);
    }
  });

  it('syntax errors name file:line:column in each syntax', () => {
    const broken = [
      ['b.toml', 'a = 1\nb = \n', /^b\.toml:\d+:\d+: invalid TOML: Unspecified values are invalid/],
      ['b.yaml', 'a: 1\n  b: [\n', /^b\.yaml:\d+:\d+: invalid YAML: /],
      ['b.json', '{"a": 1,\n "b": }', /^b\.json:2:7: invalid JSON: /],
    ] as const;
    for (const [file, text, pattern] of broken) {
      assert.throws(
        () => readDocument(file, text),
        (error: unknown) => {
          assert.equal((error as { code: string }).code, codes.config);
          assert.match((error as Error).message, pattern);
          return true;
        },
      );
    }
  });

  it('refuse duplicate keys, alias bombs and nesting past 64 levels', () => {
    assert.throws(() => readDocument('d.toml', 'a = 1\na = 2\n'), /d\.toml:2:\d+: invalid TOML/);
    assert.throws(
      () => readDocument('d.yaml', 'a: 1\na: 2\n'),
      /d\.yaml:2:1: invalid YAML: Map keys must be unique/,
    );
    assert.throws(() => readDocument('d.json', '{"a": 1, "a": 2}'), /d\.json:1:10: .*"a"/);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghij'
        .split('')
        .map(
          (c, i) =>
            `${c}: &${c} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
        ),
    ].join('\n');
    assert.throws(() => readDocument('bomb.yaml', bomb), /bomb\.yaml:1:1: invalid YAML: .*alias/i);
    const deep = (open: string, close: string) => `a = ${open.repeat(100)}1${close.repeat(100)}`;
    assert.throws(
      () => readDocument('deep.toml', deep('[', ']')),
      /deep\.toml:\d+:\d+: nested deeper than 64 levels|invalid TOML/,
    );
    assert.throws(
      () => readDocument('deep.yaml', `a: ${'['.repeat(100)}1${']'.repeat(100)}`),
      /deep\.yaml:1:1: nested deeper than 64 levels/,
    );
    assert.throws(
      () => readDocument('deep.json', `${'['.repeat(100)}1${']'.repeat(100)}`),
      /deep\.json:1:\d+: invalid JSON/,
    );
  });

  it('tell the format by extension, and refuse one they do not know', () => {
    assert.equal(formatOf('chaos/db.TOML'), 'toml');
    assert.equal(formatOf('a.yml'), 'yaml');
    assert.equal(formatOf('a.json'), 'json');
    assert.throws(() => formatOf('a.ini'), /a\.ini:1:1: cannot tell the format from "\.ini"/);
  });
});
