// The cases of the `faultline check` fuzzer (check-fuzz.test.ts): each is a pure function of (seed, index),
// so any one can be replayed alone. Mutated histories (the fixtures in every format, and histories made
// from them) and pure garbage, in every --format.
import { readFileSync } from 'node:fs';
import { messageOf } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import { decodeHistory } from '../../src/history/decode.js';
import { writeEdn } from '../../src/history/edn.js';
import {
  buildHistory,
  type HistoryFormat,
  parseHistory,
  serializeHistory,
} from '../../src/history/formats.js';
import type { Op } from '../../src/history/op.js';
import { valueKey } from '../../src/history/value-key.js';

/**
 * garbage and wrong-format must be refused (exit 3); valid must decode to the ops of the history it was
 * made from and give `expectedCode` (when its history has a checker that takes it); mutated may give any
 * verdict, but a refusal must name the file and line.
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
  /** For `valid` cases: the exit code the history must give (undefined: no checker takes it). */
  readonly expectedCode?: number;
  /** For `valid` cases: `opsKey` of the ops the bytes must decode to. */
  readonly expectedOps?: string;
}

interface CorpusEntry {
  readonly name: string;
  readonly format: HistoryFormat;
  readonly text: string;
  /** A checker that accepts this history, and the exit code it gives; undefined when none does. */
  readonly checker?: { readonly args: readonly string[]; readonly code: number };
  /** `opsKey` of the history's ops. */
  readonly ops: string;
}

/** The identity of a history's ops, without their lines (which legitimate variations move). */
export function opsKey(ops: readonly object[]): string {
  return valueKey(ops.map(({ line: _line, ...op }: { line?: unknown }) => op));
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

/** The value with every Set made an array: JSON lines have no sets (EDN `#{…}` reads as a Set). */
function setsAsArrays(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(setsAsArrays);
  if (Array.isArray(value)) return value.map(setsAsArrays);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [setsAsArrays(k), setsAsArrays(v)]));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, setsAsArrays(v)]));
  return value;
}

/** Ops that JSON lines can hold (see `setsAsArrays`). */
function forJsonl(ops: readonly Op[]): Op[] {
  return ops.map((op) => ({ ...op, value: setsAsArrays(op.value) }));
}

