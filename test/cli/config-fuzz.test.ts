/**
 * Fuzzing `faultline server --config`: valid configs, mutated (truncated, characters deleted or
 * inserted, values of the wrong type, unknown keys, entries that are not objects, duplicates, huge
 * numbers, deep nesting). Most cases load in-process through the same functions the CLI uses (reading
 * and positions, then populate on a real hub); a handful run the real CLI.
 *
 * Invariants: a config either loads (and its proxies listen) or is refused with FL_ERR_CONFIG and a
 * message `file:line:column: <field or "invalid JSON">: …` inside the file, never another exception, a
 * stack trace or a hang; JSON.parse and the config scanner agree on what is JSON; nothing is left
 * listening after a refusal (or after the hub is closed).
 *
 * FAULTLINE_FUZZ_CONFIG_RUNS=<n> (default 2000) runs more; the seed is printed and FAULTLINE_FUZZ_SEED
 * replays.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProxyHub } from '../../src/api/hub.js';
import { applyProxyConfig, maxConfigDepth, parseProxyConfig } from '../../src/cli/config-file.js';
import { FaultlineError } from '../../src/core/errors.js';
import { fuzzRuns, fuzzSeed } from '../fuzz-env.js';
import { runCli } from './run-cli.js';

const defaultSeed = 20_240_611;
const seed = fuzzSeed(defaultSeed);
const runs = fuzzRuns('CONFIG', 2000);
const file = 'fuzz.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Valid configs to start from (the upstream is never dialled: nothing connects to the proxies). */
const baseConfigs: Json[] = [
  [{ name: 'redis', listen: '127.0.0.1:0', upstream: '127.0.0.1:6379' }],
  [
    { name: 'pg', listen: 'localhost:0', upstream: '127.0.0.1:5432', enabled: false },
    {
      name: 'web',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:8080',
      toxics: [
        { type: 'latency', attributes: { latency: 100, jitter: 10 } },
        { name: 'cap', type: 'limit_data', stream: 'upstream', toxicity: 0.5, attributes: { bytes: 1000 } },
      ],
    },
  ],
  [
    { name: 'a', listen: '127.0.0.1:0', upstream: '127.0.0.1:1', toxics: [{ name: 'b', type: 'noop' }] },
    { name: 'b', listen: '127.0.0.1:0', upstream: '127.0.0.1:2', enabled: true, toxics: [] },
  ],
  [],
];

/** Values of every type, including ones that are valid somewhere. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2,
    Number.MAX_VALUE,
    Number.MAX_SAFE_INTEGER,
    '',
    'x',
    '127.0.0.1:0',
    '0.0.0.0:0',
    '127.0.0.1:80',
    '256.1.1.1:0',
    '127.0.0.1:99999',
    'x:y',
    '__proto__',
    'latency',
    'nope',
    [],
    {},
  ),
  fc.string({ maxLength: 8 }),
  fc.double({ noNaN: true }),
);

/** Every path to a value in `json`, as a list of keys and indexes. */
function paths(json: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const here = [prefix];
  if (Array.isArray(json)) return [...here, ...json.flatMap((item, i) => paths(item, [...prefix, i]))];
  if (json !== null && typeof json === 'object') {
    return [...here, ...Object.entries(json).flatMap(([key, value]) => paths(value, [...prefix, key]))];
  }
  return here;
}

function clone(json: Json): Json {
  return JSON.parse(JSON.stringify(json)) as Json;
}

/** Replaces the value at `path` (the root when empty) by what `change` makes of it. */
function update(json: Json, path: Array<string | number>, change: (value: Json) => Json): Json {
  if (path.length === 0) return change(json);
  const copy = clone(json);
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  parent[last] = change(parent[last] as Json);
  return copy;
}

/** A structural mutation, applied to a value before it is written out. */
type Structural = (json: Json, pick: number) => Json;

