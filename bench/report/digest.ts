/**
 * Digest benchmark: `node dist/bench/report/digest.js`.
 *
 * The canonical digest of a 100,000-op journal (issue 12 asks ≤ 1 s): a journal file of 100,000 `op`
 * lines (50,000 calls of 8 clients, each an invoke and an ok), an injection and its heal every 500 ops
 * and a probe result every 50, as `faultline run` writes it. Measured, in rounds that alternate them:
 * the baseline — read the file, split it, `JSON.parse` every line —, `readJournalRecords` (the same, plus each
 * non-op record checked against the journal format), `digestJournal` over the parsed records, and the
 * whole of `faultline digest` (read, check, digest). Medians are printed, with their ratio to the baseline.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { digestJournal, journalLine, readJournalRecords } from '../../src/report/index.js';
import { median, round } from '../proxy/stats.js';

const opsTarget = 100_000;
const rounds = 5;
const targetMs = 1000;

/** The lines of a 100,000-op journal, in the order a run writes them. */
function journalText(): string {
  const lines: string[] = [
    journalLine({
      type: 'journal',
      version: 1,
      faultline: 'bench',
      scenario: { file: 'bench.toml', name: 'bench', tags: [] },
      seed: 1,
      startedAt: new Date(0).toISOString(),
      replay: 'faultline run --seed 1 bench.toml',
    }),
    journalLine({ type: 'run', state: 'start', scenario: 'bench', seed: 1, atMs: 0 }),
    journalLine({ type: 'phase', name: 'method', state: 'start', atMs: 0 }),
  ];
  let events = 2;
  for (let index = 0; index < opsTarget; index++) {
    const call = index >> 1;
    const f = call % 3 === 0 ? 'read' : 'write';
    const invoke = index % 2 === 0;
    const value = f === 'read' ? (invoke ? null : call - 1) : call;
    const op = { process: call % 8, type: invoke ? 'invoke' : 'ok', f, value, time: index * 1e6, index };
    lines.push(journalLine({ type: 'op', op }));
    const atMs = index / 2;
    if (index % 500 === 0) {
      lines.push(
        journalLine({
          type: 'fault.inject',
          id: index / 500 + 10,
          kind: 'tcp.latency',
          label: 'tcp.latency "latency-downstream" on front',
          params: {
            proxy: 'front',
            stream: 'downstream',
            toxicityProbability: 1,
            latencyMs: 20,
            jitterMs: 0,
          },
          atMs,
        }),
      );
      events++;
    }
    if (index % 500 === 250) {
      lines.push(
        journalLine({ type: 'fault.heal', id: (index - 250) / 500 + 10, label: 'tcp.latency', atMs }),
      );
      events++;
    }
    if (index % 50 === 0) {
      lines.push(journalLine({ type: 'probe', name: 'health', ok: true, durationMs: 1.2, atMs }));
      events++;
    }
  }
  lines.push(journalLine({ type: 'phase', name: 'method', state: 'end', atMs: opsTarget / 2 }));
  events += opsTarget + 1;
  const checks = [{ checker: 'linearizability', valid: true, anomalyCount: 0 }];
  lines.push(
    journalLine({
      type: 'check',
      ...checks[0],
      anomalies: [],
      stats: { ops: opsTarget / 2 },
      atMs: opsTarget / 2,
    }),
    journalLine({
      type: 'verdict',
      verdict: 'pass',
      reason: 'bench',
      elapsedMs: 1,
      ops: opsTarget / 2,
      checks,
      events: events + 1,
      endedAt: new Date(0).toISOString(),
    }),
  );
  return `${lines.join('\n')}\n`;
}

function timed<T>(into: number[], body: () => T): T {
  const start = performance.now();
  const result = body();
  into.push(performance.now() - start);
  return result;
}

export async function benchDigest(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-digest-'));
  try {
    const path = join(dir, 'run.jsonl');
    await writeFile(path, journalText());
    const { size } = await stat(path);
    const baselineMs: number[] = [];
    const readMs: number[] = [];
    const digestMs: number[] = [];
    const wholeMs: number[] = [];
    let sha = '';
    for (let round = 0; round < rounds; round++) {
      // The baseline reads the file itself: both sides pay for the read.
      const baselineStart = performance.now();
      const text = await readFile(path, 'utf8');
      const parsed = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
      baselineMs.push(performance.now() - baselineStart);
      const records = timed(readMs, () => readJournalRecords(path));
      if (records.length !== parsed.length)
        throw new Error(`read ${records.length} of ${parsed.length} lines`);
      sha = timed(digestMs, () => digestJournal(records)).sha256;
      const whole = timed(wholeMs, () => digestJournal(readJournalRecords(path)).sha256);
      if (whole !== sha) throw new Error('two digests of one journal differ');
    }
    const baseline50 = median(baselineMs);
    const line = (label: string, values: number[]): string =>
      `  ${label}: median ${round(median(values), 1)} ms (min ${round(Math.min(...values), 1)}, max ${round(Math.max(...values), 1)}), ${round(median(values) / baseline50, 2)}× the baseline`;
    console.log(`digest: a journal of ${opsTarget} ops, ${round(size / 1e6, 1)} MB, ${rounds} rounds`);
    console.log(`  baseline read + split + JSON.parse every line: median ${round(baseline50, 1)} ms`);
    console.log(line('readJournalRecords (parse + check each non-op record)', readMs));
    console.log(line('digestJournal over the parsed records', digestMs));
    console.log(line('faultline digest (read, check, digest)', wholeMs));
    const whole50 = median(wholeMs);
    console.log(`  target ≤ ${targetMs} ms: ${whole50 <= targetMs ? 'met' : 'MISSED'}; sha256 ${sha}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchDigest();
