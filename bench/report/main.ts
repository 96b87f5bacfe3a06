// Reports from a 100,000-call journal (200,000 op lines): HTML size and time, JUnit time, JSON time,
// against reading the journal alone (the floor every report pays). Targets (issue 12): HTML ≤ 5 MB in
// ≤ 5 s; JUnit ≤ 1 s. Figures in docs/performance.md ("Reports").
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import {
  readJournal,
  renderHtmlReport,
  renderJunit,
  reportJson,
  writeReports,
} from '../../src/report/index.js';
import { writeSyntheticJournal } from '../../test/report/synthetic-journal.js';

const calls = Number(process.env.CALLS ?? 100_000);
const rounds = 3;
const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-report-'));
try {
  const journal = join(dir, 'run.jsonl');
  await writeSyntheticJournal(journal, calls);
  const size = (await stat(journal)).size;
  console.log(`journal: ${calls.toLocaleString('en')} calls, ${(size / 1e6).toFixed(1)} MB`);
  const best = async (name: string, body: () => Promise<unknown>): Promise<number> => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      await body();
      min = Math.min(min, performance.now() - started);
    }
    console.log(`${name.padEnd(40)} ${min.toFixed(0).padStart(6)} ms (best of ${rounds})`);
    return min;
  };
  await best('baseline: readline + JSON.parse per line', async () => {
    for await (const line of createInterface({ input: createReadStream(journal), crlfDelay: Infinity }))
      JSON.parse(line);
  });
  const reading = await best('read the journal (readJournal)', () => readJournal(journal));
  const summary = await readJournal(journal);
  await best('  + JUnit (renderJunit)', async () => renderJunit(await readJournal(journal)));
  await best('  + JSON (reportJson)', async () => reportJson(await readJournal(journal)));
  const html = await best('  + HTML (renderHtmlReport, 2 more passes)', async () =>
    renderHtmlReport(await readJournal(journal)),
  );
  const files = { html: join(dir, 'r.html'), junit: join(dir, 'r.xml'), json: join(dir, 'r.json') };
  await best('faultline report: all three, written', () => writeReports(journal, files));
  const htmlBytes = (await stat(files.html)).size;
  console.log(
    `HTML: ${(htmlBytes / 1e6).toFixed(2)} MB (target ≤ 5 MB); ${summary.ops.records} op lines read`,
  );
  console.log(`HTML over reading alone: ${(html - reading).toFixed(0)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