const structural: Array<fc.Arbitrary<{ name: string; apply: Structural }>> = [
  anyValue.map((value) => ({
    name: `set a value to ${JSON.stringify(value)}`,
    apply: (json, pick) => {
      const all = paths(json);
      return update(json, all[pick % all.length] as Array<string | number>, () => value);
    },
  })),
  fc
    .constantFrom('ena}bled', 'enable', '__proto__', 'constructor', 'toxic', 'Name', 'attribute', 'bogus')
    .map((key) => ({
      name: `add key ${JSON.stringify(key)}`,
      apply: (json, pick) => {
        const objects = paths(json).filter((path) => {
          let value: Json = json;
          for (const step of path) value = (value as Record<string | number, Json>)[step] as Json;
          return value !== null && typeof value === 'object' && !Array.isArray(value);
        });
        if (objects.length === 0) return json;
        return update(json, objects[pick % objects.length] as Array<string | number>, (value) => {
          const object = Object.create(null) as Record<string, Json>;
          Object.assign(object, value as object);
          Object.defineProperty(object, key, {
            value: 1,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          return object as Json;
        });
      },
    })),
  anyValue.map((value) => ({
    name: `an entry becomes ${JSON.stringify(value)}`,
    apply: (json, pick) =>
      Array.isArray(json) && json.length > 0 ? update(json, [pick % json.length], () => value) : [value],
  })),
  fc.constant({
    name: 'duplicate an entry',
    apply: (json: Json, pick: number) =>
      Array.isArray(json) && json.length > 0 ? [...json, clone(json[pick % json.length] as Json)] : json,
  }),
  fc.integer({ min: 2, max: 40 }).map((depth) => ({
    name: `nest ${depth} deep`,
    apply: (json: Json, pick: number) => {
      const all = paths(json);
      return update(json, all[pick % all.length] as Array<string | number>, (value) => {
        let nested = value;
        for (let i = 0; i < depth; i++) nested = i % 2 === 0 ? [nested] : { deep: nested };
        return nested;
      });
    },
  })),
];

/** A textual mutation, applied to the written text. */
const textual: Array<fc.Arbitrary<{ name: string; apply: (text: string, at: number) => string }>> = [
  fc.constant({
    name: 'truncate',
    apply: (text: string, at: number) => text.slice(0, at % (text.length + 1)),
  }),
  fc.integer({ min: 1, max: 6 }).map((length) => ({
    name: `delete ${length}`,
    apply: (text: string, at: number) => {
      const start = at % (text.length + 1);
      return text.slice(0, start) + text.slice(start + length);
    },
  })),
  fc
    .constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      'x',
      ' ',
      '\n',
      '-',
      '0',
      '5',
      'e',
      '.',
      '\\',
      'é',
      '\u0000',
      '\uFEFF',
      '\r',
      'true',
    )
    .map((inserted) => ({
      name: `insert ${JSON.stringify(inserted)}`,
      apply: (text: string, at: number) => {
        const start = at % (text.length + 1);
        return text.slice(0, start) + inserted + text.slice(start);
      },
    })),
  fc
    .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1E-400', '-0', '0.0000001', '1e2')
    .map((number) => ({
      name: `a number becomes ${number}`,
      apply: (text: string, at: number) => {
        // Numbers outside strings: a digit run after ":" , "[" or "," (what the configs are written as).
        const numbers = [...text.matchAll(/(?<=[:[,]\s*)-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
        const match = numbers[at % Math.max(numbers.length, 1)];
        if (match === undefined) return text.replace(/\]\s*$/, `${text.includes('{') ? ',' : ''}${number}]`);
        return text.slice(0, match.index) + number + text.slice(match.index + match[0].length);
      },
    })),
  fc.constant({
    name: 'duplicate a key',
    apply: (text: string, at: number) => {
      const objects = [...text.matchAll(/\{/g)];
      const match = objects[at % Math.max(objects.length, 1)];
      return match === undefined
        ? text
        : `${text.slice(0, match.index + 1)}"name": "dup", ${text.slice(match.index + 1)}`;
    },
  }),
];

interface Case {
  readonly text: string;
  readonly steps: readonly string[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    base: fc.constantFrom(...baseConfigs),
    structural: fc.array(fc.tuple(fc.oneof(...structural), fc.nat()), { maxLength: 2 }),
    indent: fc.constantFrom(0, 2, 4),
    textual: fc.array(fc.tuple(fc.oneof(...textual), fc.nat()), { maxLength: 2 }),
  })
  .map((choice) => {
    let json = choice.base;
    for (const [mutation, pick] of choice.structural) json = mutation.apply(json, pick);
    let text = JSON.stringify(json, null, choice.indent);
    for (const [mutation, at] of choice.textual) text = mutation.apply(text, at);
    return {
      text,
      steps: [
        ...choice.structural.map(([m]) => m.name),
        `indent ${choice.indent}`,
        ...choice.textual.map(([m]) => m.name),
      ],
    };
  });

interface Tally {
  loaded: number;
  refused: number;
  syntax: number;
  kinds: Map<string, number>;
}

/** Loads a config in-process as the CLI does; checks the invariants; returns the error message, if any. */
async function load(text: string, tally: Tally): Promise<string | undefined> {
  const hub = new ProxyHub({ seed: 1 });
  let jsonOk = true;
  try {
    JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    jsonOk = false;
  }
  try {
    const loaded = withTimeout(applyProxyConfigText(hub, text), 5000);
    const proxies = await loaded;
    assert.ok(jsonOk, 'the scanner accepted what JSON.parse refuses');
    for (const proxy of proxies) {
      if (proxy.enabled) assert.match(proxy.listen, /:[1-9]\d*$/, `${proxy.name} listens`);
    }
    tally.loaded++;
    return undefined;
  } catch (error) {
    assert.ok(
      error instanceof FaultlineError,
      `not a FaultlineError: ${error instanceof Error ? error.stack : String(error)}`,
    );
    assert.equal(error.code, 'FL_ERR_CONFIG', error.message);
    const match = /^fuzz\.json:(\d+):(\d+): (invalid JSON( in proxies.*?)?: |proxies.*?: )/s.exec(
      error.message,
    );
    assert.ok(match, `no position and field: ${error.message}`);
    const [line, column] = [Number(match[1]), Number(match[2])];
    assert.deepEqual([error.details.line, error.details.column], [line, column], error.message);
    const lines = text.split('\n');
    assert.ok(line <= lines.length, `line ${line} is past the end: ${error.message}`);
    assert.ok(
      column <= [...(lines[line - 1] ?? '')].length + 1,
      `column ${column} is past the line: ${error.message}`,
    );
    assert.doesNotMatch(error.message, /\n\s+at /, 'a stack trace');
    const syntax = match[3]?.startsWith('invalid JSON') ?? false;
    if (!jsonOk)
      assert.ok(syntax, `JSON.parse refuses this but the error is not about JSON: ${error.message}`);
    else if (syntax) assert.match(error.message, /nesting deeper than/, 'JSON.parse accepts this');
    tally.refused++;
    if (syntax) tally.syntax++;
    const kind = error.message
      .replace(/^fuzz\.json:\d+:\d+: /, '')
      .replace(/proxies(\[\d+\]|\.[^.:[]+)*/g, 'F')
      .replace(/"[^"]*"/g, 'S')
      .replace(/\d+/g, 'N')
      .slice(0, 60);
    tally.kinds.set(kind, (tally.kinds.get(kind) ?? 0) + 1);
    return error.message;
  } finally {
    await hub.close();
  }
}

async function applyProxyConfigText(hub: ProxyHub, text: string): ReturnType<typeof applyProxyConfig> {
  return applyProxyConfig(hub, parseProxyConfig(file, text));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms);
    }),
  ]);
}