function buildCorpus(): CorpusEntry[] {
  const jsonl = fixture('history.jsonl');
  const edn = fixture('history.edn');
  const log = fixture('jepsen.log');
  // The real history.edn with its txn calls made writes, so that a model takes it (cas-register):
  // everything else — records, sets, ratios, a map over two lines, extra keys — stays as it is.
  const casEdn = edn.replaceAll(':f :txn, :value [[:r 1 nil] [:append 2 5]]', ':f :write, :value 5');
  if (casEdn === edn)
    throw new Error('history.edn changed: update the cas-register variant of the fuzz corpus');
  const jsonlOps = parseHistory(jsonl).ops;
  const ednOps = forJsonl(parseHistory(edn).ops);
  const casEdnOps = forJsonl(parseHistory(casEdn).ops);
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
  const casChecker = { args: casRegister, code: 0 };
  const entries: Omit<CorpusEntry, 'ops'>[] = [
    { name: 'history.jsonl', format: 'jsonl', text: jsonl, checker: { args: register, code: 0 } },
    { name: 'history.edn', format: 'edn', text: edn },
    { name: 'history.edn (txn as write)', format: 'edn', text: casEdn, checker: casChecker },
    { name: 'jepsen.log', format: 'jepsen-log', text: log, checker: { args: casRegister, code: 1 } },
    { name: 'history.edn as jsonl', format: 'jsonl', text: serializeHistory(ednOps, 'jsonl') },
    {
      name: 'history.edn (txn as write) as jsonl',
      format: 'jsonl',
      text: serializeHistory(casEdnOps, 'jsonl'),
      checker: casChecker,
    },
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
  const corpus = entries.map((entry) => ({ ...entry, ops: opsKey(parseHistory(entry.text).ops) }));
  // Where a text was written from ops, it reads back as exactly those ops (a log keeps fewer fields).
  const sources: Record<string, readonly Op[]> = {
    'history.edn as jsonl': ednOps,
    'history.edn (txn as write) as jsonl': casEdnOps,
    'history.jsonl as edn': jsonlOps,
    'big-integers.jsonl': big,
    'big-integers.edn': big,
    'big-integers.edn vector': big,
  };
  for (const entry of corpus) {
    const source = sources[entry.name];
    if (source !== undefined && entry.ops !== opsKey(source))
      throw new Error(`fuzz corpus: ${entry.name} does not read back as the ops it was written from`);
  }
  return corpus;
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
        Array.from({ length: random.int(20) }, () => pick(random, [' ', '\t', '\n', '\r\n', '\uFEFF'])).join(
          '',
        ),
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

const commonTransforms = ['as is', 'CRLF line ends', 'byte order mark', 'blank lines'] as const;
const legitimateTransforms = {
  jsonl: commonTransforms,
  edn: [...commonTransforms, 'comments', 'discards', 'commas'],
  'jepsen-log': [...commonTransforms, 'non-op lines'],
} as const;
type Transform = (typeof legitimateTransforms)[HistoryFormat][number];

/** EDN forms that read as nothing: `#_` discards the next form (nested discards, brackets inside). */
const discards = ['#_{:process 9 :type :nonsense}', '#_ #_ 1 2', '#_[1 [2 {:a #{3}}] "]"]', '#_nil'];
/** Lines a Jepsen log holds besides op lines: maps and vectors that hold ops, stack traces, raw output. */
const nonOpLines: readonly Uint8Array[] = [
  'INFO  jepsen.core - {:valid? false, :configs ({:model {:value 0}, :last-op {:process 0, :type :ok, :f :read, :value 3}})}',
  'INFO  jepsen.util - [ 0 :ok :read 1 ] and ( 1 :invoke :write 2 )',
  '{:process 0 :type :invoke :f :read :value nil}',
  '\tat clojure.core$partial$fn__4527.invoke(core.clj:2492) [ :info',
  'WARN  jepsen.nemesis - {:f :start, :value [:isolated {"n1" #{"n2"}}]}',
].map((line) => encoder.encode(line));
const rawOutputLine = Uint8Array.of(
  ...encoder.encode('stdout: '),
  0xff,
  0xfe,
  0x00,
  ...encoder.encode(' [{'),
);

/**
 * `bytes` varied in a way that does not change what they mean. Lines are added after the first only
 * where they would change the detected format (a log line starting with "{", a line of commas).
 */
function vary(random: Random, bytes: Uint8Array, transform: Transform): Uint8Array {
  const lines = splitLines(bytes);
  const insert = (make: () => Uint8Array, from: number): Uint8Array =>
    joinLines(lines.flatMap((line, i) => (i >= from && random.chance(0.3) ? [make(), line] : [line])));
  switch (transform) {
    case 'CRLF line ends':
      return joinLines(lines.map((line) => concat(line, Uint8Array.of(0x0d))));
    case 'byte order mark':
      return concat(Uint8Array.of(0xef, 0xbb, 0xbf), bytes);
    case 'blank lines':
      return joinLines(
        lines.flatMap((line) => (random.chance(0.3) ? [line, encoder.encode(' \t')] : [line])),
      );
    case 'comments':
      // Whole comment lines anywhere, and comments after the last form of a line.
      return joinLines(
        splitLines(insert(() => encoder.encode('; a comment: [ { ( " #_'), 0)).map((line) =>
          random.chance(0.3) ? concat(line, encoder.encode(' ; trailing ] }')) : line,
        ),
      );
    case 'discards':
      return insert(() => encoder.encode(pick(random, discards)), 0);
    case 'commas':
      // Commas are whitespace in EDN: at line ends, and lines of them.
      return joinLines(
        splitLines(insert(() => encoder.encode(',, ,'), 1)).map((line) =>
          random.chance(0.5) ? concat(line, encoder.encode(',')) : line,
        ),
      );
    case 'non-op lines':
      return insert(() => (random.chance(0.2) ? rawOutputLine : pick(random, nonOpLines)), 1);
    default:
      return bytes;
  }
}

/**
 * What is wrong with the outcome of a `valid` case: the bytes must decode (in the case's format, if
 * given) to the ops of the history they were made from, and `check` must give `expectedCode` — or at
 * least not refuse the input (exit 3) when it has one.
 */
export function validProblems(fuzz: FuzzCase, code: number | null | undefined): string[] {
  if (fuzz.kind !== 'valid') return [];
  const found: string[] = [];
  if (fuzz.expectedCode !== undefined && code !== fuzz.expectedCode)
    found.push(`exit ${code} for a legitimate history, expected ${fuzz.expectedCode}`);
  const formatAt = fuzz.args.indexOf('--format');
  const format = formatAt < 0 ? undefined : (fuzz.args[formatAt + 1] as HistoryFormat);
  try {
    const decoded = decodeHistory(fuzz.bytes, format === undefined ? {} : { format });
    if (fuzz.expectedOps !== undefined && opsKey(decoded.ops) !== fuzz.expectedOps)
      found.push('decoded to other ops than the history it was made from');
  } catch (error) {
    found.push(`refused: ${messageOf(error)}`);
  }
  return found;
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
  if (roll < 0.42) {
    // Legitimate variations: the ops and the verdict must not change.
    const right = random.chance(0.5) ? [] : ['--format', entry.format];
    const transform = pick(random, legitimateTransforms[entry.format]);
    return {
      index,
      kind: 'valid',
      description: `${entry.name} ${transform}`,
      bytes: vary(random, bytes, transform),
      args: [...(entry.checker?.args ?? register), ...right],
      ...(entry.checker === undefined ? {} : { expectedCode: entry.checker.code }),
      expectedOps: entry.ops,
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
