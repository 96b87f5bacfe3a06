// The cases of the `faultline check` fuzzer (check-fuzz.test.ts): each is a pure function of (seed, index),
// so any one can be replayed alone. Mutated histories (the fixtures in every format, and histories made
// from them) and pure garbage, in every --format.
import { readFileSync } from 'node:fs';
import { Random } from '../../src/core/random.js';
import { writeEdn } from '../../src/history/edn.js';
import {
  buildHistory,
  type HistoryFormat,
  parseHistory,
  serializeHistory,
} from '../../src/history/formats.js';
import type { Op } from '../../src/history/op.js';

/**
 * garbage and wrong-format must be refused (exit 3); valid must give `expectedCode`; mutated may give
 * any verdict, but a refusal must name the file and line.
 */
export type CaseKind = 'garbage' | 'wrong-format' | 'valid' | 'mutated';

export interface FuzzCase {
  readonly index: number;
  readonly kind: CaseKind;
  /** What was done, for failure messages. */
  readonly description: string;
  readonly bytes: Uint8Array;
  /** `check` arguments after the file. */
  readonly args: readonly string[];
  /** For `valid` cases: the exit code the history must give. */
  readonly expectedCode?: number;
}

interface CorpusEntry {
  readonly name: string;
  readonly format: HistoryFormat;
  readonly text: string;
  /** A checker that accepts this history, and the exit code it gives; undefined when none does. */
  readonly checker?: { readonly args: readonly string[]; readonly code: number };
}

const fixtures = new URL('../../../test/history/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
const encoder = new TextEncoder();

const register = ['--model', 'register', '--timeout', '2s'];
const casRegister = ['--model', 'cas-register', '--timeout', '2s'];
const checkers: readonly (readonly string[])[] = [
  register,
  casRegister,
  ['--model', 'kv', '--timeout', '2s'],
  ['--model', 'list-append', '--timeout', '2s'],
  ['--checker', 'set'],
  ['--checker', 'counter'],
  ['--checker', 'duplicates'],
  ['--checker', 'acked-writes'],
  ['--checker', 'convergence', '--deadline', '1s'],
];
const formatChoices: readonly (HistoryFormat | undefined)[] = [undefined, 'jsonl', 'edn', 'jepsen-log'];

/** Jepsen log lines for a history, in the layouts Jepsen has used. */
function logOf(ops: readonly Op[]): string {
  return ops
    .map((op, i) => {
      const process = typeof op.process === 'string' ? `:${op.process}` : String(op.process);
      const prefix =
        i % 2 === 0
          ? 'INFO  jepsen.util - '
          : '2017-03-14 12:00:01,123{GMT}\tINFO\t[jepsen worker 0] jepsen.util: ';
      const error = op.error === undefined ? '' : `\t${writeEdn(op.error)}`;
      return `${prefix}${process}\t:${op.type}\t:${op.f}\t${writeEdn(op.value)}${error}`;
    })
    .join('\n');
}

function buildCorpus(): CorpusEntry[] {
  const jsonl = fixture('history.jsonl');
  const edn = fixture('history.edn');
  const log = fixture('jepsen.log');
  const jsonlOps = parseHistory(jsonl).ops;
  const ednOps = parseHistory(edn).ops;
  // Writes that differ only beyond 2^53: not linearizable, in every format.
  const big = buildHistory([
    { process: 0, type: 'invoke', f: 'write', value: 9007199254740993n },
    { process: 0, type: 'ok', f: 'write', value: 9007199254740993n },
    { process: 'nemesis', type: 'info', f: 'kill', value: null },
    { process: 1, type: 'invoke', f: 'read', value: null },
    { process: 1, type: 'ok', f: 'read', value: 9007199254740992n },
    { process: 2, type: 'invoke', f: 'write', value: -123456789012345678901234567890n },
    { process: 2, type: 'info', f: 'write', value: -123456789012345678901234567890n, error: 'timed-out' },
  ]);
  const bigChecker = { args: register, code: 1 };
  return [
    { name: 'history.jsonl', format: 'jsonl', text: jsonl, checker: { args: register, code: 0 } },
    { name: 'history.edn', format: 'edn', text: edn },
    { name: 'jepsen.log', format: 'jepsen-log', text: log, checker: { args: casRegister, code: 1 } },
    { name: 'history.edn as jsonl', format: 'jsonl', text: serializeHistory(ednOps, 'jsonl') },
    {
      name: 'history.jsonl as edn',
      format: 'edn',
      text: serializeHistory(jsonlOps, 'edn'),
      checker: { args: register, code: 0 },
    },
    {
      name: 'history.jsonl as log',
      format: 'jepsen-log',
      text: logOf(jsonlOps),
      checker: { args: register, code: 0 },
    },
    {
      name: 'big-integers.jsonl',
      format: 'jsonl',
      text: serializeHistory(big, 'jsonl'),
      checker: bigChecker,
    },
    { name: 'big-integers.edn', format: 'edn', text: serializeHistory(big, 'edn'), checker: bigChecker },
    { name: 'big-integers.log', format: 'jepsen-log', text: logOf(big), checker: bigChecker },
    {
      name: 'big-integers.edn vector',
      format: 'edn',
      text: `; one vector\n[${serializeHistory(big, 'edn').trim().split('\n').join('\n ')}]\n`,
      checker: bigChecker,
    },
  ];
}

let corpusCache: CorpusEntry[] | undefined;
export function corpus(): CorpusEntry[] {
  corpusCache ??= buildCorpus();
  return corpusCache;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)] as T;