/** Listening sockets of this process, once close callbacks have run. */
async function listening(): Promise<number> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap').length;
}

test('config fuzzer: every mutated --config loads or is refused at file:line:column naming the field', async (t) => {
  const tally: Tally = { loaded: 0, refused: 0, syntax: 0, kinds: new Map() };
  const baseline = await listening();
  t.diagnostic(
    `config fuzzer: seed ${seed}, ${runs} configs (FAULTLINE_FUZZ_CONFIG_RUNS, FAULTLINE_FUZZ_SEED)`,
  );
  const started = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ text, steps }) => {
        try {
          await load(text, tally);
          assert.equal(await listening(), baseline, 'a listener was left behind');
        } catch (error) {
          throw new Error(`${steps.join(', ')}: ${JSON.stringify(text).slice(0, 2000)}`, { cause: error });
        }
      }),
      { seed, numRuns: runs },
    );
  } catch (error) {
    const path = /path: "?([\d:]+)"?/.exec(error instanceof Error ? error.message : '')?.[1];
    t.diagnostic(`replay: FAULTLINE_FUZZ_SEED=${seed}${path ? ` (fast-check path ${path})` : ''}`);
    throw error;
  } finally {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const kinds = [...tally.kinds].sort((a, b) => b[1] - a[1]);
    if (process.env.FAULTLINE_FUZZ_DEBUG) for (const [kind, n] of kinds) t.diagnostic(`${n} ${kind}`);
    t.diagnostic(
      `config fuzzer: ${tally.loaded + tally.refused} configs in ${seconds} s: ${tally.loaded} loaded, ${tally.refused} refused (${tally.syntax} as invalid JSON, ${kinds.length} kinds of message)`,
    );
  }
  assert.ok(
    tally.loaded > 0 && tally.refused > tally.syntax,
    'both valid and semantically wrong configs were tried',
  );
});

