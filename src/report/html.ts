import { renderAnomalySummaries } from './anomaly-html.js';
import { escapeHtml as e } from './html-escape.js';
import { renderOpsView } from './html-ops-view.js';
import { formatMs, renderTimeline } from './html-timeline.js';
import type { CheckRecord, JournalSummary, WindowOp } from './journal-reader.js';
import { readOps } from './journal-reader.js';
import { reportPage } from './report-css.js';
import { anomalySummary, checkOutcome, intervals, recoveries } from './report-model.js';

/** At most this many ops drawn in the linearizability view. */
const maxViewOps = 6_000;

/**
 * The run as one self-contained HTML page (inline CSS and SVG; no script, nothing fetched): verdict,
 * seed and replay command; the timeline; every check with its explanation; the history around a
 * linearizability failure; recovery times; the faults. The ops are aggregated, never listed, so a
 * 100,000-op journal makes a page of a few hundred kB.
 */
export async function renderHtmlReport(summary: JournalSummary): Promise<string> {
  const { header, verdict } = summary;
  const verdictName = verdict?.verdict ?? 'unfinished';
  const series = intervals(summary);
  const views: string[] = [];
  for (const check of summary.checks) {
    if (check.valid === false && /lineariz/i.test(check.checker))
      views.push(await linearizabilityView(summary, check));
  }
  const title = `${header.scenario.name}: ${verdictName.toUpperCase()}`;
  return reportPage(
    title,
    `<header>
<h1>${e(header.scenario.name)} <span class="badge ${e(verdictName)}">${e(verdictName.toUpperCase())}</span></h1>
<p class="reason">${e(verdict?.reason ?? 'The journal has no verdict record: the run did not finish (it was killed before it could write one). What it recorded until then is shown.')}</p>
<table class="facts">
<tr><th>seed</th><td><code>${header.seed}</code></td><th>replay</th><td><code>${e(header.replay)}</code></td></tr>
<tr><th>scenario</th><td><code>${e(header.scenario.file)}</code></td><th>started</th><td>${e(header.startedAt)}${verdict ? ` · ran ${e(formatMs(verdict.elapsedMs))}` : ''}</td></tr>
<tr><th>calls</th><td>${summary.ops.ok} ok · ${summary.ops.fail} failed · ${summary.ops.info} unknown</td><th>faults</th><td>${summary.faults.length}${header.scenario.tags.length ? ` · tags ${e(header.scenario.tags.join(', '))}` : ''}</td></tr>
</table>
</header>
<section>
<h2>Timeline</h2>
<p class="legend"><span><i class="swatch" style="background:#4f8fd6"></i>ok calls / s</span><span><i class="swatch" style="background:#d92d20"></i>failed or unknown calls / s</span><span><i class="swatch" style="background:#4f8fd6;height:3px"></i>p50</span><span><i class="swatch" style="background:#e07b00;height:3px"></i>p99 latency</span><span><i class="swatch" style="background:#d92d20;opacity:.25"></i>fault in force (injection → heal)</span><span><i class="swatch" style="background:#2da44e"></i>probe ok</span><span><i class="swatch" style="background:#d92d20"></i>probe failing</span></p>
<p class="note">Run time from the run's start; intervals of ${e(formatMs(series.intervalMs))}. Hover a bar for details.</p>
<div class="scroll">${renderTimeline(summary, series)}</div>
</section>
<section>
<h2>Checks</h2>
${summary.checks.length === 0 ? '<p>No check ran.</p>' : summary.checks.map(checkBlock).join('\n')}
</section>
${views.join('\n')}
<section>
<h2>Recovery</h2>
${recoveryTable(summary)}
</section>
<section>
<h2>Faults</h2>
${faultTable(summary)}
</section>
<footer>faultline ${e(header.faultline)} · journal <code>${e(summary.file)}</code> · ${summary.lines} lines${summary.skipped > 0 ? ` (${summary.skipped} of unknown types skipped)` : ''}</footer>
`,
  );
}

function checkBlock(check: CheckRecord): string {
  const outcome = checkOutcome(check);
  const word = outcome === 'pass' ? 'valid' : outcome === 'fail' ? 'INVALID' : 'undecided';
  const lines: string[] = [];
  if (check.reason !== undefined) lines.push(`<p>${e(check.reason)}</p>`);
  if (check.anomalyCount > 0) {
    const { count, summaries, partial, held } = anomalySummary(check);
    const kinds = summaries.map((summary) => summary.type).join(', ');
    lines.push(`<p><b>${count}</b> anomal${count === 1 ? 'y' : 'ies'} (${e(kinds)}).</p>`);
    if (partial)
      lines.push(
        `<p class="note">The journal holds the first ${held} of ${count}: the summary is of those.</p>`,
      );
    lines.push(renderAnomalySummaries(summaries));
  }
  if (check.stats !== undefined && Object.keys(check.stats).length > 0) {
    const stats = Object.entries(check.stats)
      .map(([name, value]) => `${e(name)} <b>${e(String(Number(value.toFixed(3))))}</b>`)
      .join(' · ');
    lines.push(`<p class="note">${stats}</p>`);
  }
  return `<div class="check ${outcome}"><h3>${e(check.checker)} <span class="badge ${outcome}">${word}</span></h3>${lines.join('')}</div>`;
}

