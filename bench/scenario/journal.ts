/**
 * Journal benchmark: `node dist/bench/scenario/journal.js` (also part of `bench:scenario`).
 *
 * Writing the journal of a 100,000-op run (issue 11 asks ≤ 3 s): 100,000 `op` events as a Recorder
 * publishes them (50,000 calls, each an invoke and an ok, recorded by a real Recorder), interleaved with
 * 200 injections and their heals and 2,000 probe checks. Measured: the JournalWriter subscribed while the
 * events are published (the path of `faultline run`: diagnostics channel → batch → synchronous writes),
 * header to closed file — against a baseline in the same run, `JSON.stringify` of the same array into one
 * `writeFile`. Rounds alternate the two; medians are printed.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { realClock } from '../../src/core/clock.js';
import { type FaultlineEvent, publish, subscribe } from '../../src/core/events.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Recorder } from '../../src/history/index.js';
import { JournalWriter } from '../../src/report/index.js';
import { median, round } from '../proxy/stats.js';

const opsTarget = 100_000;
const rounds = 5;
const targetMs = 3000;

/** The events of a 100,000-op run, in the order a run would publish them. */
async function runEvents(): Promise<FaultlineEvent[]> {
  const events: FaultlineEvent[] = [];
  const stop = subscribe((event) => events.push(event), ['op']);
  const clock = new VirtualClock();
  const recorder = new Recorder({ clock });
  try {
    for (let call = 0; call < opsTarget / 2; call++) {
      const process = call % 8;
      const f = call % 3 === 0 ? 'read' : 'write';
      await recorder.call(process, f, f === 'read' ? null : call, () =>
        f === 'read' ? call - 1 : undefined,
      );
      clock.advance(1);
    }
  } finally {
    stop();
  }
  // Faults and probes between the ops: an injection and its heal every 500 ops, a probe every 50.
  const mixed: FaultlineEvent[] = [{ type: 'phase', name: 'method', state: 'start', atMs: 0 }];
  for (const [index, event] of events.entries()) {
    mixed.push(event);
    const atMs = index / 2;
    if (index % 500 === 0) {
      const id = index / 500 + 10;
      mixed.push({
        type: 'fault.inject',
        id,
        kind: 'tcp.latency',
        label: 'tcp.latency "latency-downstream" on front',
        params: { proxy: 'front', stream: 'downstream', toxicityProbability: 1, latencyMs: 20, jitterMs: 0 },
        atMs,
      });
    }
    if (index % 500 === 250)
      mixed.push({ type: 'fault.heal', id: (index - 250) / 500 + 10, label: 'tcp.latency', atMs });
    if (index % 50 === 0) mixed.push({ type: 'probe', name: 'health', ok: true, durationMs: 1.2, atMs });
  }
  mixed.push({ type: 'phase', name: 'method', state: 'end', atMs: opsTarget / 2 });
  return mixed;
}

const header = {
  faultline: 'bench',
  scenario: { file: 'bench.toml', name: 'bench', tags: [] },
  seed: 1,
  startedAt: new Date(0).toISOString(),
  replay: 'faultline run --seed 1 bench.toml',
};

export async function benchJournal(): Promise<void> {
  const events = await runEvents();
  const ops = events.filter((event) => event.type === 'op').length;
  console.log(
    `journal: ${events.length} events (${ops} ops, the rest faults, heals, probes), ${rounds} rounds`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-journal-'));
  try {
    const writerMs: number[] = [];
    const baselineMs: number[] = [];
    let bytes = 0;
    let baselineBytes = 0;
    for (let round = 0; round < rounds; round++) {
      const path = join(dir, `writer-${round}.jsonl`);
      let start = performance.now();
      const writer = new JournalWriter(path, header, { clock: realClock });
      const stop = writer.record();
      for (const event of events) publish(event);
      stop();
      writer.close({ verdict: 'pass', reason: 'bench', elapsedMs: 0, ops, checks: [] });
      writerMs.push(performance.now() - start);
      bytes = (await stat(path)).size;

      const base = join(dir, `baseline-${round}.json`);
      start = performance.now();
      await writeFile(base, JSON.stringify(events));
      baselineMs.push(performance.now() - start);
      baselineBytes = (await stat(base)).size;
      await rm(path);
      await rm(base);
    }
    // The file is complete: the last line is the verdict, and every event has its line.
    const check = join(dir, 'check.jsonl');
    const writer = new JournalWriter(check, header, { clock: realClock });
    for (const event of events) writer.write(event);
    writer.close({ verdict: 'pass', reason: 'bench', elapsedMs: 0, ops, checks: [] });
    const lines = (await readFile(check, 'utf8')).trimEnd().split('\n');
    if (lines.length !== events.length + 2)
      throw new Error(`expected ${events.length + 2} lines, got ${lines.length}`);
    const writer50 = median(writerMs);
    const baseline50 = median(baselineMs);
    console.log(
      `  JournalWriter (publish → batched sync writes): median ${round(writer50, 1)} ms ` +
        `(min ${round(Math.min(...writerMs), 1)}, max ${round(Math.max(...writerMs), 1)}), ${round(bytes / 1e6, 1)} MB`,
    );
    console.log(
      `  baseline JSON.stringify(array) + writeFile: median ${round(baseline50, 1)} ms, ${round(baselineBytes / 1e6, 1)} MB`,
    );
    console.log(
      `  ratio writer/baseline ${round(writer50 / baseline50, 2)}×; target ≤ ${targetMs} ms: ${writer50 <= targetMs ? 'met' : 'MISSED'}` +
        ` (${round((writer50 * 1000) / events.length, 2)} µs per event)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await benchJournal();
