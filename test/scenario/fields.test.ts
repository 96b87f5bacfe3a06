// Every field of the scenario format, generated from its one definition (and from each registered fault
// kind's params), gets a wrong value and — when required — is left out: each is FL_ERR_CONFIG naming
// file:line:column, the field and what is valid. A field another change adds is covered without editing
// this file. And a scenario that fails validation starts nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import '../../src/scenario/fault-families.js';
import { FaultlineError } from '../../src/core/errors.js';
import { faultFactory, faultKinds } from '../../src/core/fault-registry.js';
import type { ParamSpec, ParamSpecs } from '../../src/core/params.js';
import { readDocument } from '../../src/scenario/document.js';
import { scenarioJsonSchema, scenarioSpecs, validateScenario } from '../../src/scenario/format.js';
import { runCli } from '../cli/run-cli.js';

type Path = readonly (string | number)[];

/** One mutation of a valid document and what the refusal must say. */
interface Case {
  /** Names the case: the field path with the variant chosen on the way, `workload(kv).clients`. */
  readonly label: string;
  readonly path: Path;
  readonly action: 'wrong' | 'missing' | 'unknown-key' | 'bad-name';
  readonly value?: unknown;
  /** Keys of the same object removed first (a faults entry's kind and params, to give oneOf instead). */
  readonly drop?: readonly string[];
}

/** A valid value for a spec, and the cases that break it (paths relative to the value). */
interface Example {
  readonly value: unknown;
  readonly cases: readonly Case[];
  /** The variant tag, when the spec was a variant: names record entries after it. */
  readonly tag?: string;
}

/** Which target type each `ref` kind names (scenario targets are named after their type below). */
const refTarget = (ref: string): string => (ref === 'process-target' ? 'process' : ref);

const isRequired = (spec: ParamSpec): boolean =>
  !spec.optional && !('default' in spec && spec.default !== undefined);

