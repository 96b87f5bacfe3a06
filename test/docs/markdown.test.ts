// The pieces examples.test.ts reads the docs with, on small pages of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assemble,
  buildPrograms,
  commentOutputs,
  docPorts,
  findInOrder,
  outputMatches,
  type Problem,
  parseMarkdown,
  rewritePorts,
  shellCommands,
} from './markdown.js';

const fence = '```';

function programsOf(text: string) {
  const problems: Problem[] = [];
  const built = buildPrograms(parseMarkdown('page.md', text, problems), problems);
  return { ...built, problems };
}

test('unmarked blocks are programs of their own; shell blocks of a page form one session', () => {
  const { programs, skipped, problems } = programsOf(
    [
      `${fence}ts`,
      'console.log(1);',
      fence,
      `${fence}sh`,
      'curl -s localhost:8474/version',
      fence,
      `${fence}json`,
      '{}',
      fence,
      `${fence}sh`,
      'curl -s localhost:8474/proxies',
      fence,
    ].join('\n'),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(skipped, []);
  assert.deepEqual(
    programs.map((p) => [p.name, p.code.length, p.shell.length]),
    [
      ['line-1', 1, 0],
      ['shell', 0, 2],
    ],
  );
});

test('markers group, skip and attach outputs; bad markers are problems', () => {
  const { programs, skipped, problems } = programsOf(
    [
      '<!-- example: g -->',
      `${fence}ts`,
      'const a = 1;',
      fence,
      'prose',
      '<!-- example: g -->',
      `${fence}ts`,
      'console.log(a);',
      fence,
      '<!-- output -->',
      fence,
      '1',
      fence,
      '<!-- not-run: a listing -->',
      `${fence}ts`,
      'interface X {}',
      fence,
      '<!-- not-run -->',
      `${fence}ts`,
      'y',
      fence,
      '<!-- exampel: typo -->',
      `${fence}ts`,
      'z',
      fence,
      '<!-- example: stray -->',
      '',
      'text',
    ].join('\n'),
  );
  assert.deepEqual(
    programs.map((p) => [p.name, p.code.map((b) => b.line), p.outputs.map((o) => o.block.line)]),
    [
      ['g', [2, 7], [11]],
      ['line-23', [23], []],
    ],
  );
  assert.deepEqual(
    skipped.map((s) => [s.block.line, s.reason]),
    [
      [15, 'a listing'],
      [19, ''],
    ],
  );
  assert.deepEqual(problems.map((p) => p.at).sort(), ['page.md:19', 'page.md:22', 'page.md:26']);
});

test('assemble: later parts in their own scope, imports hoisted, at the setup’s // … line', () => {
  const { programs } = programsOf(
    [
      '<!-- example: g -->',
      `${fence}ts`,
      "import { a } from 'a';",
      'const hub = a();',
      '// … more here …',
      'await hub.close();',
      fence,
      '<!-- example: g -->',
      `${fence}ts`,
      'import {',
      '  b,',
      "} from 'b'; // a comment",
      'const x = b(hub);',
      fence,
    ].join('\n'),
  );
  const source = assemble(programs[0]!);
  assert.equal(
    source.text,
    [
      'import {',
      '  b,',
      "} from 'b'; // a comment",
      "import { a } from 'a';",
      'const hub = a();',
      '{',
      '  const x = b(hub);',
      '}',
      '// … more here …',
      'await hub.close();',
      '',
    ].join('\n'),
  );
  assert.deepEqual(source.origins.slice(0, 6), [
    'page.md:10',
    'page.md:11',
    'page.md:12',
    'page.md:3',
    'page.md:4',
    null,
  ]);
});

test('ports are rewritten only where they are ports', () => {
  const text = [
    "startApiServer({ port: 8474 }); fetch('http://localhost:8474/x'); server.bind(5353, '127.0.0.1');",
    "argv: ['node', 'x.js', '--port', '8080'], upstream: '127.0.0.1:1', timeoutMs: 8474",
  ].join('\n');
  assert.deepEqual(docPorts(text), [5353, 8080, 8474]);
  const map = new Map([
    [8474, 40001],
    [5353, 40002],
    [8080, 40003],
  ]);
  assert.equal(
    rewritePorts(text, map),
    [
      "startApiServer({ port: 40001 }); fetch('http://localhost:40001/x'); server.bind(40002, '127.0.0.1');",
      "argv: ['node', 'x.js', '--port', '40003'], upstream: '127.0.0.1:1', timeoutMs: 8474",
    ].join('\n'),
  );
});

test('stated outputs: exact comments count, descriptions do not; … and loopback ports match anything', () => {
  const [block] = parseMarkdown(
    'p.md',
    [
      `${fence}js`,
      'console.log(x); // 3',
      'console.log(y); // about 500 ms ~',
      'console.log(z); // b … c',
      fence,
    ].join('\n'),
    [],
  );
  assert.deepEqual(commentOutputs(block!), [{ text: '3', at: 'p.md:2' }]);
  assert.ok(outputMatches('{"a":1,…}', '{"a":1,"b":2}'));
  assert.ok(outputMatches('listen 127.0.0.1:42113 ok', 'listen 127.0.0.1:40123 ok'));
  assert.ok(!outputMatches('{"a":1}', '{"a":2}'));
  assert.equal(
    findInOrder(
      [
        { text: 'b', at: '1' },
        { text: 'd', at: '2' },
      ],
      ['a', 'b', 'c', 'd'],
    ),
    undefined,
  );
  assert.deepEqual(
    findInOrder(
      [
        { text: 'd', at: '1' },
        { text: 'b', at: '2' },
      ],
      ['a', 'b', 'c', 'd'],
    ),
    { text: 'b', at: '2' },
  );
});

test('shell commands span continuation lines and quotes; the comment after one states its answer', () => {
  const [block] = parseMarkdown(
    'p.md',
    [
      `${fence}sh`,
      'curl -s -X POST localhost:8474/proxies \\',
      `  -d '{"name":"a"}'`,
      '# 201 {"name":"a",…}',
      '',
      "curl -s -X POST localhost:8474/populate -d '[",
      '  {"name":"b"}',
      "]'",
      '# 400 {"error":…}',
      '#     (and nothing was created)',
      'curl -s localhost:8474/version',
      '# {"version": "2.12.0"}',
      'curl -s localhost:8474/proxies',
      '# prose, not an answer',
      fence,
    ].join('\n'),
    [],
  );
  assert.deepEqual(
    shellCommands(block!).map((c) => [c.at, c.status, c.body, c.text.split('\n').length]),
    [
      ['p.md:2', 201, '{"name":"a",…}', 2],
      ['p.md:6', 400, '{"error":…}', 3],
      ['p.md:11', undefined, '{"version": "2.12.0"}', 1],
      ['p.md:13', undefined, undefined, 1],
    ],
  );
});
