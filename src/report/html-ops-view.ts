import { escapeHtml as e } from './html-escape.js';
import { axisTicks, formatMs } from './html-timeline.js';
import type { FaultWindow, WindowOp } from './journal-reader.js';

export interface OpsViewOptions {
  /** The window drawn, run time in ms. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Ops of the failing partition: drawn tall, coloured and labelled; the rest thin and grey. */
  readonly highlight: (op: WindowOp) => boolean;
  /** History indices of the ops the check names: outlined in red. */
  readonly marked: ReadonlySet<number>;
  readonly faults: readonly FaultWindow[];
}

const labelWidth = 96;
const laneHeight = 30;
const top = 28;

/**
 * The history around a failure as SVG: a lane per process, a bar per op from call to return, a time
 * axis in run time. Thousands of ops stay readable because the plot grows wider with them (the page
 * scrolls it sideways) and only the failing partition's ops are drawn full size and labelled.
 */
export function renderOpsView(ops: readonly WindowOp[], options: OpsViewOptions): string {
  const { fromMs, toMs } = options;
  const processes = [...new Set(ops.map((op) => op.process))].sort(compareProcess);
  const lane = new Map(processes.map((p, i) => [p, i]));
  const perLane = ops.length / Math.max(1, processes.length);
  // About 4 px per op in the busiest lane, between a screen's width and 24,000 px.
  const plotWidth = Math.round(Math.min(24_000, Math.max(1_000, perLane * 4)));
  const width = labelWidth + plotWidth + 16;
  const height = top + processes.length * laneHeight + 8;
  const span = Math.max(toMs - fromMs, 1e-3);
  const x = (ms: number): number =>
    labelWidth + ((Math.min(Math.max(ms, fromMs), toMs) - fromMs) / span) * plotWidth;
  const parts: string[] = [];
  for (const fault of options.faults) {
    const end = fault.healMs ?? toMs;
    if (end < fromMs || fault.injectMs > toMs) continue;
    const x1 = x(fault.injectMs);
    parts.push(
      `<rect x="${f(x1)}" y="${top}" width="${f(Math.max(2, x(end) - x1))}" height="${height - top}" fill="#d92d20" fill-opacity="0.08"/>` +
        `<line x1="${f(x1)}" x2="${f(x1)}" y1="${top}" y2="${height}" stroke="#d92d20" stroke-width="1.5"/>` +
        `<text x="${f(x1 + 4)}" y="${top + 11}" fill="#b42318" font-size="11">${e(fault.kind)}</text>`,
    );
  }
  for (const tick of axisTicks(fromMs, toMs, Math.max(6, Math.floor(plotWidth / 140)))) {
    const tx = x(tick);
    parts.push(
      `<line x1="${f(tx)}" x2="${f(tx)}" y1="${top - 4}" y2="${height}" stroke="#eef0f2"/>` +
        `<text x="${f(tx)}" y="${top - 8}" text-anchor="middle" fill="#57606a" font-size="11">${e(formatMs(tick))}</text>`,
    );
  }
  processes.forEach((p, i) => {
    const y = top + i * laneHeight;
    parts.push(`<text x="4" y="${y + laneHeight / 2 + 4}" fill="#57606a">process ${e(p)}</text>`);
  });
  // Background ops first, so the failing partition's are drawn over them.
  const sorted = [...ops].sort((a, b) => Number(options.highlight(a)) - Number(options.highlight(b)));
  for (const op of sorted) {
    const y0 = top + (lane.get(op.process) as number) * laneHeight;
    const x1 = x(op.callMs);
    const x2 = Math.max(x(op.returnMs ?? toMs), x1 + 2);
    const marked = options.marked.has(op.index);
    const fill = op.type === 'ok' ? '#4f8fd6' : op.type === 'fail' ? '#b8bec6' : '#e3a33b';
    if (!options.highlight(op) && !marked) {
      // A pixel of gap between neighbours keeps back-to-back calls apart.
      parts.push(
        `<rect x="${f(x1)}" y="${y0 + 11}" width="${f(Math.max(1, x2 - x1 - 1))}" height="8" fill="${fill}" fill-opacity="0.45"/>`,
      );
      continue;
    }
    const text = `${op.f} ${JSON.stringify(op.value)}`;
    const tip = `op ${op.index}, process ${op.process}: ${text} → ${op.type}${op.error ? ` (${op.error})` : ''}\ncall ${formatMs(op.callMs)}, ${op.returnMs === undefined ? 'never returned' : `return ${formatMs(op.returnMs)}`}`;
    const stroke = marked ? ' stroke="#d92d20" stroke-width="2.5"' : ' stroke="#0b1220" stroke-width="0.6"';
    const room = Math.floor((x2 - x1 - 6) / 6.6);
    parts.push(
      `<g><title>${e(tip)}</title><rect x="${f(x1)}" y="${y0 + 5}" width="${f(x2 - x1)}" height="20" rx="3" fill="${fill}"${stroke}${op.returnMs === undefined ? ' stroke-dasharray="4 3"' : ''}/>` +
        (room >= 3
          ? `<text x="${f(x1 + 3)}" y="${y0 + 19}" fill="#0b1220" font-size="11">${e(truncate(`${marked ? `op ${op.index}: ` : ''}${op.f} ${shortValue(op.value)}`, room))}</text>`
          : '') +
        '</g>',
    );
  }
  return `<div class="scroll"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="operations around the failure">${parts.join('')}</svg></div>`;
}

function shortValue(value: unknown): string {
  // A kv op's value is [key, value]: the key is the partition, already named above the view.
  if (Array.isArray(value) && value.length === 2) return JSON.stringify(value[1]);
  return JSON.stringify(value);
}

function f(n: number): string {
  return n.toFixed(1);
}

function compareProcess(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