const words =
  'the history of a distributed system is not a list of words but some files hold prose instead of ops and must be refused'.split(
    ' ',
  );

function randomBytes(random: Random, max: number): Uint8Array {
  const bytes = new Uint8Array(random.int(max + 1));
  for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(256);
  return bytes;
}

function randomPrintable(random: Random, max: number): string {
  let out = '';
  const length = random.int(max + 1);
  for (let i = 0; i < length; i++) {
    const r = random.next();
    out += r < 0.05 ? '\n' : r < 0.08 ? '\t' : String.fromCharCode(0x20 + random.int(95));
  }
  return out;
}

function randomUnicode(random: Random, max: number): string {
  let out = '';
  const length = random.int(max + 1);
  for (let i = 0; i < length; i++) {
    const r = random.next();
    if (r < 0.05) out += '\n';
    else if (r < 0.1) out += pick(random, ['\uFEFF', '\uFFFD', '\u2028', 'é', '日本', '😀', '\r\n']);
    else {
      let code = random.int(0x10ffff);
      if (code >= 0xd800 && code <= 0xdfff) code = 0x41;
      out += String.fromCodePoint(code);
    }
  }
  return out;
}

/** A JSON or EDN value that is not an op (no "type"), for lines that parse but are not ops. */
function randomValue(random: Random, depth: number, edn: boolean): string {
  const r = random.int(depth > 3 ? 5 : 8);
  switch (r) {
    case 0:
      return String(random.int(1000) - 500);
    case 1:
      return JSON.stringify(pick(random, words));
    case 2:
      return edn ? 'nil' : 'null';
    case 3:
      return pick(random, ['true', 'false', '1.5', '-0', '1e400', '123456789012345678901234567890']);
    case 4:
      return edn ? pick(random, [':read', 'sym', '\\a', '#inst "2020-01-01"']) : '"x"';
    case 5:
    case 6: {
      const items = Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1, edn));
      return edn ? `[${items.join(' ')}]` : `[${items.join(',')}]`;
    }
    default: {
      const keys = ['process', 'f', 'value', 'time', 'node', 'index'];
      const entries = Array.from({ length: random.int(4) }, () => {
        const key = pick(random, keys);
        const value = randomValue(random, depth + 1, edn);
        return edn ? `:${key} ${value}` : `${JSON.stringify(key)}:${value}`;
      });
      return edn ? `{${entries.join(', ')}}` : `{${entries.join(',')}}`;
    }
  }
}

