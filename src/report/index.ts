/** report/'s surface for its neighbours: they import these from here, never its modules. */

export { type CheckPageOptions, renderAnomalySummaries, renderCheckSummaryHtml } from './anomaly-html.js';
export {
  canonicalJson,
  type DigestCounts,
  type DigestOptions,
  digestJournal,
  digestVersion,
  type JournalDigest,
} from './digest.js';
export { renderHtmlReport } from './html.js';
export {
  type CheckSummary,
  type JournalHeader,
  type JournalRecord,
  type JournalVerdict,
  JournalWriter,
  type JournalWriterOptions,
  journalJsonSchema,
  journalLine,
  journalVersion,
  validateJournalRecord,
} from './journal.js';
export { parseJournal, readJournalRecords } from './journal-read.js';
export {
  type CheckRecord,
  type FaultWindow,
  type JournalSummary,
  readJournal,
} from './journal-reader.js';
export { renderJunit } from './junit.js';
export { renderLinearizabilityHtml } from './linearizability-html.js';
export { type ReportJson, reportJson } from './report-model.js';
export { type ReportFiles, writeReports } from './reports.js';
