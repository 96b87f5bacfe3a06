import type { ProxyStats } from '../proxy/index.js';
import { directions } from '../proxy/index.js';

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly samples: (stats: ProxyStats) => Array<[labels: Record<string, string>, value: number]>;
}

const perDirection =
  (field: 'bytesIn' | 'bytesOut' | 'bytesDropped') =>
  (stats: ProxyStats): Array<[Record<string, string>, number]> =>
    directions.map((direction) => [{ direction }, stats[direction][field]]);

const families: readonly Family[] = [
  {
    name: 'faultline_proxy_bytes_in_total',
    type: 'counter',
    help: 'Bytes read from the source of a direction (client for upstream, upstream for downstream).',
    samples: perDirection('bytesIn'),
  },
  {
    name: 'faultline_proxy_bytes_out_total',
    type: 'counter',
    help: 'Bytes written to the destination of a direction after its toxics.',
    samples: perDirection('bytesOut'),
  },
  {
    name: 'faultline_proxy_bytes_dropped_total',
    type: 'counter',
    help: 'Bytes toxics discarded instead of passing on.',
    samples: perDirection('bytesDropped'),
  },
  {
    name: 'faultline_proxy_connections_total',
    type: 'counter',
    help: 'Client connections accepted by the proxy.',
    samples: (stats) => [[{}, stats.connectionsTotal]],
  },
  {
    name: 'faultline_proxy_connections_active',
    type: 'gauge',
    help: 'Client connections open now.',
    samples: (stats) => [[{}, stats.connectionsActive]],
  },
];

/** The proxies' counters in the Prometheus text exposition format 0.0.4. */
export function renderMetrics(stats: Readonly<Record<string, ProxyStats>>): string {
  const names = Object.keys(stats).sort();
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const proxy of names) {
      for (const [labels, value] of family.samples(stats[proxy] as ProxyStats)) {
        const text = Object.entries({ proxy, ...labels })
          .map(([key, label]) => `${key}="${escapeLabel(label)}"`)
          .join(',');
        lines.push(`${family.name}{${text}} ${value}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The format's escapes for label values: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
