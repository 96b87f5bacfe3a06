import { describe, invalid, requireObject, requireOneOf, requireString } from '../core/assert.js';
import { conflict } from '../core/claims.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { applyWithHealSync, type FaultContext, type Injection } from '../core/fault.js';
import { announce } from '../core/fault-registry.js';
import { Ledger } from '../core/ledger.js';
import { Random } from '../core/random.js';
import type { Direction, TcpProxy } from '../proxy/index.js';
import { formatHostPort, parseHostPort, type UdpProxy, validateImpairments } from '../proxy/index.js';
import { type NetImpairments, validateTcpImpairments } from './impairments.js';
import { type NetPresetName, netPreset } from './presets.js';
import { TcpLink } from './tcp-link.js';
import { UdpLink } from './udp-link.js';

export type NetProtocol = 'tcp' | 'udp';
const netProtocols: readonly NetProtocol[] = ['tcp', 'udp'];

export interface NetworkNode {
  /** `host:port` where the node's real service listens. */
  address: string;
}

export interface NetworkOptions {
  protocol: NetProtocol;
  nodes: Record<string, NetworkNode>;
  /** Names of clients: each gets a link to every node (clients are not servers, so none to them). */
  clients?: string[];
  /** Seed of every random draw (splitMajority, the proxies' impairments); default: a fresh one. */
  seed?: number;
  /** Stream to draw from instead of `seed`. */
  random?: Random;
  clock?: Clock;
}

/** An ordered pair: traffic that `from` sends to `to`. */
export type Pair = readonly [from: string, to: string];

/** The last partition-shaped operation (partition, isolate, splitMajority, bridge, ring) in force. */
export type PartitionState =
  | { readonly kind: 'partition'; readonly groups: string[][] }
  | { readonly kind: 'isolate'; readonly node: string; readonly groups: string[][] }
  | {
      readonly kind: 'split-majority';
      readonly majority: string[];
      readonly minority: string[];
      readonly groups: string[][];
    }
  | { readonly kind: 'bridge'; readonly bridge: string; readonly groups: string[][] }
  | { readonly kind: 'ring'; readonly order: string[]; readonly sees: Record<string, string[]> };

export interface NetworkState {
  readonly protocol: NetProtocol;
  /** Every ordered pair whose traffic is stopped now, from the partition and explicit blocks together. */
  readonly blocked: Array<[from: string, to: string]>;
  /** The explicit one-way blocks (`block`), kept apart from the partition so each heals exactly. */
  readonly blocks: Array<[from: string, to: string]>;
  readonly partition: PartitionState | null;
  /** Impairments on the traffic `from` sends to `to`. */
  readonly impaired: Array<{ from: string; to: string; impairments: NetImpairments }>;
}

/** Layers the network keeps; each link's effective faults are computed from them, never stored. */
interface Layers {
  readonly partition: { readonly state: PartitionState; readonly grudge: ReadonlySet<string> } | null;
  readonly blocks: ReadonlySet<string>;
  readonly impairments: ReadonlyMap<string, NetImpairments>;
}

type Link = TcpLink | UdpLink;

const emptyLayers: Layers = { partition: null, blocks: new Set(), impairments: new Map() };

/** Pair keys: names may hold any character but NUL. */
const key = (from: string, to: string): string => `${from}\u0000${to}`;
const unkey = (pairKey: string): [string, string] => pairKey.split('\u0000') as [string, string];

/** Records that `field` names `text`; throws if an earlier field (kept in `seen`) already named it. */
function claimOnce(
  seen: Map<string, string>,
  text: string,
  field: string,
  preposition: 'in' | 'at',
  expected?: string,
): void {
  const earlier = seen.get(text);
  if (earlier !== undefined) throw invalid(field, `"${text}" is already ${preposition} ${earlier}`, expected);
  seen.set(text, field);
}

/**
 * Nodes and the proxied links among them. Every node reaches every peer, and every client every node,
 * through its own link (a TCP or UDP proxy on 127.0.0.1), so faults act per ordered pair. Operations act
 * on traffic by direction: the pair (from, to) is what `from` sends to `to`, which on the link from→to
 * is its upstream (requests), and on the link to→from its downstream (replies).
 */
