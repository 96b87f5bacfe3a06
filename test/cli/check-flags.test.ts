import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliPath, runCli } from './run-cli.js';

// The flags users asked for in issue 13: --initial, --f, --memory, --json alone on stdout, quiet EPIPE,
// anomalies summarised.

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-check-flags-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Line = [process: number, type: string, f: string, value: unknown, time: number];

async function historyFile(name: string, lines: readonly Line[]): Promise<string> {
  const text = lines
    .map(([process, type, f, value, time]) => JSON.stringify({ process, type, f, value, time }))
    .join('\n');
  const file = join(dir, name);
  await writeFile(file, `${text}\n`);
  return file;
}

/** `count` acknowledged adds, then a read that returns none of them: `count` lost writes for acked-writes. */
async function lostHistory(name: string, count: number): Promise<string> {
  const lines: Line[] = [];
  const start = 1_000_000_000; // absolute times: summaries count from the first op
  for (let i = 0; i < count; i++) {
    lines.push([i % 5, 'invoke', 'add', i, start + 2000 * i + 1000]);
    lines.push([i % 5, 'ok', 'add', i, start + 2000 * i + 2000]);
  }
  lines.push([9, 'invoke', 'read', null, start + 2000 * count + 1000]);
  lines.push([9, 'ok', 'read', [], start + 2000 * count + 2000]);
  return historyFile(name, lines);
}

// A register written 0 before recording started: the first read sees 0.
const preset: Line[] = [
  [0, 'invoke', 'read', null, 0],
  [0, 'ok', 'read', 0, 10],
  [1, 'invoke', 'put', 1, 20],
  [1, 'ok', 'put', 1, 30],
  [0, 'invoke', 'read', null, 40],
  [0, 'ok', 'read', 1, 50],
];

