// The canonical digest: what it leaves out (ids, times, machine names, poll counts, concurrent order) does
// not change it; what it covers (a fault's params, an outcome) does — on records, and on real runs of the
// demo store (the same seed twice, a changed fault parameter, the buggy store).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kvServicePath } from '../../src/demo/index.js';
import { digestJournal, type JournalRecord, parseJournal } from '../../src/report/index.js';
import { runCli } from '../cli/run-cli.js';

const demoScenario = fileURLToPath(new URL('../../../scenarios/demo.toml', import.meta.url));

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-digest-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A small journal; `vary` changes what the digest must ignore (ids, times, pids, ports, the run dir). */
function journal(
  vary: number,
  change: { latencyMs?: number; valid?: boolean; plannedAtMs?: number } = {},
): JournalRecord[] {
  const port = 40_000 + vary;
  const pid = 1000 + vary;
  const t = (ms: number): number => ms * (1 + vary / 10) + vary;
  const runDir = `/tmp/faultline-run-${['aB3dE9', 'x1Y2z3', 'Qq7Ww8'][vary % 3]}`;
  const valid = change.valid ?? true;
  const records: unknown[] = [
    {
      type: 'journal',
      version: 1,
      faultline: '0.1.0',
      scenario: {
        file: vary === 0 ? 'store.toml' : `/home/ci/${vary}/store.toml`,
        name: 'store',
        tags: ['a'],
      },
      seed: 5,
      startedAt: new Date(1_800_000_000_000 + vary * 1000).toISOString(),
      replay: 'faultline run --seed 5 store.toml',
    },
    { type: 'run', state: 'start', scenario: 'store', seed: 5, atMs: t(1) },
    { type: 'phase', name: 'setup', state: 'start', atMs: t(2) },
    // Readiness polls until it passes: how many fail first depends on the machine.
    ...Array.from({ length: vary + 1 }, (_, index) => ({
      type: 'probe',
      name: `http http://127.0.0.1:${port}/health`,
      ok: index === vary,
      durationMs: t(3),
      atMs: t(4 + index),
      ...(index === vary ? {} : { error: `connect ECONNREFUSED 127.0.0.1:${port}` }),
    })),
    { type: 'phase', name: 'setup', state: 'end', atMs: t(10) },
    { type: 'phase', name: 'method', state: 'start', atMs: t(11) },
    // The plan is the seed's: its instants are planned, not measured, so they are the same in every run.
    {
      type: 'schedule',
      injections: [
        {
          entry: 0,
          tick: 0,
          atMs: change.plannedAtMs ?? 50,
          healAtMs: 250,
          kind: 'tcp.latency',
          params: { proxy: 'front', latencyMs: change.latencyMs ?? 10 },
        },
      ],
      atMs: t(11),
    },
    { type: 'op', op: { process: 0, type: 'invoke', f: 'write', value: vary, time: t(1), index: 0 } },
    // Two injections at one instant: their order in the journal may differ from run to run.
    ...[
      {
        type: 'fault.inject',
        id: 5 + vary,
        kind: 'tcp.latency',
        label: 'tcp.latency on front',
        params: { proxy: 'front', latencyMs: change.latencyMs ?? 10 },
        atMs: t(12),
      },
      {
        type: 'fault.inject',
        id: 9 + vary,
        kind: 'process.kill',
        label: `kill -SIGKILL kv (pid ${pid})`,
        params: { target: 'kv', signal: 'SIGKILL', dir: `${runDir}/data` },
        atMs: t(12),
      },
    ].sort(() => (vary % 2 === 0 ? 1 : -1)),
    // The same statuses, polled a different number of times.
    ...Array.from({ length: 2 + vary }, (_, index) => ({
      type: 'probe',
      name: 'health',
      ok: index % 2 === 0,
      durationMs: t(1),
      atMs: t(13 + index),
    })),
    {
      type: 'op',
      op: { process: 0, type: vary === 0 ? 'ok' : 'info', f: 'write', value: vary, time: t(2), index: 1 },
    },
    ...Array.from({ length: 1 + vary * 3 }, (_, index) => ({
      type: 'op',
      op: { process: 1, type: 'invoke', f: 'read', value: null, time: t(3 + index), index: 2 + index },
    })),
    { type: 'fault.heal', id: 5 + vary, label: 'tcp.latency on front', atMs: t(20) },
    { type: 'fault.heal', id: 9 + vary, label: `kill -SIGKILL kv (pid ${pid})`, atMs: t(21) },
    { type: 'probe', name: 'steady', ok: true, durationMs: t(1), atMs: t(20) },
    { type: 'phase', name: 'heal', state: 'start', atMs: t(21) },
    // A sample the heal cut short: journalled as failing in some runs, not at all in others.
    ...(vary % 2 === 1
      ? [
          {
            type: 'probe',
            name: 'steady',
            ok: false,
            durationMs: t(1),
            error: 'probe "steady": request failed: This operation was aborted',
            atMs: t(21),
          },
        ]
      : []),
    { type: 'phase', name: 'heal', state: 'end', atMs: t(21) },
    { type: 'phase', name: 'method', state: 'end', atMs: t(22) },
    {
      type: 'check',
      checker: 'linearizability',
      valid,
      anomalyCount: valid ? 0 : 1,
      anomalies: valid ? [] : [{ type: 'non-linearizable', message: `at ${t(5)} ms` }],
      stats: { ops: 2 + vary, elapsedMs: t(1) },
      atMs: t(23),
    },
    { type: 'fault.heal', id: 1, label: 'remove the run directory', atMs: t(24) },
    { type: 'fault.heal', id: 2, label: 'targets.kv: stop process', atMs: t(24) },
    {
      type: 'verdict',
      verdict: valid ? 'pass' : 'fail',
      reason: valid ? 'every check held' : 'linearizability failed',
      elapsedMs: t(30),
      ops: 1 + vary * 3,
      checks: [{ checker: 'linearizability', valid, anomalyCount: valid ? 0 : 1 }],
      events: 20,
      endedAt: new Date(1_800_000_001_000 + vary * 1000).toISOString(),
    },
  ];
  return records as JournalRecord[];
}

