import { faultKinds } from '../core/fault-registry.js';
import { parseCommandLine, usageError } from './usage.js';
// The scenario folder registers every fault kind as it loads.
import '../scenario/index.js';

const usage = `Usage: faultline faults [KIND] [--json]

Lists every kind of fault faultline can inject, from its one registry: TCP toxics (tcp.*), UDP
impairments (udp.*), network operations (net.*), process (process.*) and resource (resource.*) faults.
With KIND, shows that kind's parameters.

Options:
  --json      print the kinds with their JSON Schemas (2020-12), for tools
  -h, --help  show this help
`;

interface PropertySchema {
  readonly type?: string;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly 'x-unit'?: string;
  readonly 'x-ref'?: string;
}

export async function faultsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length > 1) throw usageError(`expected at most one KIND, got ${positionals.length}`, usage);
  const kinds = faultKinds();
  const wanted = positionals[0];
  const selected = wanted === undefined ? kinds : kinds.filter((info) => info.kind === wanted);
  if (selected.length === 0) {
    throw usageError(
      `unknown fault kind "${wanted}"; valid: ${kinds.map((info) => info.kind).join(', ')}`,
      usage,
    );
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(wanted === undefined ? selected : selected[0], null, 2)}\n`);
    return 0;
  }
  if (wanted === undefined) {
    const width = Math.max(...kinds.map((info) => info.kind.length));
    for (const info of kinds) process.stdout.write(`${info.kind.padEnd(width)}  ${info.summary}\n`);
    process.stdout.write(`\n${kinds.length} kinds. 'faultline faults KIND' shows a kind's parameters.\n`);
    return 0;
  }
  const [info] = selected as [(typeof kinds)[number]];
  const schema = info.schema as { properties: Record<string, PropertySchema>; required?: string[] };
  process.stdout.write(`${info.kind} — ${info.summary}\n\n`);
  for (const [name, property] of Object.entries(schema.properties)) {
    process.stdout.write(
      `  ${name}  ${describeProperty(property, schema.required?.includes(name) ?? false)}\n`,
    );
    if (property.description !== undefined) process.stdout.write(`      ${property.description}\n`);
  }
  return 0;
}

/** `number ≥ 0, ms, default 0` or `a tcp-proxy, required`. */
function describeProperty(property: PropertySchema, required: boolean): string {
  const parts: string[] = [];
  if (property['x-ref'] !== undefined) parts.push(`a ${property['x-ref']}`);
  else if (property.enum !== undefined)
    parts.push(property.enum.map((value) => JSON.stringify(value)).join(' | '));
  else parts.push(property.type ?? 'value');
  if (property.minimum !== undefined) parts.push(`≥ ${property.minimum}`);
  if (property.maximum !== undefined) parts.push(`≤ ${property.maximum}`);
  if (property['x-unit'] !== undefined) parts.push(property['x-unit']);
  if (property.default !== undefined) parts.push(`default ${JSON.stringify(property.default)}`);
  else parts.push(required ? 'required' : 'optional');
  return parts.join(', ');
}
