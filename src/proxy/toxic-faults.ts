import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { applyWithHeal } from '../core/fault.js';
import { defineFault, type FaultFactory, faultFactory } from '../core/fault-registry.js';
import type { ParamSpecs } from '../core/params.js';
import type { TcpProxy } from './tcp-proxy.js';
import {
  type Attributes,
  attributeParam,
  type ToxicConfig,
  type ToxicKind,
  type ToxicStream,
  tcpProxies,
  toxicStreams,
} from './toxic.js';
import { typedVocabulary } from './toxic-vocabulary.js';

/** What every toxic fault takes besides its own attributes. */
export interface ToxicFaultParams {
  readonly proxy: TcpProxy;
  /** Default `downstream` (server → client), as in Toxiproxy. */
  readonly stream?: ToxicStream;
  /** Share of connections the toxic acts on, 0..1; default 1. */
  readonly toxicityProbability?: number;
  /** Unique on the proxy; default `<toxic kind>-<stream>` (`slow-close-downstream`). */
  readonly name?: string;
}

type AnyToxicFault = FaultFactory<ToxicFaultParams & Readonly<Record<string, unknown>>>;

/** `tcp.<toxic kind>`: `slow-close` is `tcp.slow-close`. */
function toxicFaultKind(name: string): string {
  return `tcp.${name}`;
}

/** The parameters every toxic fault has (`ToxicFaultParams`), for a kind that may go on `streams`. */
function commonParams(streams: readonly ToxicStream[]): ParamSpecs {
  return {
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
    name: { type: 'string', optional: true, description: 'unique on the proxy; default <kind>-<stream>' },
  };
}

/** The names of the parameters every toxic fault has: no toxic attribute may be called so. */
export const toxicFaultParamNames: readonly string[] = Object.keys(commonParams(toxicStreams));

/**
 * Registers the fault kind of a toxic kind: its attributes (typed, units last) as parameters. Called for
 * every toxic kind as it is registered, user-defined ones included.
 */
export function registerToxicFault(kind: ToxicKind): void {
  const params: Record<string, ParamSpecs[string]> = { ...commonParams(kind.streams ?? toxicStreams) };
  for (const [attribute, spec] of Object.entries(kind.attributes)) params[attribute] = attributeParam(spec);
  defineFault<ToxicFaultParams & Readonly<Record<string, unknown>>>({
    kind: toxicFaultKind(kind.name),
    summary: kind.summary,
    params,
    async apply(given, context) {
      const { proxy } = given;
      const stream = given.stream ?? 'downstream';
      const attributes: Attributes = {};
      for (const attribute of Object.keys(kind.attributes)) {
        attributes[attribute] = given[attribute] as number;
      }
      const spec: ToxicConfig = {
        name: given.name ?? typedVocabulary.defaultName(kind, stream),
        kind: kind.name,
        stream,
        toxicityProbability: given.toxicityProbability ?? 1,
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
      const label = `${toxicFaultKind(kind.name)} "${spec.name}" on ${proxy.name}`;
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

/** The fault of a toxic as configured (already validated): how the API's toxics are applied. */
export function toxicFaultOf(proxy: TcpProxy, config: ToxicConfig): ReturnType<AnyToxicFault> {
  const fault = toxicFault(config.kind) as AnyToxicFault;
  return fault({
    ...config.attributes,
    proxy,
    stream: config.stream,
    toxicityProbability: config.toxicityProbability,
    name: config.name,
  });
}

/** The factory of a built-in or registered toxic's fault, by toxic kind name. */
export function toxicFault(name: string): AnyToxicFault | undefined {
  return faultFactory(toxicFaultKind(name)) as AnyToxicFault | undefined;
}
