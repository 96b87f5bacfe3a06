import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCommand, checkExit, checkExitFor } from '../../src/cli/check-command.js';
import { codes } from '../../src/core/codes.js';
import { FaultlineError } from '../../src/core/errors.js';
import { decodeHistory } from '../../src/history/decode.js';
import { runCli } from './run-cli.js';

// Tests run from dist/test/cli; fixtures stay in the source tree.
const fixturePath = (name: string): string =>
  new URL(`../../../test/history/fixtures/${name}`, import.meta.url).pathname;

/** `faultline check …` in this process, through the same function the CLI runs. */
async function checkHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await checkCommand(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

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
    // effect once), but proving it means searching the orders of the writes — far beyond 50 ms. A second
    // write of 1 makes a value repeat, so the distinct-values algorithm leaves it to the search.
    const lines: Line[] = [];
    let time = 0;
    for (let p = 0; p < 22; p++) lines.push([p, 'invoke', 'write', p, time++]);
    lines.push([22, 'invoke', 'write', 1, time++]);
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

  it('exits 3 only for the error codes of bad input; any other error, a FaultlineError too, is internal (70)', () => {
    for (const code of [codes.invalidArgument, codes.usage, codes.invalidDuration, codes.config]) {
      assert.equal(checkExitFor(new FaultlineError(code, 'bad input')), checkExit.badInput, code);
    }
    for (const code of [codes.aborted, codes.internal, codes.timeout, codes.notFound, codes.permission]) {
      assert.equal(checkExitFor(new FaultlineError(code, 'a defect')), checkExit.internalError, code);
    }
    assert.equal(checkExitFor(new TypeError('a defect')), checkExit.internalError);
    assert.equal(checkExitFor('thrown text'), checkExit.internalError);
  });

  it('names the file in a checker error even when its message happens to start with the file name', async () => {
    // A history file named "line": the checker's "line 1: …" starts with it, and must still get "line: ".
    await writeFile(
      join(dir, 'line'),
      '{"process":0,"type":"invoke","f":"frob","value":1}\n{"process":0,"type":"ok","f":"frob","value":1}\n',
    );
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const result = await checkHere(['line', '--model', 'register']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(
        result.stderr,
        /^faultline check: line: line 1: the register model has no operation "frob"/,
      );
      const set = await checkHere(['line', '--checker', 'set']);
      assert.match(set.stderr, /^faultline check: line: line 1: set checker: unknown f "frob"/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses garbage, an empty file and a file in another format with exit 3, naming the file and line', async () => {
    const random = join(dir, 'random.bin');
    await writeFile(random, Buffer.from([0x9f, 0x00, 0xff, 0x41, 0x0a, 0xc3]));
    const text = await historyFile('prose.txt', 'Dear reader,\nthis is not a history.');
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    const cases: [string[], RegExp][] = [
      [[random], /random\.bin: line 1, column 1: not UTF-8 text/],
      [[text], /prose\.txt: line 1: no Jepsen log op line in 2 non-blank lines: expected a line such as/],
      [[empty], /empty\.jsonl: line 1: no operations: expected at least one op, got an empty file/],
      [
        [fixturePath('history.edn'), '--format', 'jepsen-log'],
        /history\.edn: line 1: no Jepsen log op line .*looks like EDN/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(['check', ...args, '--model', 'register']);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stdout, /valid/);
    }
  });

  it('refuses other wrong formats and blank or comment-only files in process too', async () => {
    const blank = await historyFile('blank.jsonl', '\n   \n');
    const comments = await historyFile('comments.edn', '; nothing but a comment');
    const cases: [string[], RegExp][] = [
      [[blank], /blank\.jsonl: line 3: no operations: .*got only blank lines/],
      [[comments], /comments\.edn: line 1: no operations/],
      [[fixturePath('history.jsonl'), '--format', 'edn'], /history\.jsonl: line 1, column \d+: /],
      [
        [fixturePath('history.jsonl'), '--format', 'jepsen-log'],
        /history\.jsonl: line 1: .*looks like JSON lines/,
      ],
      [[fixturePath('history.edn'), '--format', 'jsonl'], /history\.edn: line 1, column 1: not valid JSON/],
      [[fixturePath('jepsen.log'), '--format', 'edn'], /jepsen\.log: line 1, column 1: malformed number/],
      [[fixturePath('jepsen.log'), '--format', 'jsonl'], /jepsen\.log: line 1, column 1: not valid JSON/],
    ];
    for (const [args, pattern] of cases) {
      const result = await checkHere([...args, '--model', 'register']);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern);
    }
  });

  it('still reads the legitimate fixtures in every format they are in', async () => {
    for (const [name, format] of [
      ['history.jsonl', 'jsonl'],
      ['history.edn', 'edn'],
      ['jepsen.log', 'jepsen-log'],
    ] as const) {
      const data = await readFile(fixturePath(name));
      assert.equal(decodeHistory(data, { file: name }).format, format);
      assert.ok(decodeHistory(data, { file: name, format }).ops.length > 0);
    }
    const edn = await historyFile(
      'rich.edn',
      [
        '; comments, commas, records, discards, sets, maps and keywords',
        '[{:process 0, :type :invoke, :f :write, :value {:k #{1 2} "s" [:a nil]}, :time 1}',
        ' #_{:process 9 :type :nonsense}',
        ' #jepsen.history.Op{:process 0, :type :ok, :f :write, :value {"s" [:a nil] :k #{1 2}}, :time 2}',
        ' {:process :nemesis, :type :info, :f :start, :value [:isolated {"n1" #{"n2"}}], :time 3}',
        ' {:process 1, :type :invoke, :f :read, :value nil, :time 4} ; a read',
        ' {:process 1, :type :ok, :f :read, :value {:k #{1 2}, "s" [:a nil]}, :time 5}]',
      ].join('\n'),
    );
    for (const args of [
      [edn, '--model', 'register'],
      [fixturePath('history.jsonl'), '--model', 'register'],
    ]) {
      const result = await checkHere(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /valid: linearizability holds/);
    }
    const log = await checkHere([fixturePath('jepsen.log'), '--model', 'cas-register']);
    assert.equal(log.code, 1, log.stderr);
    assert.match(log.stdout, /jepsen-log, 10 ops, 4 non-op lines skipped/);
  });

  it('reads integers beyond 2^53 in JSON lines exactly: writes that differ only there are told apart', async () => {
    // Written 2^53 + 1, then read 2^53: not linearizable. Rounded to doubles both are 2^53 and it would pass.
    const lines: Line[] = [
      [0, 'invoke', 'write', 9007199254740993n, 0],
      [0, 'ok', 'write', 9007199254740993n, 10],
      [1, 'invoke', 'read', null, 20],
      [1, 'ok', 'read', 9007199254740992n, 30],
    ];
    const jsonl = await historyFile(
      'big.jsonl',
      lines
        .map(([process, type, f, value, time]) =>
          JSON.stringify({ process, type, f, value: value === null ? null : `@${value}@`, time }).replace(
            /"@(\d+)@"/,
            '$1',
          ),
        )
        .join('\n'),
    );
    assert.match(await readFile(jsonl, 'utf8'), /"value":9007199254740993,/);
    const edn = await historyFile(
      'big.edn',
      lines
        .map(
          ([process, type, f, value, time]) =>
            `{:process ${process} :type :${type} :f :${f} :value ${value ?? 'nil'} :time ${time}}`,
        )
        .join('\n'),
    );
    for (const file of [jsonl, edn]) {
      const result = await checkHere([file, '--model', 'register']);
      assert.equal(result.code, 1, `${file}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /INVALID: linearizability violated \(register\)/);
      assert.match(result.stdout, /read → 9007199254740992n/);
    }
    const spawned = await runCli(['check', jsonl, '--model', 'register']);
    assert.equal(spawned.code, 1, spawned.stderr);
  });

  it('tells EDN map values apart by content (maps with vector keys are Maps)', async () => {
    const file = await historyFile(
      'maps.edn',
      [
        '{:process 0 :type :invoke :f :write :value {[1] 1}}',
        '{:process 0 :type :ok :f :write :value {[1] 1}}',
        '{:process 1 :type :invoke :f :read :value nil}',
        '{:process 1 :type :ok :f :read :value {[2] 2}}',
      ].join('\n'),
    );
    const result = await checkHere([file, '--model', 'register']);
    assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
  });

  it('gives EDN maps with non-string keys and EDN sets their value identity (Map/Set by content)', async () => {
    const edn = (name: string, written: string, read: string, f = 'write', readF = 'read') =>
      historyFile(
        name,
        [
          `{:process 0 :type :invoke :f :${f} :value ${written}}`,
          `{:process 0 :type :ok :f :${f} :value ${written}}`,
          `{:process 1 :type :invoke :f :${readF} :value nil}`,
          `{:process 1 :type :ok :f :${readF} :value ${read}}`,
        ].join('\n'),
      );
    const cases: [file: string, args: string[], code: number][] = [
      // different values under a vector key: not the value written
      [await edn('vector-key.edn', '{[1 2] 3}', '{[1 2] 4}'), ['--model', 'register'], 1],
      [await edn('vector-key-same.edn', '{[1 2] 3}', '{[1 2] 3}'), ['--model', 'register'], 0],
      // number keys are not string keys: {1 :a} is not {"1" :a}
      [await edn('number-key.edn', '{1 :a}', '{"1" :a}'), ['--model', 'register'], 1],
      // a set in another order is the same set
      [await edn('set-order.edn', '#{1 2}', '#{2 1}'), ['--model', 'register'], 0],
      [await edn('set-nested.edn', '[:k #{[1 2] #{3}}]', '[:k #{#{3} [1 2]}]'), ['--model', 'register'], 0],
      [await edn('set-differs.edn', '#{1 2}', '#{1 3}'), ['--model', 'register'], 1],
      // a set read of the set model and the set checker: Jepsen reads sets as #{…}
      [await edn('set-model.edn', '[1 2]', '#{[1 2]}', 'add'), ['--model', 'set'], 0],
      [await edn('set-model-lost.edn', '[1 2]', '#{}', 'add'), ['--model', 'set'], 1],
      [await edn('set-checker.edn', '[1 2]', '#{[1 2]}', 'add'), ['--checker', 'set'], 0],
    ];
    for (const [file, args, code] of cases) {
      const result = await checkHere([file, ...args]);
      assert.equal(result.code, code, `${file}: ${result.stdout}${result.stderr}`);
    }
  });

  it('refuses nesting deeper than 512 levels with exit 3, naming the line and column, never overflowing the stack', async () => {
    const value = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const jsonl = await historyFile(
      'deep.jsonl',
      `{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"ok","f":"write","value":${value}}`,
    );
    const edn = await historyFile('deep.edn', `{:process 0 :type :invoke :f :write :value ${value}}`);
    const discards = await historyFile('discards.edn', `${'#_'.repeat(100_000)}{}`);
    const log = await historyFile('deep.log', `INFO  jepsen.util - 0\t:invoke\t:write\t${value}`);
    const cases: [string, RegExp][] = [
      [jsonl, /deep\.jsonl: line 2, column 557: not valid JSON: nesting deeper than 512 levels/],
      [edn, /deep\.edn: line 1, column 555: nesting deeper than 512 levels/],
      [discards, /discards\.edn: line 1, column 1025: nesting deeper than 512 levels/],
      [log, /deep\.log: line 1, column 549: nesting deeper than 511 levels/],
    ];
    for (const [file, pattern] of cases) {
      const result = await checkHere([file, '--model', 'register']);
      assert.equal(result.code, 3, `${file}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern);
    }
  });
});