function garbage(random: Random): { description: string; bytes: Uint8Array } {
  const text = (description: string, value: string) => ({ description, bytes: encoder.encode(value) });
  switch (random.int(10)) {
    case 0:
      return { description: 'random bytes', bytes: randomBytes(random, 400) };
    case 1:
      return text('printable ASCII', randomPrintable(random, 400));
    case 2:
      return text(
        'prose',
        Array.from(
          { length: random.int(60) + 1 },
          () => pick(random, words) + pick(random, [' ', ' ', ', ', '.\n', '\n\n']),
        ).join(''),
      );
    case 3:
      return text('unicode text', randomUnicode(random, 200));
    case 4:
      return text(
        'whitespace',
        Array.from({ length: random.int(20) }, () =>
          pick(random, [' ', '\t', '\n', '\r\n', '\uFEFF'.slice(0, 0)]),
        ).join(''),
      );
    case 5:
      return text(
        'JSON lines that are not ops',
        Array.from({ length: random.int(5) + 1 }, () => randomValue(random, 0, false)).join('\n'),
      );
    case 6:
      return text(
        'EDN forms that are not ops',
        Array.from({ length: random.int(5) + 1 }, () => randomValue(random, 0, true)).join('\n'),
      );
    case 7:
      return text(
        'EDN comments only',
        Array.from({ length: random.int(4) + 1 }, () => `; ${pick(random, words)}`).join('\n'),
      );
    case 8:
      return text(
        'empty collection',
        pick(random, ['[]', '{}', '()', '[]\n[]', '#{}', '""', '0', 'nil', 'null']),
      );
    default:
      return { description: 'empty', bytes: new Uint8Array(0) };
  }
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return lines;
}

function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(
    lines.reduce((sum, line) => sum + line.length + 1, 0) - (lines.length > 0 ? 1 : 0),
  );
  let at = 0;
  lines.forEach((line, i) => {
    out.set(line, at);
    at += line.length;
    if (i < lines.length - 1) out[at++] = 0x0a;
  });
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

const hugeNumbers = [
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '18446744073709551617',
  '123456789012345678901234567890123456789',
  '1e400',
  '-1e-400',
  '9007199254740993N',
  '9007199254740993.0',
];
const depths = [100, 510, 511, 512, 513, 5_000, 100_000];

/** One mutation of `bytes`, described. */
function mutate(random: Random, bytes: Uint8Array, others: readonly CorpusEntry[]): [string, Uint8Array] {
  const lines = splitLines(bytes);
  const at = (n: number) => random.int(n + 1);
  switch (random.int(13)) {
    case 0: {
      const cut = at(bytes.length);
      return [`truncated at byte ${cut}`, bytes.subarray(0, cut)];
    }
    case 1: {
      const out = bytes.slice();
      const flips = random.int(4) + 1;
      for (let k = 0; k < flips && out.length > 0; k++) {
        const i = random.int(out.length);
        out[i] = (out[i] as number) ^ (1 << random.int(8));
      }
      return [`${flips} bit flips`, out];
    }
    case 2: {
      const out = bytes.slice();
      if (out.length > 0) out[random.int(out.length)] = random.int(256);
      return ['a byte replaced', out];
    }
    case 3: {
      const i = random.int(lines.length);
      return [`line ${i + 1} deleted`, joinLines(lines.filter((_, k) => k !== i))];
    }
    case 4: {
      const i = random.int(lines.length);
      const copy = [...lines];
      copy.splice(at(lines.length), 0, lines[i] as Uint8Array);
      return [`line ${i + 1} duplicated`, joinLines(copy)];
    }
    case 5: {
      const i = random.int(lines.length);
      const j = random.int(lines.length);
      const copy = [...lines];
      [copy[i], copy[j]] = [copy[j] as Uint8Array, copy[i] as Uint8Array];
      return [`lines ${i + 1} and ${j + 1} swapped`, joinLines(copy)];
    }
    case 6: {
      const other = pick(random, others);
      const otherLines = splitLines(encoder.encode(other.text));
      const line = pick(random, otherLines);
      const copy = [...lines];
      copy.splice(at(lines.length), 0, line);
      return [`a line of ${other.name} inserted`, joinLines(copy)];
    }
    case 7: {
      const text = new TextDecoder().decode(bytes);
      const numbers = [...text.matchAll(/-?\d+/g)];
      const huge = pick(random, hugeNumbers);
      if (numbers.length === 0) return [`${huge} appended`, encoder.encode(`${text} ${huge}`)];
      const target = pick(random, numbers);
      const index = target.index ?? 0;
      return [
        `number at ${index} replaced by ${huge}`,
        encoder.encode(text.slice(0, index) + huge + text.slice(index + target[0].length)),
      ];
    }
    case 8: {
      const depth = pick(random, depths);
      const open = pick(random, ['[', '{:a ', '{"a":', '#{', '(', '#_', '#tag ']);
      const close = open.startsWith('{')
        ? '}'
        : open.startsWith('(')
          ? ')'
          : open.startsWith('#{')
            ? '}'
            : ']';
      const balanced = random.chance(0.5) && !open.startsWith('#_') && !open.startsWith('#tag');
      const insert = `${open.repeat(depth)}1${balanced ? close.repeat(depth) : ''}`;
      const cut = at(bytes.length);
      return [
        `${depth} × ${JSON.stringify(open)} at byte ${cut}`,
        concat(bytes.subarray(0, cut), encoder.encode(insert), bytes.subarray(cut)),
      ];
    }
    case 9: {
      const cut = at(bytes.length);
      const junk = pick(random, [
        Uint8Array.of(0),
        Uint8Array.of(0xff),
        Uint8Array.of(0xc3),
        Uint8Array.of(0x1b, 0x5b, 0x33, 0x31, 0x6d),
        Uint8Array.of(0x07),
      ]);
      return [
        `bytes ${[...junk].join(',')} inserted at ${cut}`,
        concat(bytes.subarray(0, cut), junk, bytes.subarray(cut)),
      ];
    }
    case 10:
      return ['CRLF line ends', joinLines(lines.map((line) => concat(line, Uint8Array.of(0x0d))))];
    case 11:
      return ['byte order mark', concat(Uint8Array.of(0xef, 0xbb, 0xbf), bytes)];
    default: {
      const cut = at(bytes.length);
      return [
        `random garbage inserted at ${cut}`,
        concat(bytes.subarray(0, cut), randomBytes(random, 20), bytes.subarray(cut)),
      ];
    }
  }
}

