import { type AnomalyRef, type AnomalySummary, formatSinceStart, whereOfRef } from '../checker/index.js';
import { escapeHtml as e } from './html-escape.js';
import { reportPage } from './report-css.js';

/** `+0.250 s · op 3 (line 4)`: where one anomaly of a summary is. */
function refWhere(ref: AnomalyRef, startNs: number): string {
  return [ref.timeNs === undefined ? undefined : formatSinceStart(ref.timeNs, startNs), whereOfRef(ref)]
    .filter((part) => part !== undefined)
    .join(' · ');
}

function refLine(label: string, ref: AnomalyRef, startNs: number): string {
  const where = refWhere(ref, startNs);
  return `<p>${label}${where === '' ? '' : ` <span class="note">${e(where)}</span>`}: <span class="anomaly">${e(ref.message)}</span></p>`;
}

/**
 * Anomalies summarised by kind (`summariseAnomalies`), as HTML: each kind's count and time window, the
 * first and the last, and a sample. Times are from the history's start (`startNs`).
 */
export function renderAnomalySummaries(summaries: readonly AnomalySummary[], startNs = 0): string {
  return summaries
    .map((summary) => {
      const { type, count, first, last, sample } = summary;
      if (count === 1) return `<div class="kind"><h4>${e(type)}</h4>${refLine('One', first, startNs)}</div>`;
      const window =
        first.timeNs === undefined || last.timeNs === undefined
          ? ''
          : `, from ${e(formatSinceStart(first.timeNs, startNs))} to ${e(formatSinceStart(last.timeNs, startNs))}`;
      const lines = [
        `<p><b>${count}</b> ${e(type)} anomalies${window}.</p>`,
        refLine('First', first, startNs),
        refLine('Last', last, startNs),
      ];
      if (sample.length > 2)
        lines.push(
          `<details><summary>a sample of ${sample.length}</summary><ul>${sample.map((ref) => `<li><span class="note">${e(refWhere(ref, startNs))}</span> <span class="anomaly">${e(ref.message)}</span></li>`).join('')}</ul></details>`,
        );
      return `<div class="kind"><h4>${e(type)}</h4>${lines.join('')}</div>`;
    })
    .join('');
}

export interface CheckPageOptions {
  /** The history file. */
  readonly source: string;
  /** The checker, as `faultline check` was told (`--checker set`). */
  readonly checker: string;
  readonly valid: true | false | 'unknown';
  readonly reason?: string;
  readonly summaries: readonly AnomalySummary[];
  /** History time of its first op (ns): anomaly times are shown from it. */
  readonly startNs: number;
}

/** A small self-contained page (the run report's style; no script, nothing fetched) of one check's anomalies. */
export function renderCheckSummaryHtml(options: CheckPageOptions): string {
  const { source, checker, valid, reason, summaries, startNs } = options;
  const outcome = valid === true ? 'pass' : valid === false ? 'fail' : 'unknown';
  const word = valid === true ? 'valid' : valid === false ? 'INVALID' : 'undecided';
  const count = summaries.reduce((sum, s) => sum + s.count, 0);
  const title = `${checker}: ${word}`;
  return reportPage(
    title,
    `<header>
<h1>${e(checker)} <span class="badge ${outcome}">${word}</span></h1>
<p class="reason">History <code>${e(source)}</code>: ${count} anomal${count === 1 ? 'y' : 'ies'} of ${summaries.length} kind${summaries.length === 1 ? '' : 's'}.${reason === undefined ? '' : ` ${e(reason)}`}</p>
<p class="note">Times are from the history's first op. <code>faultline check --json</code> lists every anomaly.</p>
</header>
<section>
<div class="check ${outcome}">${renderAnomalySummaries(summaries, startNs)}</div>
</section>
`,
  );
}