/**
 * The history around a linearizability failure: the window from the first to the last op the check
 * names (its message says "op N"), padded; the failing partition's ops highlighted.
 */
async function linearizabilityView(summary: JournalSummary, check: CheckRecord): Promise<string> {
  const text = check.anomalies.map((a) => a.message).join('\n');
  const marked = new Set([...text.matchAll(/\(op (\d+)\)/g)].map((m) => Number(m[1])));
  const partition = /partition "((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  const heading = `<h2>Linearizability: ${e(check.checker)}</h2>`;
  if (marked.size === 0)
    return `<section>${heading}<p>The check's message names no op, so there is no window to show.</p></section>`;
  const named = await readOps(summary, (op) => marked.has(op.index), marked.size);
  if (named.ops.length === 0)
    return `<section>${heading}<p>The ops the check names (${[...marked].join(', ')}) are not in the journal.</p></section>`;
  const start = Math.min(...named.ops.map((op) => op.callMs));
  const end = Math.max(...named.ops.map((op) => op.returnMs ?? op.callMs));
  const pad = Math.max(5, (end - start) * 0.08);
  const fromMs = start - pad;
  const toMs = end + pad;
  // The partition is a key: an op is in it when its value names that key as a whole JSON string.
  const quoted = partition === undefined ? undefined : JSON.stringify(JSON.parse(`"${partition}"`));
  const highlight = (op: WindowOp): boolean =>
    quoted !== undefined && JSON.stringify(op.value).includes(quoted);
  const window = await readOps(
    summary,
    (op) => op.callMs <= toMs && (op.returnMs ?? Number.POSITIVE_INFINITY) >= fromMs,
    maxViewOps,
  );
  const inPartition = window.ops.filter(highlight).length;
  return `<section>${heading}
<p class="anomaly">${e(check.anomalies[0]?.message ?? '')}</p>
<p>The history from ${e(formatMs(fromMs))} to ${e(formatMs(toMs))} of run time: ${window.ops.length}${window.truncated ? ` (the first ${maxViewOps}; more were there)` : ''} calls on ${new Set(window.ops.map((op) => op.process)).size} processes.
${partition === undefined ? '' : `The ${inPartition} of partition <code>${e(partition)}</code> are drawn full size and labelled; the others thin.`} The ops the check names are outlined in red. Scroll sideways; hover an op for its details.</p>
<p class="legend"><span><i class="swatch" style="background:#4f8fd6"></i>ok</span><span><i class="swatch" style="background:#e3a33b"></i>outcome unknown (info)</span><span><i class="swatch" style="background:#b8bec6"></i>failed (no effect)</span><span><i class="swatch" style="border:2px solid #d92d20"></i>named by the check</span><span><i class="swatch" style="background:#d92d20;opacity:.25"></i>fault in force</span></p>
${renderOpsView(window.ops, { fromMs, toMs, highlight, marked, faults: summary.faults })}
</section>`;
}

function recoveryTable(summary: JournalSummary): string {
  const rows = recoveries(summary).flatMap((r) => {
    const when = `${e(r.kind)} <span class="note">${e(r.fault)}</span>`;
    if (r.recovered.length === 0)
      return [
        `<tr><td>${when}</td><td>${e(formatMs(r.injectMs))}</td><td colspan="3">no probe failed after it</td></tr>`,
      ];
    return r.recovered.map(
      (x) =>
        `<tr><td>${when}</td><td>${e(formatMs(r.injectMs))}</td><td>${e(x.what)}</td><td>red +${e(formatMs(x.redMs))}</td><td>${x.greenMs === undefined ? '<b>never green again</b>' : `green again <b>+${e(formatMs(x.greenMs))}</b>`}</td></tr>`,
    );
  });
  if (rows.length === 0) return '<p>No fault was injected.</p>';
  return `<p class="note">For each fault, every probe that failed after it: when it went red and when it was green again, after the injection.</p><table><tr><th>fault</th><th>injected</th><th>probe</th><th>red</th><th>recovered</th></tr>${rows.join('')}</table>`;
}

function faultTable(summary: JournalSummary): string {
  if (summary.faults.length === 0) return '<p>None.</p>';
  const rows = summary.faults.map(
    (f) =>
      `<tr><td>${e(f.kind)}</td><td>${e(f.label)}</td><td>${e(formatMs(f.injectMs))}</td><td>${f.healMs === undefined ? '<b>never healed</b>' : e(formatMs(f.healMs))}${f.healError === undefined ? '' : ` <b>heal failed: ${e(String(f.healError))}</b>`}</td><td><code>${e(JSON.stringify(f.params))}</code></td></tr>`,
  );
  return `<table><tr><th>kind</th><th>what</th><th>injected</th><th>healed</th><th>parameters</th></tr>${rows.join('')}</table>`;
}
