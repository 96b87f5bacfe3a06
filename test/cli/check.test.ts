import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './run-cli.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-check-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Line = [process: number, type: string, f: string, value: unknown, time: number];

async function historyFile(name: string, lines: Line[] | string): Promise<string> {
  const text =
    typeof lines === 'string'
      ? lines
      : lines
          .map(([process, type, f, value, time]) => JSON.stringify({ process, type, f, value, time }))
          .join('\n');
  const file = join(dir, name);
  await writeFile(file, `${text}\n`);
  return file;
}

// Process 1 reads 2 before anyone invoked the write of 2: the classic stale/future read.
const futureRead: Line[] = [
  [0, 'invoke', 'write', 1, 0],
  [0, 'ok', 'write', 1, 10],
  [1, 'invoke', 'read', null, 20],
  [1, 'ok', 'read', 2, 30],
  [0, 'invoke', 'write', 2, 40],
  [0, 'ok', 'write', 2, 50],
];

describe('faultline check', () => {
  it('exits 0 for a linearizable history', async () => {
    const file = await historyFile('ok.jsonl', [
      [0, 'invoke', 'write', 1, 0],
      [1, 'invoke', 'read', null, 5],
      [0, 'ok', 'write', 1, 10],
      [1, 'ok', 'read', 1, 15],
      [2, 'invoke', 'cas', [1, 3], 20],
      [2, 'ok', 'cas', [1, 3], 30],
      [1, 'invoke', 'read', null, 40],
      [1, 'ok', 'read', 3, 50],
    ]);
    const result = await runCli(['check', file, '--model', 'cas-register']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid: linearizability holds \(cas-register\)/);
  });

  it('exits 1 for a non-linearizable history and writes a self-contained HTML timeline', async () => {
    const file = await historyFile('future-read.jsonl', futureRead);
    const html = join(dir, 'timeline.html');
    const result = await runCli(['check', file, '--model', 'register', '--html', html]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /INVALID: linearizability violated \(register\)/);
    assert.match(result.stdout, new RegExp(`timeline: ${html.replace(/[.]/g, '\\.')}`));
    const page = await readFile(html, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /Not linearizable: register/);
    assert.match(page, /<svg[^>]*aria-label="operation timeline"/);
    assert.match(page, /process 0/);
    assert.match(page, /process 1/);
    assert.match(page, /stroke="#d92d20"/, 'the failing point and unplaced ops are marked');
    assert.doesNotMatch(
      page,
      /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)|\ssrc=/,
      'no scripts or network',
    );
  });

  it('prints the result as JSON with --json', async () => {
    const file = await historyFile('future-read-json.jsonl', futureRead);
    const result = await runCli(['check', file, '--model', 'register', '--json']);
    assert.equal(result.code, 1);
    const json = JSON.parse(
      result.stdout.slice(result.stdout.indexOf('{'), result.stdout.lastIndexOf('}') + 1),
    ) as {
      valid: boolean;
      counterexample: { blocking: number | null };
    };
    assert.equal(json.valid, false);
    assert.notEqual(json.counterexample.blocking, undefined);
  });

  it('exits 2 when the time budget runs out', async () => {
    // 22 concurrent writes of unknown outcome, then one process reads 0, 1, 0: impossible (write 0 takes
    // effect once), but proving it means searching the orders of the writes — far beyond 50 ms.
    const lines: Line[] = [];
    let time = 0;
    for (let p = 0; p < 22; p++) lines.push([p, 'invoke', 'write', p, time++]);
    for (const value of [0, 1, 0]) {
      lines.push([100, 'invoke', 'read', null, time++]);
      lines.push([100, 'ok', 'read', value, time++]);
    }
    const file = await historyFile('hard.jsonl', lines);
    const result = await runCli(['check', file, '--model', 'register', '--timeout', '50ms']);
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /unknown: time budget ran out after \d+ ms/);
  });

  it('runs the safety checkers with --checker', async () => {
    const file = await historyFile('set.jsonl', [
      [0, 'invoke', 'add', 1, 0],
      [0, 'ok', 'add', 1, 10],
      [1, 'invoke', 'add', 2, 20],
      [1, 'ok', 'add', 2, 30],
      [2, 'invoke', 'read', null, 40],
      [2, 'ok', 'read', [1], 50],
    ]);
    const result = await runCli(['check', file, '--checker', 'set']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /element 2 was acknowledged/);
  });

  it('exits 3 on bad input, naming the line and what was expected', async () => {
    const malformed = await historyFile(
      'malformed.jsonl',
      '{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"ok",',
    );
    const orphan = await historyFile('orphan.jsonl', [
      [0, 'invoke', 'write', 1, 0],
      [0, 'ok', 'write', 1, 10],
      [1, 'ok', 'read', 1, 20],
    ]);
    const badShape = await historyFile('bad-shape.jsonl', [
      [0, 'invoke', 'cas', 5, 0],
      [0, 'ok', 'cas', 5, 10],
    ]);
    const cases: [string[], RegExp][] = [
      [['check', malformed, '--model', 'register'], /line 2/],
      [['check', orphan, '--model', 'register'], /line 3: ok for process 1, which has no open call/],
      [['check', badShape, '--model', 'cas-register'], /line 1.*cas/],
      [['check', orphan, '--model', 'nope'], /unknown model "nope"; valid: register/],
      [['check', join(dir, 'missing.jsonl'), '--model', 'register'], /cannot read/],
      [['check', orphan], /either --model/],
      [['check', orphan, '--model', 'register', '--timeout', 'soon'], /--timeout: expected a duration/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
    }
  });
});
