// The run journal: its records, the published JSON Schema, the streaming writer (on a VirtualClock and on
// a process that exits at once), and a real `faultline run` journal held against the schema.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import {
  JournalWriter,
  journalJsonSchema,
  journalLine,
  validateJournalRecord,
} from '../../src/report/index.js';
import { runCli } from '../cli/run-cli.js';
import { storeScenario } from '../cli/store-scenario.js';
import { freePort, tcpPortFree } from '../support/ports.js';
import { schemaProblems } from './json-schema.js';

const header = {
  faultline: '0.1.0',
  scenario: { file: 'chaos/store.toml', name: 'store', tags: ['chaos'] },
  seed: 5,
  startedAt: '2026-01-01T00:00:00.000Z',
  replay: 'faultline run --seed 5 chaos/store.toml',
};
const verdict = {
  verdict: 'pass',
  reason: 'every check held',
  elapsedMs: 12,
  ops: 2,
  checks: [{ checker: 'linearizability', valid: true, anomalyCount: 0 }],
} as const;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-journal-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function records(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
}

/** Every record valid by the schema `faultline schema --journal` publishes and by the validator. */
function assertValid(lines: readonly unknown[]): void {
  const schema = journalJsonSchema();
  for (const [index, record] of lines.entries()) {
    assert.deepEqual(schemaProblems(schema, record), [], `line ${index + 1}: ${JSON.stringify(record)}`);
    validateJournalRecord(record, `line ${index + 1}`);
  }
}

describe('journal records', () => {
  it('journalLine names live objects, and writes bigints and errors as strings', () => {
    class LiveProxy {
      name = 'front';
      toJSON(): unknown {
        return { listening: true };
      }
    }
    const line = journalLine({ params: { proxy: new LiveProxy(), n: 10n, error: new Error('boom') } });
    assert.equal(line, '{"params":{"proxy":"front","n":"10","error":"boom"}}');
    // Ops of plain values take a faster path; one with a bigint or an object value gets the same treatment.
    const op = { process: 1, type: 'ok', f: 'add', value: 7, time: 5, index: 1 };
    assert.equal(journalLine({ type: 'op', op }), JSON.stringify({ type: 'op', op }));
    assert.equal(
      journalLine({ type: 'op', op: { ...op, value: { n: 10n, proxy: new LiveProxy() } } }),
      '{"type":"op","op":{"process":1,"type":"ok","f":"add","value":{"n":"10","proxy":"front"},"time":5,"index":1}}',
    );
  });

  it('refuses a record that breaks the schema, naming the field and what is valid', () => {
    assert.throws(
      () => validateJournalRecord({ type: 'probe', name: 'health', ok: 'yes', durationMs: 1, atMs: 2 }),
      (error: Error) => /record\.ok: expected true or false/.test(error.message),
    );
    assert.throws(
      () => validateJournalRecord({ type: 'party', atMs: 1 }),
      (error: Error) => /record\.type: .*journal.*verdict/.test(error.message),
    );
    assert.throws(
      () => validateJournalRecord({ type: 'phase', name: 'method', state: 'start', atMs: 1, extra: 1 }),
      (error: Error) => /record\.extra: unknown parameter/.test(error.message),
    );
    const schema = journalJsonSchema();
    assert.notDeepEqual(schemaProblems(schema, { type: 'phase', name: 'nap', state: 'start', atMs: 1 }), []);
    // An op keeps what a recorder's note added (`node` here); its own fields are still checked.
    assert.deepEqual(
      schemaProblems(schema, {
        type: 'op',
        op: { process: 'nemesis', type: 'info', f: 'kill', value: null, time: 5, index: 0, node: 'n1' },
      }),
      [],
    );
    assert.throws(
      () =>
        validateJournalRecord({ type: 'op', op: { process: 1, type: 'done', f: 'read', time: 1, index: 0 } }),
      /record\.op\.type/,
    );
  });
});

