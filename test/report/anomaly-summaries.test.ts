import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { summariseAnomalies } from '../../src/checker/index.js';
import type { Op } from '../../src/history/index.js';
import {
  journalLine,
  readJournal,
  renderHtmlReport,
  renderJunit,
  validateJournalRecord,
} from '../../src/report/index.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-summaries-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a check event with anomaly summaries', () => {
  it('is a valid journal record, and the HTML and JUnit reports show the summary of every anomaly', async () => {
    const write = (index: number): Op => ({
      process: 0,
      type: 'ok',
      f: 'write',
      value: index,
      time: index * 1e6,
      index,
    });
    const anomalies = Array.from({ length: 5000 }, (_, i) => ({
      type: 'lost',
      message: `write ${i} lost`,
      ops: [write(i)],
    }));
    const check = {
      type: 'check',
      checker: 'acked-writes',
      valid: false,
      anomalyCount: anomalies.length,
      anomalies: anomalies.slice(0, 20).map(({ type, message }) => ({ type, message })),
      summaries: summariseAnomalies(anomalies),
      atMs: 10,
    };
    validateJournalRecord(JSON.parse(journalLine(check)));
    const file = join(dir, 'run.jsonl');
    const header = {
      type: 'journal',
      version: 1,
      faultline: '0.1.0',
      scenario: { file: 's.toml', name: 's', tags: [] },
      seed: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      replay: 'faultline run --seed 1 s.toml',
    };
    await writeFile(
      file,
      `${[header, { type: 'run', state: 'start', scenario: 's', seed: 1, atMs: 0 }, check].map(journalLine).join('\n')}\n`,
    );
    const summary = await readJournal(file);
    const html = await renderHtmlReport(summary);
    assert.match(html, /<b>5000<\/b> lost anomalies, from \+0\.000 s to \+4\.999 s/);
    assert.match(
      html,
      /Last <span class="note">\+4\.999 s · op 4999<\/span>: <span class="anomaly">write 4999 lost/,
    );
    assert.doesNotMatch(html, /journal holds the first/);
    const junit = renderJunit(summary);
    assert.match(junit, /lost: 5000 anomalies, from \+0\.000 s to \+4\.999 s/);
    assert.match(junit, /last: {2}\+4\.999 s, op 4999: write 4999 lost/);
  });
});
