import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderHtmlReport } from './html.js';
import { type JournalSummary, readJournal } from './journal-reader.js';
import { renderJunit } from './junit.js';
import { reportJson } from './report-model.js';

export interface ReportFiles {
  readonly html?: string;
  readonly junit?: string;
  readonly json?: string;
}

/** Reads a journal once and writes the reports asked for; returns the journal's summary. */
export async function writeReports(journal: string, files: ReportFiles): Promise<JournalSummary> {
  const summary = await readJournal(journal);
  const outputs: [string | undefined, () => Promise<string> | string][] = [
    [files.junit, () => renderJunit(summary)],
    [files.json, () => `${JSON.stringify(reportJson(summary), null, 2)}\n`],
    [files.html, () => renderHtmlReport(summary)],
  ];
  for (const [path, render] of outputs) {
    if (path === undefined) continue;
    const text = await render();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  return summary;
}