export class Network {
  readonly protocol: NetProtocol;
  readonly nodes: readonly string[];
  readonly clients: readonly string[];
  readonly seed: number;
  private readonly addresses: ReadonlyMap<string, string>;
  private readonly random: Random;
  private readonly splitRandom: Random;
  private readonly clock: Clock | undefined;
  private readonly order: ReadonlyMap<string, number>;
  private layers: Layers = emptyLayers;
  private links = new Map<string, Link>();
  /** Where the conveniences (partition, block, impair …) record their heals. */
  private readonly own: FaultContext;
  /** What the conveniences hold now: the partition, and blocks by pair. */
  private ownPartition: Injection | undefined;
  private readonly ownBlocks = new Map<string, Injection>();
  /** The impairments the conveniences set: per entry, its pairs and the object it put on them. */
  private readonly ownImpairs = new Map<
    Injection,
    { keys: readonly string[]; impairments: NetImpairments }
  >();
  /** Set while a network fault (`net.partition` …) runs a method: its change goes to that fault's ledger. */
  private faultCall: { context: FaultContext; injection?: Injection } | undefined;
  private started = false;
  private starting: Promise<void> | undefined;

  constructor(options: NetworkOptions) {
    const input = requireObject(options, 'network');
    this.protocol = requireOneOf(input.protocol, 'protocol', netProtocols);
    const nodes = requireObject(input.nodes, 'nodes');
    const addresses = new Map<string, string>();
    for (const [name, spec] of Object.entries(nodes)) {
      requireName(name, `nodes[${JSON.stringify(name)}]`);
      const field = `nodes.${name}.address`;
      const node = requireObject(spec, `nodes.${name}`);
      const address = parseHostPort(node.address, field);
      addresses.set(name, formatHostPort(address.host, address.port));
    }
    if (addresses.size === 0) throw invalid('nodes', 'expected at least one node', 'at least one node');
    const clients: string[] = [];
    if (input.clients !== undefined) {
      if (!Array.isArray(input.clients)) {
        throw invalid('clients', `expected an array of names, got ${describe(input.clients)}`, 'an array');
      }
      for (const [i, name] of (input.clients as unknown[]).entries()) {
        const field = `clients[${i}]`;
        const text = requireName(name, field);
        if (addresses.has(text)) throw invalid(field, `"${text}" is already a node`, 'a name no node has');
        if (clients.includes(text)) throw invalid(field, `duplicate client "${text}"`, 'unique names');
        clients.push(text);
      }
    }
    this.addresses = addresses;
    this.nodes = [...addresses.keys()];
    this.clients = clients;
    this.order = new Map([...this.nodes, ...clients].map((name, i) => [name, i]));
    this.random = Random.from(options, 'network');
    this.seed = this.random.seed;
    this.splitRandom = this.random.fork('split-majority');
    this.clock = options.clock;
    const clock = options.clock ?? realClock;
    this.own = { ledger: new Ledger({ clock }), clock, random: this.random };
  }

  /** Opens every link. Faults set before start take effect on it. */
  start(): Promise<void> {
    // Concurrent calls share one start, so no link is opened twice.
    this.starting ??= this.openLinks().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async openLinks(): Promise<void> {
    if (this.started) return;
    const links = new Map<string, Link>();
    try {
      for (const [from, to] of this.linkPairs()) {
        const options = {
          name: `${from}->${to}`,
          upstream: this.addresses.get(to) as string,
          random: this.random.fork(`link/${from}->${to}`),
          ...(this.clock === undefined ? {} : { clock: this.clock }),
        };
        const link = this.protocol === 'tcp' ? new TcpLink(options) : new UdpLink(options);
        await link.start();
        links.set(key(from, to), link);
      }
    } catch (error) {
      for (const link of links.values()) await link.stop();
      throw error;
    }
    this.links = links;
    this.started = true;
    this.applyAll(this.layers);
  }

  /** `stop()`, for `await using` and `useFaultline(t).own()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Closes every link and its connections. Faults stay recorded; a new `start()` applies them again. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    const links = [...this.links.values()];
    this.links = new Map();
    this.started = false;
    await Promise.all(links.map((link) => link.stop()));
  }

  /** The `host:port` that `from` (a node or client) must use to reach node `to`. */
  address(from: string, to: string): string {
    this.requireKnown(from, 'from', 'address');
    this.requireNode(to, 'address.to');
    if (from === to) throw invalid('address.to', `a node reaches itself directly, not through a link`);
    const link = this.links.get(key(from, to));
    if (link === undefined) {
      throw new FaultlineError(
        codes.invalidArgument,
        'address: the network is not started; call start() first',
        {
          details: { field: 'address' },
        },
      );
    }
    return link.listen;
  }

  /** The live proxy of the link from→to, for its counters and stats. Its faults belong to the network. */
  link(from: string, to: string): TcpProxy | UdpProxy {
    this.address(from, to);
    return (this.links.get(key(from, to)) as Link).proxy;
  }

  /** Every address `from` uses, by peer name: what goes in that node's peer list. */
  peers(from: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const to of this.nodes) if (to !== from) result[to] = this.address(from, to);
    return result;
  }

