/** report/'s surface for its neighbours: they import these from here, never its modules. */
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
export { renderLinearizabilityHtml } from './linearizability-html.js';