const prefixed = (cases: readonly Case[], key: string | number, label: string): Case[] =>
  cases.map((c) => ({
    ...c,
    path: [key, ...c.path],
    label: c.label === '' ? label : /^[[(]/.test(c.label) ? `${label}${c.label}` : `${label}.${c.label}`,
  }));

/** A valid value of a shape's JSON Schema: its const, first enum value, first alternative, required fields. */
function schemaExample(schema: Record<string, unknown>): unknown {
  if ('const' in schema) return schema.const;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties !== undefined) {
    // The required fields, and those of the first alternative (`oneOf: [{ required: […] }, …]`).
    const alternatives = (schema.oneOf ?? schema.anyOf) as { required?: string[] }[] | undefined;
    const required = [
      ...((schema.required as string[] | undefined) ?? []),
      ...(alternatives?.[0]?.required ?? []),
    ];
    return Object.fromEntries(required.map((key) => [key, schemaExample(properties[key] ?? {})]));
  }
  if (Array.isArray(schema.oneOf)) return schemaExample(schema.oneOf[0] as Record<string, unknown>);
  if (Array.isArray(schema.anyOf)) return schemaExample(schema.anyOf[0] as Record<string, unknown>);
  switch (schema.type) {
    case 'string': {
      // A pattern cannot be inverted in general: the first of a few usual shapes that fits it.
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
      return ['x', '$.a', '2xx', '1s'].find((text) => pattern?.test(text) ?? true) ?? 'x';
    }
    case 'number':
    case 'integer':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return true;
    case 'array': {
      const items = (schema.items as Record<string, unknown> | undefined) ?? {};
      return Array.from({ length: (schema.minItems as number | undefined) ?? 0 }, () => schemaExample(items));
    }
    case 'object':
      return {};
    default:
      return 'x';
  }
}

const shapeCandidates: readonly unknown[] = [42, { bogus: true }, 'nope', [[]]];

/** Wrong values for a spec: a wrong type always, out of range where there is a range. */
function wrongValues(spec: ParamSpec): unknown[] {
  switch (spec.type) {
    case 'number':
      return [
        'x',
        ...(spec.min === undefined ? [] : [spec.min - 1]),
        ...(spec.max === undefined ? [] : [spec.max + 1]),
        ...(spec.integer ? [(spec.min ?? 0) + 1.5] : []),
      ];
    case 'string':
      return spec.oneOf === undefined ? [42] : ['nope', 42];
    case 'boolean':
      return ['yes'];
    case 'list':
      return ['x', ...((spec.minItems ?? 0) > 0 ? [[]] : [])];
    case 'object':
    case 'record':
    case 'variant':
      return ['x'];
    case 'ref':
      return ['nope', 42];
    case 'shape': {
      // A shape's own check says which of these it refuses (42 is a valid exit code); one that refuses
      // none keeps 42, so that the case fails and shows what it accepts.
      const refused = shapeCandidates.find((value) => {
        try {
          spec.check(value, 'field');
          return false;
        } catch {
          return true;
        }
      });
      return [refused ?? 42];
    }
    case 'duration':
      return ['soon', -1];
  }
}

/** The alternatives of an object's fields, zipped: alternative j takes each field's j-th (or first). */
function objectExamples(fields: ParamSpecs, fixed: Record<string, unknown> = {}): Example[] {
  const perField = Object.entries(fields).map(([key, spec]) => ({ key, spec, alts: examples(spec) }));
  const count = Math.max(1, ...perField.map((f) => f.alts.length));
  const result: Example[] = [];
  for (let j = 0; j < count; j++) {
    const value: Record<string, unknown> = { ...fixed };
    const cases: Case[] = [{ label: 'bogus', path: ['bogus'], action: 'unknown-key' }];
    for (const { key, spec, alts } of perField) {
      const alt = alts[Math.min(j, alts.length - 1)] as Example;
      value[key] = alt.value;
      cases.push(...prefixed(alt.cases, key, key));
      for (const wrong of wrongValues(spec))
        cases.push({ label: key, path: [key], action: 'wrong', value: wrong });
      if (isRequired(spec)) cases.push({ label: key, path: [key], action: 'missing' });
    }
    result.push({ value, cases });
  }
  return result;
}

/** Valid values of a spec: one per variant reachable inside it, with the cases that break each. */
function examples(spec: ParamSpec): Example[] {
  switch (spec.type) {
    case 'number': {
      const value = spec.default ?? spec.min ?? 1;
      return [{ value, cases: [] }];
    }
    case 'string':
      return [{ value: spec.default ?? spec.oneOf?.[0] ?? 'x', cases: [] }];
    case 'boolean':
      return [{ value: spec.default ?? true, cases: [] }];
    case 'duration':
      return [{ value: spec.default ?? '1s', cases: [] }];
    case 'ref':
      return [{ value: refTarget(spec.ref), cases: [] }];
    case 'shape':
      return [{ value: schemaExample(spec.schema), cases: [] }];
    case 'object':
      return objectExamples(spec.fields);
    case 'variant':
      return Object.entries(spec.variants).flatMap(([tag, fields]) =>
        objectExamples(fields, { [spec.tag]: tag }).map((alt) => ({
          tag,
          value: alt.value,
          cases: [
            ...prefixed(alt.cases, '', `(${tag})`).map((c) => ({ ...c, path: c.path.slice(1) })),
            { label: `(${tag}).${spec.tag}`, path: [spec.tag], action: 'wrong' as const, value: 'nope' },
            { label: `(${tag}).${spec.tag}`, path: [spec.tag], action: 'missing' as const },
          ],
        })),
      );
    case 'list': {
      // Every alternative of the items in one list: all of them are checked in one document.
      const alts = examples(spec.items);
      const items = Array.from(
        { length: Math.max(alts.length, spec.minItems ?? 0, 1) },
        (_, i) => alts[Math.min(i, alts.length - 1)] as Example,
      );
      return [
        {
          value: items.map((item) => item.value),
          cases: items.flatMap((item, i) => prefixed(item.cases, i, `[${i}]`)),
        },
      ];
    }
    case 'record': {
      const alts = examples(spec.values);
      const used = new Map<string, number>();
      const entries = alts.map((alt) => {
        const base = alt.tag ?? 'a';
        const seen = (used.get(base) ?? 0) + 1;
        used.set(base, seen);
        return { name: seen === 1 ? base : `${base}-${seen}`, alt };
      });
      return [
        {
          value: Object.fromEntries(entries.map(({ name, alt }) => [name, alt.value])),
          cases: [
            ...entries.flatMap(({ name, alt }) => prefixed(alt.cases, name, name)),
            { label: '1bad', path: ['1bad'], action: 'bad-name', value: entries[0]?.alt.value ?? 'x' },
          ],
        },
      ];
    }
  }
}

/** The scenario sections (one document per alternative), then one faults entry per registered kind. */
function documents(): { value: Record<string, unknown>; cases: Case[] }[] {
  const sections = objectExamples(scenarioSpecs);
  const faults = faultKinds().flatMap((info) => {
    const params = faultFactory(info.kind)?.definition.params ?? {};
    return objectExamples(params).map((alt) => ({
      kind: info.kind,
      alt,
      required: Object.values(params).some(isRequired),
    }));
  });
  const faultCases = faults.flatMap(({ kind, alt, required }, i) => [
    ...prefixed(alt.cases, 'params', `<${kind}>.params`).map((c) => ({
      ...c,
      path: ['faults', i, ...c.path],
      label: `faults[${i}]${c.label}`,
    })),
    {
      label: `faults[${i}]<${kind}>.kind`,
      path: ['faults', i, 'kind'],
      action: 'wrong' as const,
      value: 'no.such-kind',
    },
    { label: `faults[${i}]<${kind}>.kind`, path: ['faults', i, 'kind'], action: 'missing' as const },
    ...(required
      ? [{ label: `faults[${i}]<${kind}>.params`, path: ['faults', i, 'params'], action: 'missing' as const }]
      : []),
  ]);
  // The timing fields, from the published schema (so new ones are covered too): a wrong type each.
  const timing = timingProperties();
  const timingCases: Case[] = [
    { label: 'faults[0].bogus', path: ['faults', 0, 'bogus'], action: 'unknown-key' },
    {
      label: 'faults[0].oneOf',
      path: ['faults', 0, 'oneOf'],
      action: 'wrong',
      value: 'x',
      drop: ['kind', 'params'],
    },
    ...Object.entries(timing).flatMap(([key, schema]) =>
      schemaWrongValues(schema).map((value) => ({
        label: `faults[0].${key}`,
        path: ['faults', 0, key],
        action: 'wrong' as const,
        value,
      })),
    ),
  ];
  return sections.map((section, index) => ({
    value: {
      ...(withLogTargets(section.value) as Record<string, unknown>),
      faults: faults.map(({ kind, alt }) => ({ kind, params: alt.value })),
    },
    // The faults' cases once, in the first document.
    cases: [
      ...section.cases,
      ...(index === 0 ? [...faultCases, ...timingCases] : []),
      ...(index === 0 ? [{ label: 'bogus', path: ['bogus'], action: 'unknown-key' as const }] : []),
    ],
  }));
}

/** A `log` probe reads a process target's log: the generated ones name the first process target. */
function withLogTargets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withLogTargets);
  if (typeof value !== 'object' || value === null) return value;
  const object = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withLogTargets(item)]));
  return object.type === 'log' && 'pattern' in object ? { ...object, target: 'process' } : object;
}