  state(): NetworkState {
    const byOrder = (a: [string, string], b: [string, string]): number =>
      this.rank(a[0]) - this.rank(b[0]) || this.rank(a[1]) - this.rank(b[1]);
    const blocked = new Set([...(this.layers.partition?.grudge ?? []), ...this.layers.blocks]);
    return {
      protocol: this.protocol,
      blocked: [...blocked].map(unkey).sort(byOrder),
      blocks: [...this.layers.blocks].map(unkey).sort(byOrder),
      partition: this.layers.partition === null ? null : structuredClone(this.layers.partition.state),
      impaired: [...this.layers.impairments]
        .map(([pairKey, impairments]) => [unkey(pairKey), impairments] as const)
        .sort((a, b) => byOrder(a[0], b[0]))
        .map(([[from, to], impairments]) => ({ from, to, impairments: structuredClone(impairments) })),
    };
  }

  /**
   * Splits the nodes into groups that cannot reach each other, both ways. Nodes not listed form one more
   * group together. Clients may be listed too: a listed client reaches only its group's nodes; clients
   * not listed keep reaching every node. Replaces any earlier partition; explicit blocks stay.
   */
  partition(groups: readonly (readonly string[])[]): NetworkState {
    const field = 'partition.groups';
    if (!Array.isArray(groups)) throw invalid(field, `expected an array of groups, got ${describe(groups)}`);
    if (groups.length === 0) throw invalid(field, 'expected at least one group', 'at least one group');
    const seen = new Map<string, string>();
    const normalized: string[][] = [];
    for (const [i, group] of (groups as unknown[]).entries()) {
      const groupField = `${field}[${i}]`;
      if (!Array.isArray(group))
        throw invalid(groupField, `expected an array of names, got ${describe(group)}`);
      if (group.length === 0)
        throw invalid(groupField, 'a group must name at least one node', 'a non-empty array');
      const members: string[] = [];
      for (const [j, name] of (group as unknown[]).entries()) {
        const memberField = `${groupField}[${j}]`;
        const text = this.requireKnown(name, memberField);
        claimOnce(seen, text, memberField, 'in', 'each name in one group at most');
        members.push(text);
      }
      normalized.push(members);
    }
    const leftover = this.nodes.filter((node) => !seen.has(node));
    if (leftover.length > 0) normalized.push(leftover);
    return this.setPartition({ kind: 'partition', groups: normalized }, this.groupGrudge(normalized));
  }

  /** Cuts `node` off from every other node, both ways. Clients still reach it (as in Jepsen). */
  isolate(node: string): NetworkState {
    const name = this.requireNode(node, 'isolate.node');
    const groups = [[name], this.nodes.filter((other) => other !== name)];
    return this.setPartition({ kind: 'isolate', node: name, groups }, this.groupGrudge(groups));
  }

