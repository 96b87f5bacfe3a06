import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { applyWithHeal } from '../core/fault.js';
import { defineFault, type FaultFactory, faultFactory } from '../core/fault-registry.js';
import type { ParamSpecs } from '../core/params.js';
import type { TcpProxy } from './tcp-proxy.js';
import {
  type Attributes,
  type ToxicKind,
  type ToxicSpec,
  type ToxicStream,
  tcpProxies,
  toxicStreams,
} from './toxic.js';

/** What every toxic fault takes besides its own attributes. */
export interface ToxicFaultParams {
  readonly proxy: TcpProxy;
  /** Default `downstream` (server → client), as in Toxiproxy. */
  readonly stream?: ToxicStream;
  /** Share of connections the toxic acts on, 0..1 (Toxiproxy's `toxicity`); default 1. */
  readonly toxicityProbability?: number;
  /** Unique on the proxy; default `<toxic type>_<stream>`, as in Toxiproxy. */
  readonly name?: string;
}

type AnyToxicFault = FaultFactory<ToxicFaultParams & Readonly<Record<string, unknown>>>;

/** `tcp.<type in kebab-case>`: `slow_close` is `tcp.slow-close`. */
export function toxicFaultKind(type: string): string {
  return `tcp.${type.replaceAll('_', '-')}`;
}

/** The fault parameter each attribute is given as (`latency` → `latencyMs`). */
export function paramOf(kind: ToxicKind, attribute: string): string {
  const spec = kind.attributes[attribute];
  return spec?.param ?? attribute.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Registers the fault kind of a toxic kind: typed, units-last parameters over the toxic's Toxiproxy
 * attributes. Called for every toxic kind as it is registered, user-defined ones included.
 */
export function registerToxicFault(kind: ToxicKind): void {
  const streams = kind.streams ?? toxicStreams;
  const params: Record<string, ParamSpecs[string]> = {
    proxy: {
      type: 'ref',
      ref: 'tcp-proxy',
      is: (v) => typeof v === 'object' && v !== null && tcpProxies.has(v),
      description: 'the proxy to act on',
    },
    stream: {
      type: 'string',
      oneOf: streams,
      default: streams.includes('downstream') ? 'downstream' : (streams[0] as string),
      description: 'upstream (client → server), downstream (server → client) or both',
    },
    toxicityProbability: {
      type: 'number',
      min: 0,
      max: 1,
      default: 1,
      description: 'share of connections the toxic acts on',
    },
    name: { type: 'string', optional: true, description: 'unique on the proxy; default <type>_<stream>' },
  };
  for (const [attribute, spec] of Object.entries(kind.attributes)) {
    params[paramOf(kind, attribute)] = {
      type: 'number',
      min: spec.min ?? 0,
      ...(spec.max === undefined ? {} : { max: spec.max }),
      ...(spec.integer ? { integer: true } : {}),
      unit: spec.unit,
      default: spec.default,
      description: spec.description,
    };
  }
  defineFault<ToxicFaultParams & Readonly<Record<string, unknown>>>({
    kind: toxicFaultKind(kind.type),
    summary: kind.summary,
    params,
    async apply(given, context) {
      const { proxy } = given;
      const stream = given.stream ?? 'downstream';
      const attributes: Attributes = {};
      for (const attribute of Object.keys(kind.attributes)) {
        attributes[attribute] = given[paramOf(kind, attribute)] as number;
      }
      const spec: ToxicSpec = {
        name: given.name ?? `${kind.type}_${stream}`,
        type: kind.type,
        stream,
        toxicity: given.toxicityProbability ?? 1,
        attributes,
      };
      // Checked before the heal is recorded: healing a refused duplicate would remove the other toxic.
      if (proxy.hasToxic(spec.name)) {
        throw new FaultlineError(
          codes.alreadyExists,
          `name: proxy "${proxy.name}" already has a toxic "${spec.name}"; give this one another name`,
          { details: { field: 'name' } },
        );
      }
      const label = `${toxicFaultKind(kind.type)} "${spec.name}" on ${proxy.name}`;
      return applyWithHeal(
        context,
        label,
        () => {
          if (proxy.hasToxic(spec.name)) proxy.removeToxic(spec.name);
        },
        async () => {
          proxy.addToxic(spec);
        },
      );
    },
  });
}

/** The fault of a toxic in Toxiproxy's shape (already validated): how the API's toxics are applied. */
export function toxicFaultFromSpec(
  proxy: TcpProxy,
  spec: ToxicSpec,
  kind: ToxicKind,
): ReturnType<AnyToxicFault> {
  const fault = toxicFault(spec.type) as AnyToxicFault;
  const params: Record<string, unknown> = {
    proxy,
    stream: spec.stream,
    toxicityProbability: spec.toxicity,
    name: spec.name,
  };
  for (const [attribute, value] of Object.entries(spec.attributes)) params[paramOf(kind, attribute)] = value;
  return fault(params as ToxicFaultParams & Readonly<Record<string, unknown>>);
}

/** The factory of a built-in or registered toxic's fault, by Toxiproxy type name. */
export function toxicFault(type: string): AnyToxicFault | undefined {
  return faultFactory(toxicFaultKind(type)) as AnyToxicFault | undefined;
}