function timingProperties(): Record<string, Record<string, unknown>> {
  const schema = scenarioJsonSchema() as {
    properties: { faults: { items: { oneOf: { properties: Record<string, Record<string, unknown>> }[] } } };
  };
  const entry = schema.properties.faults.items.oneOf.find((e) => 'oneOf' in e.properties);
  assert.ok(entry !== undefined, 'the schema has a oneOf faults entry');
  const { oneOf: _choices, ...timing } = entry.properties;
  return timing;
}

/** A value of the wrong type for a JSON Schema property. */
function schemaWrongValues(schema: Record<string, unknown>): unknown[] {
  if (Array.isArray(schema.enum)) return ['nope'];
  if (Array.isArray(schema.oneOf)) return ['soon'];
  switch (schema.type) {
    case 'number':
    case 'integer':
      return ['x', ...(typeof schema.minimum === 'number' ? [schema.minimum - 1] : [])];
    case 'string':
    case 'array':
    case 'object':
      return [42];
    default:
      return [{ not: 'this' }];
  }
}

function setAt(
  root: unknown,
  path: Path,
  change: (parent: Record<string, unknown>, key: string | number) => void,
): unknown {
  // JSON, not structuredClone: the examples share objects, and a clone would keep them shared.
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  let at = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  change(at as Record<string, unknown>, path.at(-1) as string | number);
  return copy;
}

function mutate(document: unknown, c: Case): unknown {
  return setAt(document, c.path, (parent, key) => {
    const object = parent as Record<string | number, unknown>;
    for (const key of c.drop ?? []) delete object[key];
    if (c.action === 'missing') delete object[key];
    else if (c.action === 'unknown-key') object[key] = 1;
    else object[key] = c.value;
  });
}