describe('faultline check --initial', () => {
  it('makes a register written before recording valid', async () => {
    const file = await historyFile('preset.jsonl', preset);
    const without = await runCli(['check', file, '--model', 'register', '--f', 'put=write']);
    assert.equal(without.code, 1, without.stderr);
    const withInitial = await runCli([
      'check',
      file,
      '--model',
      'register',
      '--f',
      'put=write',
      '--initial',
      '0',
    ]);
    assert.equal(withInitial.code, 0, `${withInitial.stdout}${withInitial.stderr}`);
    assert.match(withInitial.stdout, /valid: linearizability holds \(register\)/);
  });

  it('takes JSON, and a bare word that is not JSON as a string', async () => {
    const file = await historyFile('strings.jsonl', [
      [0, 'invoke', 'read', null, 0],
      [0, 'ok', 'read', 'x', 10],
    ]);
    for (const initial of ['"x"', 'x']) {
      const result = await runCli(['check', file, '--model', 'cas-register', '--initial', initial]);
      assert.equal(result.code, 0, `--initial ${initial}: ${result.stdout}${result.stderr}`);
    }
  });

  it('gives the counter model and checker their start', async () => {
    const file = await historyFile('counter.jsonl', [
      [0, 'invoke', 'add', 2, 0],
      [0, 'ok', 'add', 2, 10],
      [1, 'invoke', 'read', null, 20],
      [1, 'ok', 'read', 12, 30],
    ]);
    assert.equal((await runCli(['check', file, '--model', 'counter', '--initial', '10'])).code, 0);
    assert.equal((await runCli(['check', file, '--checker', 'counter', '--initial', '10'])).code, 0);
    assert.equal((await runCli(['check', file, '--checker', 'counter'])).code, 1);
  });

  it('gives every key of the kv model its start', async () => {
    const file = await historyFile('kv.jsonl', [
      [0, 'invoke', 'read', ['a', null], 0],
      [0, 'ok', 'read', ['a', 0], 10],
      [1, 'invoke', 'write', ['b', 1], 20],
      [1, 'ok', 'write', ['b', 1], 30],
      [2, 'invoke', 'read', ['b', null], 40],
      [2, 'ok', 'read', ['b', 1], 50],
    ]);
    assert.equal((await runCli(['check', file, '--model', 'kv', '--initial', '0'])).code, 0);
    assert.equal((await runCli(['check', file, '--model', 'kv'])).code, 1);
  });

  it('exits 3 for a value the model cannot hold, or a model without an initial value', async () => {
    const file = await historyFile('any.jsonl', preset);
    const cases: [string[], RegExp][] = [
      [
        ['--model', 'counter', '--initial', 'abc'],
        /--initial: the counter model's initial value is a finite number, got "abc"/,
      ],
      [
        ['--checker', 'counter', '--initial', '[1]'],
        /--initial: the counter checker's initial value is a finite number/,
      ],
      [
        ['--model', 'set', '--initial', '0'],
        /--initial: the set model has no initial value; --initial applies to --model register, cas-register, kv, counter/,
      ],
      [['--checker', 'queue', '--initial', '0'], /--initial: the queue checker has no initial value/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(['check', file, ...args]);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
    }
  });
});

describe('faultline check --f', () => {
  it('maps op names onto a safety checker roles, repeated or comma-separated', async () => {
    const file = await historyFile('acked.jsonl', [
      [0, 'invoke', 'insert', 1, 0],
      [0, 'ok', 'insert', 1, 10],
      [1, 'invoke', 'scan', null, 20],
      [1, 'ok', 'scan', [1], 30],
    ]);
    const unmapped = await runCli(['check', file, '--checker', 'acked-writes']);
    assert.equal(unmapped.code, 3, unmapped.stderr);
    assert.match(unmapped.stderr, /unknown f "insert"/);
    const repeated = await runCli([
      'check',
      file,
      '--checker',
      'acked-writes',
      '--f',
      'insert=write',
      '--f',
      'scan=read',
    ]);
    assert.equal(repeated.code, 0, `${repeated.stdout}${repeated.stderr}`);
    const commas = await runCli([
      'check',
      file,
      '--checker',
      'acked-writes',
      '--f',
      'insert=write,scan=read',
    ]);
    assert.equal(commas.code, 0, `${commas.stdout}${commas.stderr}`);
  });

  it('exits 3 naming --f and the valid roles for a role the target does not know', async () => {
    const file = await historyFile('roles.jsonl', preset);
    const cases: [string[], RegExp][] = [
      [
        ['--model', 'register', '--f', 'add=bogus'],
        /--f add=bogus: "bogus" is not a role of the register model; valid: read, write/,
      ],
      [
        ['--checker', 'set', '--f', 'put=write'],
        /--f put=write: "write" is not a role of the set checker; valid: add, read/,
      ],
      [['--checker', 'set', '--f', 'put'], /--f: expected from=role/],
      [['--checker', 'set', '--f', 'put=add,put=read'], /--f: "put" is mapped to both add and read/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(['check', file, ...args]);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
    }
  });
});

describe('faultline check --memory', () => {
  // 22 concurrent writes of unknown outcome, then reads 0, 1, 0: the search needs its memo. A second
  // write of 1 makes a value repeat, so the distinct-values algorithm leaves it to the search.
  const hard: Line[] = [];
  let time = 0;
  for (let p = 0; p < 22; p++) hard.push([p, 'invoke', 'write', p, time++]);
  hard.push([22, 'invoke', 'write', 1, time++]);
  for (const value of [0, 1, 0]) {
    hard.push([100, 'invoke', 'read', null, time++]);
    hard.push([100, 'ok', 'read', value, time++]);
  }

  it('is the search memory budget: past it the verdict is unknown, naming the budget', async () => {
    const file = await historyFile('hard.jsonl', hard);
    const result = await runCli(['check', file, '--model', 'register', '--memory', '1MiB']);
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /unknown: memory budget 1 MiB ran out on partition/);
    assert.doesNotMatch(result.stdout, /decided by/, 'an unknown verdict was decided by nothing');
  });

  it('exits 3 for a size it cannot read', async () => {
    const file = await historyFile('hard-bad.jsonl', hard);
    for (const size of ['12 apples', '-1', 'MiB']) {
      const result = await runCli(['check', file, '--model', 'register', `--memory=${size}`]);
      assert.equal(result.code, 3, `${size}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /--memory: expected a size such as "512MiB"/);
    }
    for (const size of ['0', '1KiB', '99999999999TiB']) {
      const result = await runCli(['check', file, '--model', 'register', `--memory=${size}`]);
      assert.equal(result.code, 3, `${size}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /--memory: expected at least 1MiB/);
    }
  });

  it('exits 3 for flags of the other kind of check, --initial that starts like JSON but is not, --f that renames nothing', async () => {
    const file = await historyFile('kinds.jsonl', hard);
    for (const [args, message] of [
      [['--checker', 'counter', '--memory', '1GiB'], /--memory applies to --model \(linearizability\) only/],
      [['--checker', 'counter', '--timeout', '5s'], /--timeout applies to --model/],
      [['--model', 'register', '--deadline', '5s'], /--deadline applies to --checker convergence only/],
      [['--model', 'register', '--initial', '[1,2'], /--initial: "\[1,2" is not valid JSON/],
      [
        ['--model', 'counter', '--initial', '1e400'],
        /--initial: "1e400" is not valid JSON \(not a finite number\)/,
      ],
      [['--model', 'register', '--f', 'put=write'], /--f put=write: no op in the history is called "put"/],
    ] as const) {
      const result = await runCli(['check', file, ...args]);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});

describe('faultline check output', () => {
  it('--json writes only JSON to stdout (the header goes to stderr)', async () => {
    const linear = await historyFile('json-linear.jsonl', preset);
    const lost = await lostHistory('json-lost.jsonl', 3);
    for (const args of [
      [linear, '--model', 'register', '--f', 'put=write'],
      [linear, '--model', 'register', '--f', 'put=write', '--initial', '0'],
      [lost, '--checker', 'acked-writes', '--f', 'add=write'],
    ]) {
      const result = await runCli(['check', ...args, '--json']);
      const json = JSON.parse(result.stdout) as { checker: string; anomalies: unknown[] };
      assert.equal(typeof json.checker, 'string', args.join(' '));
      assert.match(result.stderr, /^faultline check: .* \(jsonl, \d+ ops\)$/m);
    }
    const full = JSON.parse(
      (await runCli(['check', lost, '--checker', 'acked-writes', '--f', 'add=write', '--json'])).stdout,
    );
    assert.equal(full.anomalies.length, 3, 'the JSON lists every anomaly');
  });

  it('summarises 50,000 lost writes in a few lines, with the count, the time window and a sample', async () => {
    const file = await lostHistory('lost-50k.jsonl', 50_000);
    const result = await runCli(['check', file, '--checker', 'acked-writes', '--f', 'add=write'], 60_000);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.ok(lines.length <= 8, result.stdout);
    assert.match(result.stdout, /lost: 50000 anomalies, from \+0\.000 s to \+0\.100 s/);
    assert.match(result.stdout, /first: \+0\.000 s, op 0 \(line 1\): acknowledged write 0 /);
    assert.match(result.stdout, /last: {2}\+0\.100 s, op 99998 \(line 99999\): acknowledged write 49999 /);
    assert.match(result.stdout, /sample: op 0 \(line 1\), (op \d+ \(line \d+\), ){3}op 99998 \(line 99999\)/);

    const page = join(dir, 'lost.html');
    const html = await runCli(
      ['check', file, '--checker', 'acked-writes', '--f', 'add=write', '--html', page],
      60_000,
    );
    assert.equal(html.code, 1, html.stderr);
    assert.match(html.stdout, /summary: .*lost\.html/);
    const text = await readFile(page, 'utf8');
    assert.match(text, /<b>50000<\/b> lost anomalies, from \+0\.000 s to \+0\.100 s/);
    assert.match(text, /a sample of 5/);
    assert.ok(text.length < 20_000, `a small page, not every anomaly (${text.length} chars)`);
    assert.doesNotMatch(text, /<script|https?:\/\/|\ssrc=/, 'self-contained');
  });

  it('ends quietly when the reader of its stdout goes away (EPIPE)', async () => {
    const file = await lostHistory('lost-pipe.jsonl', 20_000);
    // --json prints megabytes; the reader takes the first chunk and closes the pipe.
    const child = spawn(
      process.execPath,
      [cliPath, 'check', file, '--checker', 'acked-writes', '--f', 'add=write', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, null, stderr);
      assert.notEqual(code, 70, stderr);
      assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /, 'no stack trace');
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  });

  it('documents every flag in --help', async () => {
    const result = await runCli(['check', '--help']);
    assert.equal(result.code, 0);
    for (const flag of [
      '--model',
      '--checker',
      '--initial',
      '--f',
      '--timeout',
      '--memory',
      '--html',
      '--format',
      '--deadline',
      '--no-partition',
      '--json',
      '--help',
    ])
      assert.ok(result.stdout.includes(flag), flag);
    assert.match(result.stdout, /a quarter of the available memory/);
  });
});
