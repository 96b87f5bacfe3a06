import {
  type TcpProxyState,
  type ToxicConfig,
  type ToxicKind,
  type ToxicStream,
  type ToxicVocabulary,
  toxicKind,
} from '../proxy/index.js';

/** The members of a proxy and of a toxic in Toxiproxy's JSON (a populate body, a `--config` file). */
export const proxyMembers = [
  'name',
  'listen',
  'upstream',
  'enabled',
  'toxics',
] as const satisfies readonly (keyof ProxyState)[];
export const toxicMembers = [
  'name',
  'type',
  'stream',
  'toxicity',
  'attributes',
] as const satisfies readonly (keyof ToxicSpec)[];

/** A toxic in Toxiproxy's JSON shape, as the API takes and returns it. */
export interface ToxicSpec {
  readonly attributes: Record<string, number>;
  readonly name: string;
  readonly type: string;
  readonly stream: ToxicStream;
  readonly toxicity: number;
}

/** A proxy in Toxiproxy's JSON shape. */
export interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: ToxicSpec[];
}

/** A toxic kind's Toxiproxy names: its `type`, and each attribute's wire name → typed attribute name. */
interface WireNames {
  readonly type: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * The one table of Toxiproxy's names for the built-in toxics, by faultline toxic kind. Each typed name
 * ends in the unit the wire attribute is counted in (Toxiproxy's `latency` is in ms, `rate` in KB/s of
 * 1000 bytes, the slicer's `delay` in µs), so values cross unchanged.
 */
const wireNames: Readonly<Record<string, WireNames>> = {
  latency: { type: 'latency', attributes: { latency: 'latencyMs', jitter: 'jitterMs' } },
  bandwidth: { type: 'bandwidth', attributes: { rate: 'rateKBPerSec' } },
  'slow-close': { type: 'slow_close', attributes: { delay: 'delayMs' } },
  timeout: { type: 'timeout', attributes: { timeout: 'timeoutMs' } },
  'reset-peer': { type: 'reset_peer', attributes: { timeout: 'timeoutMs' } },
  slicer: {
    type: 'slicer',
    attributes: {
      average_size: 'averageSizeBytes',
      size_variation: 'sizeVariationBytes',
      delay: 'delayMicros',
    },
  },
  'limit-data': { type: 'limit_data', attributes: { bytes: 'limitBytes' } },
  noop: { type: 'noop', attributes: {} },
  'slow-open': { type: 'slow_open', attributes: { delay: 'delayMs' } },
  'limit-time': { type: 'limit_time', attributes: { time: 'limitMs' } },
  corrupt: { type: 'corrupt', attributes: { probability: 'bitFlipProbability' } },
};

/** `my-toxic` → `my_toxic`, `delayMs` → `delay_ms`: the wire form of a name the table does not list. */
function snakeCase(name: string): string {
  return name.replaceAll('-', '_').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function tableEntry(kind: ToxicKind): WireNames | undefined {
  return Object.hasOwn(wireNames, kind.name) ? wireNames[kind.name] : undefined;
}

/**
 * Toxiproxy's names for every toxic kind: the table's for the built-in ones, and for a user-defined kind
 * its names in snake_case (type `my-toxic` → `my_toxic`, attribute `delayMs` → `delay_ms`).
 */
export const toxiproxyVocabulary: ToxicVocabulary = {
  kindField: 'type',
  toxicityField: 'toxicity',
  kindName: (kind) => tableEntry(kind)?.type ?? snakeCase(kind.name),
  attributeName(kind, attribute) {
    const entry = tableEntry(kind);
    if (entry === undefined) return snakeCase(attribute);
    const wire = Object.keys(entry.attributes).find((name) => entry.attributes[name] === attribute);
    return wire ?? snakeCase(attribute);
  },
  defaultName: (kind, stream) => `${toxiproxyVocabulary.kindName(kind)}_${stream}`,
};

/** A configured toxic in Toxiproxy's JSON shape. */
export function toxicToWire(config: ToxicConfig): ToxicSpec {
  const kind = toxicKind(config.kind);
  const attributes: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(config.attributes)) {
    attributes[toxiproxyVocabulary.attributeName(kind, attribute)] = value;
  }
  return {
    attributes,
    name: config.name,
    type: toxiproxyVocabulary.kindName(kind),
    stream: config.stream,
    toxicity: config.toxicityProbability,
  };
}

/** A proxy in Toxiproxy's JSON shape. */
export function proxyToWire(state: TcpProxyState): ProxyState {
  return { ...state, toxics: state.toxics.map(toxicToWire) };
}