/** `targets.a[0].b` as validation errors name fields. */
function fieldOf(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

const file = 'fields.json';

/** The refusal of `value`: FL_ERR_CONFIG, `file:line:column: …`; returns the message and the text there. */
function refuse(value: unknown, label: string): { message: string; at: string; expected: unknown } {
  const text = JSON.stringify(value, null, 2);
  try {
    validateScenario(readDocument(file, text));
  } catch (error) {
    assert.ok(error instanceof FaultlineError, `${label}: ${String(error)}`);
    assert.equal(error.code, codes.config, `${label}: ${error.message}`);
    const match = /^fields\.json:(\d+):(\d+): /.exec(error.message);
    assert.ok(match, `${label}: no file:line:column in ${error.message}`);
    const line = text.split('\n')[Number(match[1]) - 1] ?? '';
    return {
      message: error.message.slice(match[0].length),
      at: line.slice(Number(match[2]) - 1),
      expected: error.details.expected,
    };
  }
  assert.fail(`${label}: expected the document to be refused`);
}

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('every field of the scenario format', () => {
  const docs = documents();

  it('the generated documents are valid, and cover every section, target type, variant and fault kind', () => {
    for (const doc of docs) validateScenario(readDocument(file, JSON.stringify(doc.value, null, 2)));
    const sections = new Set(docs.flatMap((d) => Object.keys(d.value)));
    assert.deepEqual([...sections].sort(), [...Object.keys(scenarioSpecs), 'faults'].sort());
    const kinds = ((docs[0]?.value.faults ?? []) as { kind: string }[]).map((f) => f.kind);
    assert.deepEqual(
      kinds,
      faultKinds().map((k) => k.kind),
    );
    assert.ok(docs.length > 1, 'one document per workload variant at least');
  });

  it('a wrong value anywhere is refused naming file:line:column, the field and what is valid', () => {
    let checked = 0;
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const c of doc.cases) {
        if (c.action !== 'wrong') continue;
        const key = `${c.label}=${JSON.stringify(c.value)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const label = `${c.label} = ${JSON.stringify(c.value)}`;
        const { message, at, expected } = refuse(mutate(doc.value, c), label);
        const field = fieldOf(c.path);
        assert.match(message, new RegExp(`^${literal(field)}: `), `${label}: ${message}`);
        assert.ok(
          typeof expected === 'string' && expected.length > 0,
          `${label}: no "what is valid" in the error: ${message}`,
        );
        assert.ok(
          at.startsWith(JSON.stringify(c.value, null, 2).split('\n')[0] as string),
          `${label}: the position points at ${JSON.stringify(at.slice(0, 30))}, not the value`,
        );
        checked++;
      }
    }
    assert.ok(checked > 300, `${checked} wrong values checked`);
  });

  it('a required field left out is refused naming it', () => {
    let checked = 0;
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const c of doc.cases) {
        if (c.action !== 'missing' || seen.has(c.label)) continue;
        seen.add(c.label);
        const { message, expected } = refuse(mutate(doc.value, c), `${c.label} left out`);
        const field = fieldOf(c.path);
        assert.match(
          message,
          // A left-out object is named, or the first required field in it.
          new RegExp(`^${literal(field)}(\\.[\\w-]+)?: (is required|expected one of|give either)`),
          `${c.label} left out: ${message}`,
        );
        assert.ok(typeof expected === 'string' && expected.length > 0, `${c.label}: ${message}`);
        checked++;
      }
    }
    assert.ok(checked > 50, `${checked} required fields checked`);
  });

  it('an unknown key in any object, or a bad name in any record, is refused naming it', () => {
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const c of doc.cases) {
        if ((c.action !== 'unknown-key' && c.action !== 'bad-name') || seen.has(c.label)) continue;
        seen.add(c.label);
        const { message, at } = refuse(mutate(doc.value, c), `${c.label} added`);
        const field = fieldOf(c.path);
        const why = c.action === 'unknown-key' ? /unknown parameter; valid: / : /is not a valid name/;
        assert.match(message, new RegExp(`^${literal(field)}: ${why.source}`), `${c.label}: ${message}`);
        if (c.action === 'unknown-key')
          assert.ok(at.startsWith(JSON.stringify(c.path.at(-1))), `${c.label}: points at ${at.slice(0, 30)}`);
      }
    }
    assert.ok(seen.size > 20, `${seen.size} objects checked`);
  });

  it('a scenario that fails validation starts nothing: exit 3, no process, no temp dir, no journal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-fields-test-'));
    try {
      const scratch = join(dir, 'tmp');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(scratch);
      const marker = join(dir, 'started');
      const bad = join(dir, 'bad.toml');
      // The target would leave a marker if it ever ran; the mistake is in a later section.
      await writeFile(
        bad,
        `[experiment]\nname = "bad"\n\n[targets.web]\ntype = "process"\nargv = ["/bin/sh", "-c", "touch ${marker}; sleep 30"]\n\n[[faults]]\nkind = "process.kill"\nat = "soon"\nparams = { target = "web" }\n`,
      );
      const result = await runCli(['run', bad], 20_000, {
        cwd: dir,
        env: { TMPDIR: scratch, FAULTLINE_STATE_DIR: join(dir, 'state') },
      });
      assert.equal(result.code, 3, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, /bad\.toml:10:6: faults\[0\]\.at: expected a duration/);
      assert.equal(existsSync(marker), false, 'the target never ran');
      assert.deepEqual(readdirSync(scratch), [], 'no run dir, no log dir');
      assert.equal(existsSync(join(dir, 'state')), false, 'no residue journal');
      assert.equal(existsSync(join(dir, 'faultline-runs')), false, 'no run journal');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
