/** report/'s surface for its neighbours: they import these from here, never its modules. */

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