describe('digestJournal', () => {
  it('ignores ids, times, pids, ports, temp paths, poll and op counts, samples cut short by the heal, and the order of concurrent injections', () => {
    const first = digestJournal(journal(0), { canonical: true });
    for (const vary of [1, 2, 3]) {
      const other = digestJournal(journal(vary), { canonical: true });
      assert.deepEqual(other.canonical, first.canonical, `variant ${vary}`);
      assert.equal(other.sha256, first.sha256);
    }
    assert.match(first.sha256, /^[0-9a-f]{64}$/);
    const text = (first.canonical ?? []).join('\n');
    assert.match(text, /kill -SIGKILL kv \(pid#1\)/);
    assert.match(text, /"dir":"\$\{run\.dir\}\/data"/);
    assert.match(text, /name="http http:\/\/127\.0\.0\.1:port#1\/health" last=ok/);
    assert.match(text, /probe stage=during name="health" seen=ok,failing/);
    assert.match(text, /probe stage=during name="steady" seen=ok$/m);
    assert.doesNotMatch(text, /atMs|elapsed|1000|40000/);
    assert.equal(first.covered.injections, 2);
    assert.equal(first.covered.verdict, true);
  });

  it('changes with a fault parameter and with the outcome', () => {
    const base = digestJournal(journal(0)).sha256;
    assert.notEqual(digestJournal(journal(0, { latencyMs: 20 })).sha256, base);
    assert.notEqual(digestJournal(journal(0, { plannedAtMs: 60 })).sha256, base, 'a moved fault');
    assert.notEqual(digestJournal(journal(0, { valid: false })).sha256, base);
    const unfinished = journal(0).filter((record) => record.type !== 'verdict');
    assert.notEqual(digestJournal(unfinished).sha256, base);
    assert.equal(digestJournal(unfinished).covered.verdict, false);
  });

  it('reads a journal, and refuses a corrupt or truncated one naming the line', () => {
    const text = journal(0)
      .map((record) => JSON.stringify(record))
      .join('\n');
    assert.equal(digestJournal(parseJournal(`${text}\n`)).sha256, digestJournal(journal(0)).sha256);
    const lines = text.split('\n');
    // A record type of a newer writer is read and left out.
    const newer = parseJournal([lines[0], '{"type":"span","name":"x"}', ...lines.slice(1)].join('\n'));
    const skipped = digestJournal(newer);
    assert.equal(skipped.covered.skipped, 1);
    assert.equal(skipped.sha256, digestJournal(journal(0)).sha256);
    assert.throws(
      () => parseJournal(`${lines.slice(0, 3).join('\n')}\n{"type":"pha`, 'run.jsonl'),
      (error: Error) => /^run\.jsonl:4: not a JSON record .*cut short/.test(error.message),
    );
    const bad = [...lines.slice(0, 2), '{"type":"phase","name":"lunch","state":"start","atMs":1}'];
    assert.throws(
      () => parseJournal(bad.join('\n'), 'run.jsonl'),
      (error: Error) => /^run\.jsonl:3: .*name.*setup/.test(error.message),
    );
    assert.throws(
      () => parseJournal(lines.slice(1).join('\n'), 'run.jsonl'),
      /run\.jsonl:1: not a faultline journal/,
    );
  });
});

describe('faultline digest over real runs of the demo store', () => {
  it('the same seed and outcome give the same digest; a changed fault parameter or the buggy store another', async (t) => {
    const dir = await tempDir(t);
    const changed = join(dir, 'demo.toml');
    // A parameter that does not change what happens (the kill is a SIGKILL): only the digest sees it.
    const source = await readFile(demoScenario, 'utf8');
    const edited = source.replace('signal = "SIGKILL" }', 'signal = "SIGKILL", exitTimeoutMs = 4000 }');
    assert.notEqual(edited, source);
    await writeFile(changed, edited);
    const run = async (name: string, variant: string, file = demoScenario): Promise<string> => {
      const path = join(dir, `${name}.jsonl`);
      const env = { FAULTLINE_DEMO_SERVICE: kvServicePath, FAULTLINE_DEMO_VARIANT: variant };
      const result = await runCli(['run', '--seed', '11', '--journal', path, file], 60_000, { env });
      assert.equal(result.code, variant === 'fixed' ? 0 : 1, result.stdout + result.stderr);
      const printed = /^ {2}digest: ([0-9a-f]{64})$/m.exec(result.stdout)?.[1];
      const digested = await runCli(['digest', path]);
      assert.equal(digested.code, 0, digested.stderr);
      assert.equal(digested.stdout, `${printed}  ${path}\n`, 'the run prints the digest of its journal');
      return printed as string;
    };
    const first = await run('first', 'fixed');
    const second = await run('second', 'fixed');
    if (first !== second) {
      const explained = await runCli([
        'digest',
        '--explain',
        join(dir, 'first.jsonl'),
        join(dir, 'second.jsonl'),
      ]);
      assert.fail(`two runs of seed 11 differ:\n${explained.stdout}`);
    }
    const [other, buggy] = await Promise.all([run('changed', 'fixed', changed), run('buggy', 'buggy')]);
    assert.notEqual(other, first, 'a changed fault parameter');
    assert.notEqual(buggy, first, 'the buggy store loses writes: another outcome');

    const explained = await runCli(['digest', '--explain', join(dir, 'first.jsonl')]);
    assert.match(explained.stdout, /^ {2}check checker="acked-writes" valid=true anomalies=0/m);
    assert.match(explained.stdout, /^ {2}verdict pass$/m);
  });

  it('refuses a corrupt journal naming its line, and a missing argument', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'cut.jsonl');
    const text = journal(0)
      .map((record) => JSON.stringify(record))
      .join('\n');
    await writeFile(path, text.slice(0, text.indexOf('"type":"phase"') + 12));
    const cut = await runCli(['digest', path]);
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, new RegExp(`${path.replaceAll('.', '\\.')}:3: not a JSON record`));
    const none = await runCli(['digest']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /expected a journal file[\s\S]*Usage: faultline digest/);
    const help = await runCli(['digest', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--explain/);
  });
});
