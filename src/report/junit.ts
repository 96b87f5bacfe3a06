import { formatAnomalySummary } from '../checker/index.js';
import type { JournalSummary } from './journal-reader.js';
import { anomalySummary, checkOutcome } from './report-model.js';

/**
 * A run as JUnit XML, the format CI tools read (the Jenkins xUnit plugin's junit-10.xsd; the test
 * validates against it): one `testsuite` per scenario run, one `testcase` per `check` event of the
 * journal — a checker, a recovery SLO (`recovery-slo`), and whatever later publishes a check event (a
 * span expectation is one more checker name) — with a `failure` (the check found anomalies) or an
 * `error` (it could not decide, or the run did not finish). The seed and replay command are properties.
 */
export function renderJunit(summary: JournalSummary): string {
  const { header, verdict } = summary;
  const suite = header.scenario.name;
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const check of summary.checks) {
    const time = seconds((check.stats?.elapsedMs ?? 0) / 1000);
    const open = `<testcase name="${x(check.checker)}" classname="${x(suite)}" time="${time}"`;
    const outcome = checkOutcome(check);
    if (outcome === 'pass') {
      cases.push(`${open}/>`);
      continue;
    }
    if (outcome === 'fail') {
      failures++;
      const { count, summaries, partial, held } = anomalySummary(check);
      const first = check.anomalies[0];
      const lines = [
        `${count} anomal${count === 1 ? 'y' : 'ies'}${partial ? ` (the journal holds the first ${held})` : ''}:`,
        ...summaries.flatMap((summary) => formatAnomalySummary(summary)),
      ];
      cases.push(
        `${open}><failure type="${x(first?.type ?? 'anomaly')}" message="${x(first?.message ?? 'the check failed')}">${x(lines.join('\n'))}</failure></testcase>`,
      );
    } else {
      errors++;
      const reason = check.reason ?? 'the check could not decide';
      cases.push(`${open}><error type="undecided" message="${x(reason)}">${x(reason)}</error></testcase>`);
    }
  }
  // A run that ended in an error or never finished is not a pass of its checks: say so as a testcase.
  if (verdict === undefined || verdict.verdict === 'error' || verdict.verdict === 'interrupted') {
    errors++;
    const message =
      verdict === undefined
        ? 'the journal has no verdict: the run did not finish (killed?)'
        : `${verdict.verdict}: ${verdict.reason}`;
    cases.push(
      `<testcase name="run" classname="${x(suite)}" time="${seconds((verdict?.elapsedMs ?? summary.endMs) / 1000)}"><error type="${verdict === undefined ? 'unfinished' : verdict.verdict}" message="${x(message)}">${x(message)}</error></testcase>`,
    );
  }
  const properties = [
    ['seed', String(header.seed)],
    ['replay', header.replay],
    ['scenario.file', header.scenario.file],
    ['verdict', verdict?.verdict ?? 'unfinished'],
    ['faultline', header.faultline],
  ]
    .map(([name, value]) => `<property name="${x(name as string)}" value="${x(value as string)}"/>`)
    .join('\n      ');
  const time = seconds((verdict?.elapsedMs ?? summary.endMs) / 1000);
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="faultline" ${counts} time="${time}">
  <testsuite name="${x(suite)}" ${counts} skipped="0" time="${time}" timestamp="${x(header.startedAt.replace(/Z$/, ''))}" file="${x(header.scenario.file)}">
    <properties>
      ${properties}
    </properties>
    ${cases.join('\n    ')}
  </testsuite>
</testsuites>
`;
}

function seconds(value: number): string {
  return Math.max(0, value).toFixed(3);
}

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold. */
function x(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/\n/g, '&#10;');
}
