import { escapeHtml as e } from './html-escape.js';
import type { JournalSummary } from './journal-reader.js';
import type { Interval } from './report-model.js';

const labelWidth = 150;
const plotWidth = 960;
const chartHeight = 110;
const laneHeight = 20;

const phaseColours: Record<string, string> = {
  setup: '#d0d7de',
  'steady-state-before': '#b6e3c6',
  method: '#cfe2ff',
  heal: '#ffe3b3',
  'steady-state-after': '#b6e3c6',
  checks: '#e2d4f7',
  rollbacks: '#ffd6d6',
  cleanup: '#d0d7de',
};

/**
 * The run on one time axis, as SVG: the phases; throughput (ok and failed calls per second per
 * interval); latency p50 / p99 per interval on a log scale; a lane per probe, green or red per check; and
 * the fault windows (injection to heal) shaded across all of it.
 */
export function renderTimeline(
  summary: JournalSummary,
  series: { intervalMs: number; intervals: readonly Interval[] },
): string {
  const endMs = Math.max(summary.endMs, 1);
  const x = (ms: number): number => labelWidth + (Math.min(Math.max(ms, 0), endMs) / endMs) * plotWidth;
  const probes = [...summary.probes.entries()];
  const phaseTop = 22;
  const throughputTop = phaseTop + 26;
  const latencyTop = throughputTop + chartHeight + 18;
  const probesTop = latencyTop + chartHeight + 18;
  const height = probesTop + probes.length * laneHeight + 12;
  const width = labelWidth + plotWidth + 20;
  const parts: string[] = [];

  for (const tick of axisTicks(0, endMs, 10)) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="16" y2="${height - 8}" stroke="#eef0f2"/>` +
        `<text x="${tx}" y="12" text-anchor="middle" fill="#57606a" font-size="11">${e(formatMs(tick))}</text>`,
    );
  }
  for (const phase of summary.phases) {
    const x1 = x(phase.fromMs);
    const x2 = Math.max(x(phase.toMs ?? endMs), x1 + 1);
    parts.push(
      `<g><title>${e(`${phase.name}: ${formatMs(phase.fromMs)} – ${formatMs(phase.toMs ?? endMs)}`)}</title><rect x="${x1.toFixed(1)}" y="${phaseTop}" width="${(x2 - x1).toFixed(1)}" height="16" fill="${phaseColours[phase.name] ?? '#d0d7de'}"/>` +
        (x2 - x1 > phase.name.length * 6.5
          ? `<text x="${(x1 + 3).toFixed(1)}" y="${phaseTop + 12}" font-size="11" fill="#1f2328">${e(phase.name)}</text>`
          : '') +
        '</g>',
    );
  }
  parts.push(label('phases', phaseTop + 12));

  // Throughput.
  const { intervals, intervalMs } = series;
  const maxRate = Math.max(1, ...intervals.map((i) => i.okPerSecond + i.errorsPerSecond));
  const rateY = (rate: number): number => throughputTop + chartHeight - (rate / maxRate) * chartHeight;
  parts.push(frame(throughputTop), label('calls / s', throughputTop + chartHeight / 2));
  parts.push(
    `<text x="${labelWidth - 6}" y="${throughputTop + 10}" text-anchor="end" fill="#57606a" font-size="10">${Math.round(maxRate)}</text>`,
  );
  for (const i of intervals) {
    const x1 = x(i.fromMs);
    const w = Math.max(0.5, x(i.fromMs + intervalMs) - x1 - 0.5);
    if (i.okPerSecond > 0)
      parts.push(
        `<rect x="${x1.toFixed(1)}" y="${rateY(i.okPerSecond).toFixed(1)}" width="${w.toFixed(1)}" height="${(throughputTop + chartHeight - rateY(i.okPerSecond)).toFixed(1)}" fill="#4f8fd6"/>`,
      );
    if (i.errorsPerSecond > 0) {
      const yTop = rateY(i.okPerSecond + i.errorsPerSecond);
      parts.push(
        `<rect x="${x1.toFixed(1)}" y="${yTop.toFixed(1)}" width="${w.toFixed(1)}" height="${(rateY(i.okPerSecond) - yTop).toFixed(1)}" fill="#d92d20"/>`,
      );
    }
  }

  // Latency, log scale: a kill's timeouts are a thousand times an ordinary call.
  const latencies = intervals.flatMap((i) => [i.p50Ms, i.p99Ms]).filter((v): v is number => v !== undefined);
  const lo = Math.log10(Math.max(0.01, Math.min(...latencies, 1)));
  const hi = Math.log10(Math.max(...latencies, 10)) + 0.05;
  const latencyY = (ms: number): number =>
    latencyTop + chartHeight - ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * chartHeight;
  parts.push(
    frame(latencyTop),
    label('latency', latencyTop + chartHeight / 2),
    label('ms, log scale', latencyTop + chartHeight / 2 + 14),
  );
  for (let decade = Math.ceil(lo); decade <= Math.floor(hi); decade++) {
    const y = latencyY(10 ** decade).toFixed(1);
    parts.push(
      `<line x1="${labelWidth}" x2="${labelWidth + plotWidth}" y1="${y}" y2="${y}" stroke="#eef0f2"/>` +
        `<text x="${labelWidth - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#57606a" font-size="10">${formatMs(10 ** decade)}</text>`,
    );
  }
  for (const [key, colour] of [
    ['p50Ms', '#4f8fd6'],
    ['p99Ms', '#e07b00'],
  ] as const) {
    const points = intervals
      .filter((i) => i[key] !== undefined)
      .map((i) => `${x(i.fromMs + intervalMs / 2).toFixed(1)},${latencyY(i[key] as number).toFixed(1)}`);
    if (points.length > 0)
      parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.8"/>`,
      );
  }

  // Probes.
  probes.forEach(([name, segments], index) => {
    const y = probesTop + index * laneHeight;
    parts.push(label(truncate(name, 22), y + 13, name));
    segments.forEach((segment, s) => {
      const next = segments[s + 1];
      const x1 = x(segment.fromMs);
      const x2 = Math.max(x(next === undefined ? segment.toMs : next.fromMs), x1 + 3);
      const tip = `${name}: ${segment.ok ? 'ok' : `failing${segment.error ? ` — ${segment.error}` : ''}`} (${segment.samples} check${segment.samples === 1 ? '' : 's'}, ${formatMs(segment.fromMs)} – ${formatMs(segment.toMs)})`;
      parts.push(
        `<g><title>${e(tip)}</title><rect x="${x1.toFixed(1)}" y="${y + 3}" width="${(x2 - x1).toFixed(1)}" height="${laneHeight - 6}" fill="${segment.ok ? '#2da44e' : '#d92d20'}"/></g>`,
      );
    });
  });

  // Fault windows over everything.
  for (const fault of summary.faults) {
    const x1 = x(fault.injectMs);
    const x2 = Math.max(x(fault.healMs ?? endMs), x1 + 2);
    const tip = `${fault.label}: injected ${formatMs(fault.injectMs)}, ${fault.healMs === undefined ? 'never healed' : `healed ${formatMs(fault.healMs)}`}`;
    parts.push(
      `<g><title>${e(tip)}</title><rect x="${x1.toFixed(1)}" y="${throughputTop}" width="${(x2 - x1).toFixed(1)}" height="${height - throughputTop - 8}" fill="#d92d20" fill-opacity="0.10"/>` +
        `<line x1="${x1.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${throughputTop}" y2="${height - 8}" stroke="#d92d20" stroke-width="1.5"/>` +
        `<text x="${(x1 + 4).toFixed(1)}" y="${throughputTop + 12}" fill="#b42318" font-size="11" font-weight="600">${e(fault.kind)}</text></g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="run timeline">${parts.join('')}</svg>`;
}

function frame(top: number): string {
  return `<rect x="${labelWidth}" y="${top}" width="${plotWidth}" height="${chartHeight}" fill="none" stroke="#d0d7de"/>`;
}

function label(text: string, y: number, tip?: string): string {
  const body = `<text x="4" y="${y}" fill="#1f2328" font-size="12">${e(text)}</text>`;
  return tip === undefined ? body : `<g><title>${e(tip)}</title>${body}</g>`;
}

/** Round tick positions (1, 2, 5 × 10^n ms) between from and to, about `count` of them. */
export function axisTicks(fromMs: number, toMs: number, count: number): number[] {
  const span = Math.max(toMs - fromMs, 1e-3);
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs && ticks.length < 200; t += step) ticks.push(t);
  return ticks;
}

/** A run time for people: 850 ms, 1.25 s, 2 min 5 s. */
export function formatMs(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1) return `${Number(ms.toFixed(2))} ms`;
  if (abs < 1000) return `${Number(ms.toFixed(abs < 10 ? 1 : 0))} ms`;
  if (abs < 120_000) return `${Number((ms / 1000).toFixed(abs < 10_000 ? 2 : 1))} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
