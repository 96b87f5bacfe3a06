import type { CounterexampleOp, LinearizabilityCounterexample } from '../checker/index.js';
import { escapeHtml as e } from './html-escape.js';
import { axisTicks, formatMs } from './html-timeline.js';

export interface TimelineOptions {
  /** Shown in the title, e.g. the history file. */
  readonly source?: string;
}

const laneHeight = 34;
const barHeight = 18;
const labelWidth = 110;
const plotWidth = 900;
const margin = 16;
/** Room above the lanes for the time axis. */
const axisHeight = 18;

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no network) that shows why a history is
 * not linearizable: one lane per process, a bar per operation from call to return, the longest
 * linearization numbered in order, the ops that could not be placed outlined, and the failing point.
 */
export function renderLinearizabilityHtml(
  counterexample: LinearizabilityCounterexample,
  options: TimelineOptions = {},
): string {
  const { ops, linearized, unplaced, blocking } = counterexample;
  const order = new Map(linearized.map((step, position) => [step.op, position + 1]));
  const unplacedById = new Map(unplaced.map((u) => [u.op, u]));
  const blockingOp = blocking === null ? undefined : ops[blocking];
  const title = `Not linearizable: ${counterexample.model}${counterexample.partition === null ? '' : `, key ${counterexample.partition}`}`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${e(title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; max-width: ${labelWidth + plotWidth + 2 * margin + 40}px; }
  h1 { font-size: 20px; margin: 0 0 4px; color: #b42318; }
  .source { color: #57606a; margin: 0 0 16px; }
  .summary { background: #fff4f2; border: 1px solid #f2b8b5; border-radius: 6px; padding: 10px 14px; margin-bottom: 16px; }
  code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
  svg text { font: 12px ui-monospace, monospace; }
  table { border-collapse: collapse; margin: 8px 0 20px; }
  th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #e6e8eb; font: 13px ui-monospace, monospace; }
  th { font-family: system-ui, sans-serif; color: #57606a; }
  .legend span { display: inline-block; margin-right: 14px; }
  .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
</style>
</head>
<body>
<h1>${e(title)}</h1>
${options.source ? `<p class="source">${e(options.source)}</p>` : ''}
<div class="summary">${summary(counterexample, blockingOp)}</div>
<p class="legend">
  <span><i class="swatch" style="background:#4f8fd6"></i>ok</span>
  <span><i class="swatch" style="background:#e3a33b"></i>outcome unknown (info)</span>
  <span><i class="swatch" style="background:#b8bec6"></i>failed (no effect)</span>
  <span><i class="swatch" style="border:2px solid #d92d20"></i>could not be placed</span>
  <span>① order in the longest linearization</span>
</p>
${timeline(ops, order, unplacedById, blockingOp)}
<h2>Longest linearization found</h2>
${linearizationTable(counterexample, order)}
<h2>Operations that could not be placed next</h2>
${unplacedTable(counterexample)}
</body>
</html>
`;
}

function summary(c: LinearizabilityCounterexample, blocking: CounterexampleOp | undefined): string {
  if (c.why !== undefined) {
    const capital = c.why.charAt(0).toUpperCase() + c.why.slice(1);
    return `${e(capital)}. The operations named are outlined; the red line marks when the read returned.`;
  }
  const prefix = `${c.linearized.length} of ${c.ops.length} operations linearize, ending in state <code>${e(c.stateAtFailure)}</code>.`;
  if (blocking === undefined) return `${prefix} No remaining operation can take effect next.`;
  return `${prefix} Then <code>${e(blocking.description)}</code> by process ${e(String(blocking.process))}${
    blocking.line === null ? '' : ` (line ${blocking.line})`
  } returned, so it must have taken effect by then — but no order of the open operations lets it. The red line marks that moment.`;
}

function timeline(
  ops: readonly CounterexampleOp[],
  order: ReadonlyMap<number, number>,
  unplaced: ReadonlyMap<number, { fits: boolean }>,
  blocking: CounterexampleOp | undefined,
): string {
  const processes = [...new Set(ops.map((op) => String(op.process)))].sort(compareProcess);
  const lane = new Map(processes.map((p, i) => [p, i]));
  const start = Math.min(...ops.map((op) => op.callTime));
  const end = Math.max(...ops.map((op) => op.returnTime ?? op.callTime), start + 1);
  const span = (end - start) * 1.08;
  const x = (t: number): number => labelWidth + ((t - start) / span) * plotWidth;
  const top = margin + axisHeight;
  const height = processes.length * laneHeight + top + margin;
  const width = labelWidth + plotWidth + margin;
  const parts: string[] = [];
  // The time axis: the history's times (ns) in ms since its first call shown.
  for (const tick of axisTicks(0, span / 1e6, 8)) {
    const tx = x(start + tick * 1e6).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${height - 4}" stroke="#f0f1f3"/>` +
        `<text x="${tx}" y="${top - 8}" text-anchor="middle" fill="#57606a" font-size="11">+${e(formatMs(tick))}</text>`,
    );
  }
  processes.forEach((p, i) => {
    const y = top + i * laneHeight;
    parts.push(
      `<line x1="${labelWidth}" x2="${width}" y1="${y + laneHeight / 2}" y2="${y + laneHeight / 2}" stroke="#eef0f2"/>`,
    );
    parts.push(`<text x="4" y="${y + laneHeight / 2 + 4}" fill="#57606a">process ${e(p)}</text>`);
  });
  for (const op of ops) {
    const y = top + (lane.get(String(op.process)) as number) * laneHeight + (laneHeight - barHeight) / 2;
    const x1 = x(op.callTime);
    const x2 = op.returnTime === null ? labelWidth + plotWidth : Math.max(x(op.returnTime), x1 + 3);
    const fill = op.type === 'ok' ? '#4f8fd6' : op.type === 'info' ? '#e3a33b' : '#b8bec6';
    const stuck = unplaced.get(op.id);
    const stroke = stuck ? ` stroke="#d92d20" stroke-width="${op === blocking ? 3 : 2}"` : '';
    const dash = op.returnTime === null ? ' stroke-dasharray="4 3"' : '';
    const position = order.get(op.id);
    const tip = [
      `#${op.id} process ${op.process}: ${op.description}`,
      `type ${op.type}${op.line === null ? '' : `, line ${op.line}`}`,
      `call ${op.callTime}${op.returnTime === null ? ', never returned' : `, return ${op.returnTime}`}`,
      position === undefined ? '' : `linearized ${position}.`,
      stuck
        ? stuck.fits
          ? 'fits here, but nothing can follow it'
          : 'the model rejects it in the state at failure'
        : '',
    ]
      .filter(Boolean)
      .join('\n');
    parts.push(
      `<g><title>${e(tip)}</title><rect x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="${barHeight}" rx="3" fill="${fill}" fill-opacity="${op.returnTime === null ? 0.55 : 0.9}"${stroke}${dash}/>` +
        `<text x="${(x1 + 4).toFixed(1)}" y="${y + 13}" fill="#0b1220">${e(position === undefined ? '' : `${circled(position)} `)}${e(truncate(op.description, Math.max(4, Math.floor((x2 - x1 - 8) / 7.2))))}</text></g>`,
    );
  }
  if (blocking?.returnTime !== undefined && blocking.returnTime !== null) {
    const bx = x(blocking.returnTime).toFixed(1);
    parts.push(
      `<line x1="${bx}" x2="${bx}" y1="${top - 4}" y2="${height - 4}" stroke="#d92d20" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="operation timeline">${parts.join('')}</svg>`;
}

function linearizationTable(c: LinearizabilityCounterexample, order: ReadonlyMap<number, number>): string {
  if (c.linearized.length === 0)
    return `<p>None: not even the first operation can take effect from the initial state <code>${e(c.initialState)}</code>.</p>`;
  const rows = c.linearized.map((step) => {
    const op = c.ops[step.op] as CounterexampleOp;
    return `<tr><td>${order.get(step.op)}</td><td>${e(String(op.process))}</td><td>${e(op.description)}</td><td>${e(step.stateAfter)}</td><td>${op.line ?? ''}</td></tr>`;
  });
  return `<table><tr><th>#</th><th>process</th><th>operation</th><th>state after</th><th>line</th></tr><tr><td></td><td></td><td><i>initial</i></td><td>${e(c.initialState)}</td><td></td></tr>${rows.join('')}</table>`;
}

function unplacedTable(c: LinearizabilityCounterexample): string {
  if (c.unplaced.length === 0) return '<p>None.</p>';
  const rows = c.unplaced.map(({ op: id, fits }) => {
    const op = c.ops[id] as CounterexampleOp;
    const why = fits
      ? 'fits the state, but no linearization of the rest follows from it'
      : `the model rejects it in state ${c.stateAtFailure}`;
    return `<tr><td>${e(String(op.process))}</td><td>${e(op.description)}${id === c.blocking ? ' <b>(returned first)</b>' : ''}</td><td>${e(why)}</td><td>${op.line ?? ''}</td></tr>`;
  });
  return `<table><tr><th>process</th><th>operation</th><th>why it cannot go next</th><th>line</th></tr>${rows.join('')}</table>`;
}

function compareProcess(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}

function circled(n: number): string {
  return n >= 1 && n <= 20 ? String.fromCodePoint(0x245f + n) : `(${n})`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