test('config fuzzer: deep nesting and huge inputs are refused quickly, without overflowing the stack', async () => {
  const tally: Tally = { loaded: 0, refused: 0, syntax: 0, kinds: new Map() };
  for (const depth of [maxConfigDepth + 1, 10_000, 200_000]) {
    const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    // The invariant is "refused, no stack overflow"; only the parse is timed, with room for a loaded VM.
    const started = performance.now();
    let error: unknown;
    try {
      parseProxyConfig(file, text);
    } catch (caught) {
      error = caught;
    }
    const ms = performance.now() - started;
    assert.ok(error instanceof FaultlineError, `depth ${depth}: ${String(error)}`);
    assert.equal(error.code, 'FL_ERR_CONFIG');
    assert.match(error.message, new RegExp(`nesting deeper than ${maxConfigDepth} levels`));
    assert.ok(ms < 10_000, `depth ${depth} took ${Math.round(ms)} ms`);
  }
  const longString = `[{"name": "${'x'.repeat(1_000_000)}", "listen": "127.0.0.1:0", "upstream": 5}]`;
  assert.match((await load(longString, tally)) ?? '', /^fuzz\.json:1:\d+: proxies\[0\]\.upstream: /);
  const manyEntries = JSON.stringify(
    Array.from({ length: 2000 }, (_, i) => (i === 1999 ? 7 : { name: `p${i}` })),
  );
  assert.match(
    (await load(manyEntries, tally)) ?? '',
    /^fuzz\.json:1:\d+: proxies\[1999\]: expected an object/,
  );
});

test('config fuzzer: the real CLI refuses mutated configs with the same message, exit code 1, no stack, no hang', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-config-fuzz-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A handful of cases, one per kind of mistake (spawning the CLI is slow on a loaded machine).
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => busy.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const busyPort = (busy.address() as AddressInfo).port;
  const cases = [
    '[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},\n  {"name": "b", "listen": "127.0',
    '[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "ena}bled": true}\n]',
    '[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},\n  42\n]',
    `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},\n  {"name": "b", "listen": "127.0.0.1:${busyPort}", "upstream": "127.0.0.1:1"}\n]`,
    '[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1",\n   "toxics": [{"type": "latency", "attributes": {"latency": 1e400}}]}\n]',
    `${'['.repeat(5000)}`,
  ];
  const tally: Tally = { loaded: 0, refused: 0, syntax: 0, kinds: new Map() };
  for (const [i, text] of cases.entries()) {
    const path = join(dir, `case-${i}.json`);
    await writeFile(path, text);
    const expected = (await load(text, tally))?.replace(/^fuzz\.json/, path);
    assert.ok(expected !== undefined, `case ${i} should be refused`);
    const result = await runCli(['server', '--port', '0', '--quiet', '--config', path], 20_000);
    assert.equal(result.signal, null, `case ${i} hung and was killed`);
    assert.equal(result.code, 1, `case ${i}: ${result.stderr}`);
    assert.equal(result.stderr, `faultline: ${expected}\n`, `case ${i}`);
    assert.doesNotMatch(result.stdout, /listening/);
  }
});
