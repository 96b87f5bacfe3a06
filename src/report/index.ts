/** report/'s surface for its neighbours: they import these from here, never its modules. */

export {
  canonicalJson,
  type DigestCounts,
  type DigestOptions,
  digestJournal,
  digestVersion,
  type JournalDigest,
} from './digest.js';
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
export { parseJournal, readJournal } from './journal-read.js';
export { renderLinearizabilityHtml } from './linearizability-html.js';