describe('JournalWriter', () => {
  it('writes the header at once, events in batches or after flushMs, then the verdict', async (t) => {
    const path = join(await tempDir(t), 'nested', 'run.jsonl');
    const clock = new VirtualClock({ wallStartMs: Date.parse('2026-01-01T00:00:05Z') });
    const writer = new JournalWriter(path, header, { clock, batchEvents: 3, flushMs: 500 });
    assert.deepEqual(
      (await records(path)).map((r) => r.type),
      ['journal'],
    );
    writer.write({ type: 'phase', name: 'method', state: 'start', atMs: 1 });
    assert.equal((await records(path)).length, 1, 'held until the batch fills or flushMs passes');
    clock.advance(500);
    assert.equal((await records(path)).length, 2, 'flushed after flushMs');
    const op = (index: number) => ({
      type: 'op' as const,
      op: { process: 1, type: index % 2 === 0 ? 'invoke' : 'ok', f: 'write', value: 3, time: index, index },
    });
    for (let index = 0; index < 3; index++) writer.write(op(index));
    assert.equal((await records(path)).length, 5, 'a full batch is written at once');
    writer.write(op(3));
    writer.close(verdict);
    writer.close(verdict);
    writer.write(op(4));
    const lines = await records(path);
    assert.deepEqual(
      lines.map((r) => r.type),
      ['journal', 'phase', 'op', 'op', 'op', 'op', 'verdict'],
    );
    assert.deepEqual(lines[0], { type: 'journal', version: 1, ...header });
    assert.deepEqual(lines.at(-1), {
      type: 'verdict',
      ...verdict,
      events: 5,
      endedAt: '2026-01-01T00:00:05.500Z',
    });
    assertValid(lines);
  });

  it('a process that exits at once still leaves its events and an interrupted verdict', async (t) => {
    const path = join(await tempDir(t), 'exit.jsonl');
    const module = fileURLToPath(new URL('../../src/report/index.js', import.meta.url));
    const clockModule = fileURLToPath(new URL('../../src/core/clock.js', import.meta.url));
    const script = `
      const { JournalWriter } = await import(${JSON.stringify(module)});
      const { realClock } = await import(${JSON.stringify(clockModule)});
      const writer = new JournalWriter(${JSON.stringify(path)}, ${JSON.stringify(header)}, { clock: realClock });
      const stop = writer.record();
      const { publish } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/core/events.js', import.meta.url)))});
      publish({ type: 'phase', name: 'method', state: 'start', atMs: 1 });
      process.exit(130);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const [code] = await once(child, 'exit');
    assert.equal(code, 130);
    const lines = await records(path);
    assert.deepEqual(
      lines.map((r) => r.type),
      ['journal', 'phase', 'verdict'],
    );
    assert.equal(lines[2]?.verdict, 'interrupted');
    assertValid(lines);
  });
});

describe('a real run', () => {
  it('`faultline schema --journal` prints the schema; a run writes its journal where it says, valid by it', async (t) => {
    const printed = await runCli(['schema', '--journal']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(JSON.parse(printed.stdout), journalJsonSchema());

    const port = await freePort();
    const { dir, file } = await storeScenario(t, port);
    const result = await runCli(['run', file], 60_000, { cwd: dir });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^ {2}journal: faultline-runs\/store-5\.jsonl$/m);
    const lines = await records(join(dir, 'faultline-runs', 'store-5.jsonl'));
    assertValid(lines);
    const types = lines.map((r) => r.type);
    assert.equal(types[0], 'journal');
    assert.equal(types.at(-1), 'verdict');
    assert.deepEqual(lines[1], { ...lines[1], type: 'run', state: 'start', scenario: 'store', seed: 5 });
    const end = lines.at(-2);
    assert.deepEqual(end, { ...end, type: 'run', state: 'end', verdict: 'pass' });
    const last = lines.at(-1) as { verdict: string; ops: number; events: number; checks: unknown[] };
    assert.equal(last.verdict, 'pass');
    assert.equal(last.events, lines.length - 2);
    // Each call the workload made is two op events: its invocation and its completion.
    assert.equal(
      types.filter((type) => type === 'op').length,
      2 * last.ops,
      'every op recorded is journalled',
    );
    assert.deepEqual(last.checks, [
      { checker: 'linearizability', valid: true, anomalyCount: 0 },
      { checker: 'hermeticity', valid: true, anomalyCount: 0 },
    ]);
    const check = lines.find((r) => r.type === 'check');
    assert.deepEqual(check, { ...check, checker: 'linearizability', valid: true, anomalyCount: 0 });
    assert.ok(types.includes('fault.inject') && types.includes('fault.heal') && types.includes('phase'));
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });
});
