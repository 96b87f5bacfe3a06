import { describe, invalid } from '../core/assert.js';
import { defineFault } from '../core/fault-registry.js';
import type { ParamSpecs } from '../core/params.js';
import type { NetImpairments } from './impairments.js';
import { Network, type Pair } from './network.js';
import { type NetPresetName, netPresetNames } from './presets.js';

/**
 * The Network's operations as faults. Each runs the network's own method (one validation, one way to
 * compute the layers) with its change recorded in the caller's ledger; a partition-shaped fault conflicts
 * with any partition in force, a block or an impairment with one on the same pair (FL_ERR_CONFLICT).
 */
const network: ParamSpecs = {
  network: {
    type: 'ref',
    ref: 'network',
    is: (v) => v instanceof Network,
    description: 'the network to act on',
  },
};
const names = (description: string, minItems = 1) =>
  ({ type: 'list', items: { type: 'string', description: 'a node name' }, minItems, description }) as const;

export interface NetPartitionParams {
  readonly network: Network;
  /** Groups that cannot reach each other; unlisted nodes form one more group. */
  readonly groups: readonly (readonly string[])[];
}
export interface NetIsolateParams {
  readonly network: Network;
  readonly node: string;
}
export interface NetBridgeParams {
  readonly network: Network;
  /** Default: Jepsen's split of the nodes in construction order. */
  readonly left?: readonly string[];
  readonly right?: readonly string[];
  readonly bridge?: string;
}
export interface NetRingParams {
  readonly network: Network;
  /** Default: construction order. */
  readonly order?: readonly string[];
}
export interface NetBlockParams {
  readonly network: Network;
  readonly from: string;
  readonly to: string;
}
export interface NetImpairParams {
  readonly network: Network;
  /** `from → to` pairs, or every pair (default). */
  readonly links?: 'all' | readonly Pair[];
  /** A preset name (`loss-30`, `latency-500` …) or an impairments object (docs/network.md). */
  readonly impairments: NetPresetName | NetImpairments;
}

export const net = {
  partition: defineFault<NetPartitionParams>({
    kind: 'net.partition',
    summary: 'Splits the nodes into groups that cannot reach each other, both ways.',
    params: {
      ...network,
      groups: { type: 'list', items: names('a group'), minItems: 1, description: 'groups of node names' },
    },
    apply: async (p, context) =>
      p.network.injectVia(context, 'net.partition', () => p.network.partition(p.groups)),
  }),
  isolate: defineFault<NetIsolateParams>({
    kind: 'net.isolate',
    summary: 'Cuts one node off from every other node, both ways; clients still reach it.',
    params: { ...network, node: { type: 'string', description: 'the node to cut off' } },
    apply: async (p, context) => p.network.injectVia(context, 'net.isolate', () => p.network.isolate(p.node)),
  }),
  splitMajority: defineFault<{ readonly network: Network }>({
    kind: 'net.split-majority',
    summary: "A random majority and minority, drawn from the network's seed.",
    params: network,
    apply: async (p, context) =>
      p.network.injectVia(context, 'net.split-majority', () => p.network.splitMajority()),
  }),
  bridge: defineFault<NetBridgeParams>({
    kind: 'net.bridge',
    summary: "Jepsen's bridge: two halves that cannot reach each other, and one node that reaches both.",
    params: {
      ...network,
      left: { ...names('nodes on the left'), optional: true },
      right: { ...names('nodes on the right'), optional: true },
      bridge: { type: 'string', optional: true, description: 'the node that reaches both halves' },
    },
    apply: async (p, context) =>
      p.network.injectVia(context, 'net.bridge', () =>
        p.network.bridge(
          p.left === undefined && p.right === undefined && p.bridge === undefined
            ? undefined
            : { left: p.left ?? [], right: p.right ?? [], bridge: p.bridge as string },
        ),
      ),
  }),
  ring: defineFault<NetRingParams>({
    kind: 'net.ring',
    summary: "Jepsen's majorities ring: each node reaches a different majority.",
    params: { ...network, order: { ...names('the ring, every node once'), optional: true } },
    apply: async (p, context) => p.network.injectVia(context, 'net.ring', () => p.network.ring(p.order)),
  }),
  block: defineFault<NetBlockParams>({
    kind: 'net.block',
    summary: 'Stops what one node (or client) sends to another, one way.',
    params: {
      ...network,
      from: { type: 'string', description: 'the sender' },
      to: { type: 'string', description: 'the receiver' },
    },
    apply: async (p, context) =>
      p.network.injectVia(context, 'net.block', () => p.network.block(p.from, p.to)),
  }),
  impair: defineFault<NetImpairParams>({
    kind: 'net.impair',
    summary: 'Impairs the traffic of some or all pairs (loss, delay, reorder, duplicate, corrupt, rate).',
    params: {
      ...network,
      links: {
        type: 'shape',
        optional: true,
        description: '"all" (default) or a list of [from, to] pairs',
        // The shape is checked here (a scenario file is refused before it runs); the names when applied.
        check: (value, field) => {
          const pairs = Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2);
          if (value === 'all' || (pairs && value.flat().every((name) => typeof name === 'string')))
            return value;
          throw invalid(
            field,
            `expected "all" or a list of [from, to] pairs, got ${describe(value)}`,
            '"all" or [[from, to], …]',
          );
        },
        schema: {
          oneOf: [
            { const: 'all' },
            { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 } },
          ],
        },
      },
      impairments: {
        type: 'shape',
        description: 'a preset name or an impairments object',
        // Which impairments an object may hold depends on the network's protocol: checked when applied.
        check: (value, field) => {
          const object = typeof value === 'object' && value !== null && !Array.isArray(value);
          if (object || netPresetNames.includes(value as NetPresetName)) return value;
          const presets = netPresetNames.map((name) => JSON.stringify(name)).join(', ');
          throw invalid(
            field,
            `expected a preset name or an impairments object, got ${describe(value)}`,
            `one of ${presets}, or an object`,
          );
        },
        schema: { oneOf: [{ enum: [...netPresetNames] }, { type: 'object' }] },
      },
    },
    apply: async (p, context) =>
      p.network.injectVia(context, 'net.impair', () => p.network.impair(p.links ?? 'all', p.impairments)),
  }),
};