  /**
   * A random majority and minority, drawn from the network's seed. While a split from this operation is
   * in force, calling it again returns that split (idempotent); heal first to draw a new one.
   */
  splitMajority(): NetworkState & { majority: string[]; minority: string[] } {
    const current = this.layers.partition?.state;
    if (current?.kind === 'split-majority') {
      return { ...this.state(), majority: [...current.majority], minority: [...current.minority] };
    }
    if (this.nodes.length < 3) {
      throw invalid('splitMajority', `needs at least 3 nodes to leave a minority, got ${this.nodes.length}`);
    }
    const shuffled = [...this.nodes];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.splitRandom.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
    }
    const size = Math.floor(this.nodes.length / 2) + 1;
    const inMajority = new Set(shuffled.slice(0, size));
    const majority = this.nodes.filter((node) => inMajority.has(node));
    const minority = this.nodes.filter((node) => !inMajority.has(node));
    const groups = [majority, minority];
    const state = this.setPartition(
      { kind: 'split-majority', majority, minority, groups },
      this.groupGrudge(groups),
    );
    return { ...state, majority: [...majority], minority: [...minority] };
  }

  /**
   * Jepsen's bridge: two halves that cannot reach each other, and one node that reaches both. Without
   * arguments the nodes, in the order given at construction, split as Jepsen does: the first ⌊n/2⌋ on
   * the left, the next one the bridge, the rest on the right. Explicitly, every node must appear once.
   */
  bridge(spec?: { left: readonly string[]; right: readonly string[]; bridge: string }): NetworkState {
    let left: string[];
    let right: string[];
    let via: string;
    if (spec === undefined) {
      if (this.nodes.length < 3) throw invalid('bridge', `needs at least 3 nodes, got ${this.nodes.length}`);
      const half = Math.floor(this.nodes.length / 2);
      left = this.nodes.slice(0, half);
      via = this.nodes[half] as string;
      right = this.nodes.slice(half + 1);
    } else {
      const input = requireObject(spec, 'bridge');
      via = this.requireNode(input.bridge, 'bridge.bridge');
      const seen = new Map<string, string>([[via, 'bridge.bridge']]);
      const side = (value: unknown, field: string): string[] => {
        if (!Array.isArray(value) || value.length === 0) {
          throw invalid(field, `expected a non-empty array of nodes, got ${describe(value)}`);
        }
        return (value as unknown[]).map((name, i) => {
          const memberField = `${field}[${i}]`;
          const text = this.requireNode(name, memberField);
          claimOnce(seen, text, memberField, 'in');
          return text;
        });
      };
      left = side(input.left, 'bridge.left');
      right = side(input.right, 'bridge.right');
      const missing = this.nodes.filter((node) => !seen.has(node));
      if (missing.length > 0) {
        throw invalid('bridge', `every node must be on a side or the bridge; missing: ${missing.join(', ')}`);
      }
    }
    const grudge = new Set<string>();
    for (const a of left) {
      for (const b of right) {
        grudge.add(key(a, b));
        grudge.add(key(b, a));
      }
    }
    return this.setPartition({ kind: 'bridge', bridge: via, groups: [left, right] }, grudge);
  }

  /**
   * Jepsen's majorities ring: nodes on a ring (the given order, default construction order), each
   * reaching its neighbours within distance ⌈(m−1)/2⌉ for a majority m — so every node sees a majority
   * (itself included) and no two see the same one. With 4 or 5 nodes each sees its two neighbours.
   */
  ring(order?: readonly string[]): NetworkState {
    let ring: string[];
    if (order === undefined) ring = [...this.nodes];
    else {
      if (!Array.isArray(order))
        throw invalid('ring.order', `expected an array of nodes, got ${describe(order)}`);
      const seen = new Map<string, string>();
      ring = (order as unknown[]).map((name, i) => {
        const field = `ring.order[${i}]`;
        const text = this.requireNode(name, field);
        claimOnce(seen, text, field, 'at');
        return text;
      });
      const missing = this.nodes.filter((node) => !seen.has(node));
      if (missing.length > 0)
        throw invalid('ring.order', `must list every node; missing: ${missing.join(', ')}`);
    }
    const n = ring.length;
    if (n < 4) {
      throw invalid('ring', `needs at least 4 nodes (with ${n}, every node neighbours all the others)`);
    }
    const majority = Math.floor(n / 2) + 1;
    const reach = Math.ceil((majority - 1) / 2);
    const sees: Record<string, string[]> = {};
    const grudge = new Set<string>();
    for (const [i, node] of ring.entries()) {
      sees[node] = [];
      for (const [j, other] of ring.entries()) {
        if (i === j) continue;
        const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
        if (distance <= reach) sees[node].push(other);
        else grudge.add(key(node, other));
      }
    }
    return this.setPartition({ kind: 'ring', order: ring, sees }, grudge);
  }

  /** Stops what `from` sends to `to` (one way; see docs/network.md). Adds to any partition. */
  block(from: string, to: string): NetworkState {
    const pairKey = this.requirePair(from, to, 'block');
    if (this.layers.blocks.has(pairKey)) {
      if (this.faultCall === undefined) return this.state();
      throw conflict('to', `net.block: ${from} → ${to} is already blocked`);
    }
    const entry = this.change(
      'net.block',
      `net.block ${from} → ${to}`,
      { from, to },
      (layers) => ({ ...layers, blocks: new Set([...layers.blocks, pairKey]) }),
      (layers) => ({ ...layers, blocks: new Set([...layers.blocks].filter((k) => k !== pairKey)) }),
    );
    if (entry !== undefined) this.ownBlocks.set(pairKey, entry);
    return this.state();
  }

  /** Removes an explicit block. A pair the partition blocks stays blocked until the partition heals. */
  unblock(from: string, to: string): NetworkState {
    const pairKey = this.requirePair(from, to, 'unblock');
    void this.ownBlocks.get(pairKey)?.heal();
    this.ownBlocks.delete(pairKey);
    if (!this.layers.blocks.has(pairKey)) return this.state();
    const blocks = new Set(this.layers.blocks);
    blocks.delete(pairKey);
    return this.commit({ ...this.layers, blocks });
  }

  /**
   * Sets the impairments of the traffic `from` sends to `to`, for each pair (or every pair: `'all'`),
   * replacing what those pairs had. A preset name or an impairments object; `{}` clears.
   */
  impair(links: 'all' | readonly Pair[], impairment: NetPresetName | NetImpairments): NetworkState {
    const keys = this.requirePairs(links, 'impair.links');
    const impairments = this.validateImpairments(impairment, 'impair.impairment');
    const taken = keys.find(
      (pairKey) =>
        this.layers.impairments.has(pairKey) &&
        (this.faultCall !== undefined || !this.ownsImpairment(pairKey)),
    );
    if (taken !== undefined) {
      throw conflict(
        'links',
        `net.impair: ${unkey(taken).join(' → ')} is already impaired by a fault; heal it first`,
      );
    }
    if (this.faultCall === undefined) this.healOwnImpairs(keys);
    const entry = this.change(
      'net.impair',
      `net.impair ${links === 'all' ? 'all links' : `${keys.length} link(s)`}`,
      { links, impairments },
      (layers) => {
        const next = new Map(layers.impairments);
        for (const pairKey of keys) {
          if (Object.keys(impairments).length === 0) next.delete(pairKey);
          else next.set(pairKey, impairments);
        }
        return { ...layers, impairments: next };
      },
      // Only pairs that still have exactly these impairments: a later impair of a pair is not undone.
      (layers) => {
        const next = new Map(layers.impairments);
        for (const pairKey of keys) if (next.get(pairKey) === impairments) next.delete(pairKey);
        return { ...layers, impairments: next };
      },
    );
    if (entry !== undefined) this.ownImpairs.set(entry, { keys, impairments });
    return this.state();
  }

  /** Whether the impairments on a pair are the ones a convenience call put there. */
  private ownsImpairment(pairKey: string): boolean {
    const current = this.layers.impairments.get(pairKey);
    return [...this.ownImpairs.values()].some(
      (own) => own.impairments === current && own.keys.includes(pairKey),
    );
  }

  /** Heals (now) the convenience impairments that only cover pairs in `keys`: they are being replaced. */
  private healOwnImpairs(keys: readonly string[]): void {
    const replaced = new Set(keys);
    for (const [entry, own] of this.ownImpairs) {
      if (!own.keys.every((pairKey) => replaced.has(pairKey))) continue;
      void entry.heal(); // its undo runs before the first await
      this.ownImpairs.delete(entry);
    }
  }

  /** Clears the impairments of those pairs (or all); blocks and partitions stay. */
  unimpair(links: 'all' | readonly Pair[] = 'all'): NetworkState {
    const keys = this.requirePairs(links, 'unimpair.links');
    this.healOwnImpairs(keys);
    const next = new Map(this.layers.impairments);
    for (const pairKey of keys) next.delete(pairKey);
    return this.commit({ ...this.layers, impairments: next });
  }

  /** Ends the partition only; explicit blocks and impairments stay. */
  healPartition(): NetworkState {
    void this.ownPartition?.heal();
    this.ownPartition = undefined;
    return this.commit({ ...this.layers, partition: null });
  }

  /**
   * Removes every partition, block and impairment — those of network faults in other ledgers too (their
   * heals then find nothing left to undo). TCP data held by a block is delivered now.
   */
  heal(): NetworkState {
    // Each heal's undo runs before its first await, so all of this happens now, in order.
    for (const entry of [this.ownPartition, ...this.ownBlocks.values(), ...this.ownImpairs.keys()])
      void entry?.heal();
    this.ownPartition = undefined;
    this.ownBlocks.clear();
    this.ownImpairs.clear();
    return this.commit(emptyLayers);
  }

  /**
   * Runs one of this network's methods as the fault `kind`: its change is recorded in `context`'s ledger
   * (not the network's own), and it conflicts with what is already in force instead of replacing it.
   * @internal
   */
  injectVia(context: FaultContext, kind: string, method: () => unknown): Injection {
    this.faultCall = { context };
    let injection: Injection | undefined;
    try {
      method();
      injection = this.faultCall.injection;
    } finally {
      this.faultCall = undefined;
    }
    if (injection === undefined) throw conflict('network', `${kind} is already in force on this network`);
    return injection;
  }

  /**
   * Applies one change of the layers as a ledger entry whose heal reverts exactly that change. Into the
   * running fault's ledger, or the network's own for the conveniences. Returns the own entry, if any.
   */
  private change(
    kind: string,
    label: string,
    params: unknown,
    apply: (layers: Layers) => Layers,
    revert: (layers: Layers) => Layers,
  ): Injection | undefined {
    const call = this.faultCall;
    const context = call?.context ?? this.own;
    const entry = applyWithHealSync(
      context,
      label,
      () => {
        this.commit(revert(this.layers));
      },
      () => {
        this.commit(apply(this.layers));
      },
    );
    // A fault's own inject announces it; a convenience announces here.
    if (call === undefined) {
      announce(kind, entry, params, context.clock);
      return entry;
    }
    call.injection = entry;
    return undefined;
  }

  /** Whether what `from` sends to `to` gets through now (ignoring impairments). */
  canSend(from: string, to: string): boolean {
    const pairKey = this.requirePair(from, to, 'canSend');
    return !this.isBlocked(this.layers, pairKey);
  }

  // --- internals ---

  /**
   * Puts a partition in force. A convenience call replaces the partition it set before; a partition from
   * a fault in another ledger conflicts (FL_ERR_CONFLICT), as does any partition for a fault.
   */
  private setPartition(state: PartitionState, grudge: ReadonlySet<string>): NetworkState {
    const current = this.layers.partition;
    if (current !== null && (this.faultCall !== undefined || this.ownPartition === undefined)) {
      throw conflict(
        'network',
        `net.${state.kind}: a ${current.state.kind} is already in force; heal it first`,
      );
    }
    void this.ownPartition?.heal();
    this.ownPartition = undefined;
    const layer = { state, grudge };
    const kind = `net.${state.kind}`;
    const entry = this.change(
      kind,
      `${kind} ${JSON.stringify(state.kind === 'ring' ? state.order : state.groups)}`,
      state,
      (layers) => ({ ...layers, partition: layer }),
      (layers) => (layers.partition === layer ? { ...layers, partition: null } : layers),
    );
    this.ownPartition = entry;
    return this.state();
  }

  private commit(next: Layers): NetworkState {
    if (this.started) this.applyAll(next);
    this.layers = next;
    return this.state();
  }

  /** Sets every link's two directions from the layers; links skip directions that did not change. */
  private applyAll(layers: Layers): void {
    for (const [linkKey, link] of this.links) {
      const [from, to] = unkey(linkKey);
      const apply = (direction: Direction, pairKey: string): void => {
        const impairments = layers.impairments.get(pairKey) ?? {};
        link.apply(direction, this.isBlocked(layers, pairKey), impairments);
      };
      apply('upstream', key(from, to));
      apply('downstream', key(to, from));
    }
  }

  private isBlocked(layers: Layers, pairKey: string): boolean {
    return layers.blocks.has(pairKey) || (layers.partition?.grudge.has(pairKey) ?? false);
  }

  /** Ordered pairs with a link: node→node and client→node. */
  private linkPairs(): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    for (const from of [...this.nodes, ...this.clients]) {
      for (const to of this.nodes) if (from !== to) pairs.push([from, to]);
    }
    return pairs;
  }

  /** Ordered pairs traffic can flow along: both ways of every link. */
  private trafficPairs(): string[] {
    return this.linkPairs().flatMap(([from, to]) =>
      this.clients.includes(from) ? [key(from, to), key(to, from)] : [key(from, to)],
    );
  }

  /** Both ways between members of different groups, except between two clients (no link joins them). */
  private groupGrudge(groups: readonly (readonly string[])[]): Set<string> {
    const grudge = new Set<string>();
    for (const [i, group] of groups.entries()) {
      for (const [j, other] of groups.entries()) {
        if (i === j) continue;
        for (const a of group) {
          for (const b of other) {
            if (!(this.clients.includes(a) && this.clients.includes(b))) grudge.add(key(a, b));
          }
        }
      }
    }
    return grudge;
  }

  private validateImpairments(input: unknown, field: string): NetImpairments {
    // A preset is checked like any impairments, so TCP refuses `loss-30` with the same explanation.
    if (typeof input === 'string')
      return this.validateImpairments(netPreset(input, field), `${field}("${input}")`);
    return this.protocol === 'tcp' ? validateTcpImpairments(input, field) : validateImpairments(input, field);
  }

  private requirePairs(links: unknown, field: string): string[] {
    if (links === 'all') return this.trafficPairs();
    if (!Array.isArray(links)) {
      throw invalid(field, `expected "all" or an array of [from, to] pairs, got ${describe(links)}`);
    }
    return (links as unknown[]).map((pair, i) => {
      const pairField = `${field}[${i}]`;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw invalid(pairField, `expected a [from, to] pair, got ${describe(pair)}`, '[from, to]');
      }
      return this.requirePair(pair[0], pair[1], pairField, ['[0]', '[1]']);
    });
  }

  private requirePair(from: unknown, to: unknown, field: string, parts = ['.from', '.to']): string {
    const a = this.requireKnown(from, `${field}${parts[0]}`);
    const b = this.requireKnown(to, `${field}${parts[1]}`);
    if (a === b) throw invalid(`${field}${parts[1]}`, `"${b}" is also the sender; a pair joins two names`);
    if (this.clients.includes(a) && this.clients.includes(b)) {
      throw invalid(`${field}${parts[1]}`, `"${a}" and "${b}" are both clients; no link joins two clients`);
    }
    return key(a, b);
  }

  private requireKnown(name: unknown, field: string, what?: string): string {
    const text = requireString(name, what === undefined ? field : `${what}.${field}`);
    if (this.order.has(text)) return text;
    const valid = [...this.nodes, ...this.clients].join(', ');
    const noun = this.clients.length > 0 ? 'node or client' : 'node';
    throw invalid(
      what === undefined ? field : `${what}.${field}`,
      `unknown ${noun} "${text}"; valid: ${valid}`,
    );
  }

  private requireNode(name: unknown, field: string): string {
    const text = requireString(name, field);
    if (this.addresses.has(text)) return text;
    const hint = this.clients.includes(text) ? ` ("${text}" is a client)` : '';
    throw invalid(field, `unknown node "${text}"${hint}; valid: ${this.nodes.join(', ')}`);
  }

  private rank(name: string): number {
    return this.order.get(name) ?? Number.MAX_SAFE_INTEGER;
  }
}

function requireName(name: unknown, field: string): string {
  const text = requireString(name, field, { nonEmpty: true });
  if (text.includes('\u0000') || text.trim() !== text) {
    throw invalid(field, `bad name ${describe(text)}: no NUL, no leading or trailing spaces`);
  }
  return text;
}