/** The case `index` of the run seeded `seed`. */
export function fuzzCase(seed: number, index: number): FuzzCase {
  const random = new Random(seed).fork(`case-${index}`);
  const entries = corpus();
  const format = pick(random, formatChoices);
  const formatArgs = format === undefined ? [] : ['--format', format];
  const roll = random.next();
  if (roll < 0.25) {
    const { description, bytes } = garbage(random);
    return {
      index,
      kind: 'garbage',
      description,
      bytes,
      args: [...pick(random, checkers), ...formatArgs],
    };
  }
  const entry = pick(random, entries);
  const bytes = encoder.encode(entry.text);
  if (roll < 0.35) {
    const wrong = pick(random, historyFormatsOtherThan(entry.format));
    return {
      index,
      kind: 'wrong-format',
      description: `${entry.name} read as ${wrong}`,
      bytes,
      args: [...(entry.checker?.args ?? register), '--format', wrong],
    };
  }
  if (roll < 0.42 && entry.checker !== undefined) {
    // Legitimate variations: the verdict must not change.
    const right = random.chance(0.5) ? [] : ['--format', entry.format];
    const transform = pick(random, ['as is', 'CRLF line ends', 'byte order mark', 'blank lines'] as const);
    const lines = splitLines(bytes);
    const data =
      transform === 'CRLF line ends'
        ? joinLines(lines.map((line) => concat(line, Uint8Array.of(0x0d))))
        : transform === 'byte order mark'
          ? concat(Uint8Array.of(0xef, 0xbb, 0xbf), bytes)
          : transform === 'blank lines'
            ? joinLines(
                lines.flatMap((line) => (random.chance(0.3) ? [line, encoder.encode(' \t')] : [line])),
              )
            : bytes;
    return {
      index,
      kind: 'valid',
      description: `${entry.name} ${transform}`,
      bytes: data,
      args: [...entry.checker.args, ...right],
      expectedCode: entry.checker.code,
    };
  }
  let data: Uint8Array = bytes;
  const steps: string[] = [];
  const count = random.int(3) + 1;
  for (let k = 0; k < count; k++) {
    const [description, next] = mutate(
      random,
      data,
      entries.filter((other) => other.format !== entry.format),
    );
    steps.push(description);
    data = next;
  }
  const args =
    entry.checker !== undefined && random.chance(0.6) ? entry.checker.args : pick(random, checkers);
  return {
    index,
    kind: 'mutated',
    description: `${entry.name}: ${steps.join('; ')}`,
    bytes: data,
    args: [...args, ...formatArgs],
  };
}

function historyFormatsOtherThan(format: HistoryFormat): HistoryFormat[] {
  return (['jsonl', 'edn', 'jepsen-log'] as const).filter((other) => other !== format);
}
