// Fixtures for the network tests: one tiny real server per node (TCP or UDP on loopback) that answers
// every message, a Network in front of them, and probes that send a message from one name to another
// through `network.address(from, to)`. Everything opened is closed by `t.after`.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { Network, type NetworkOptions } from '../../src/net/network.js';

export type Outcome = 'answered' | 'delivered' | 'lost';

/** How long a probe that should not be answered is given: long enough that a loaded VM answers the rest. */
export const silenceMs = 400;
/** How long a probe that should be answered may take on a loaded machine. */
export const answerDeadlineMs = 5000;

interface PeerServer {
  readonly address: string;
  readonly received: Set<string>;
  /** How many times each message arrived (duplicates count). */
  readonly counts: Map<string, number>;
}

export interface Cluster {
  readonly network: Network;
  readonly nodes: readonly string[];
  readonly clients: readonly string[];
  readonly servers: ReadonlyMap<string, PeerServer>;
}

async function startTcpPeer(t: TestContext): Promise<PeerServer> {
  const received = new Set<string>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        received.add(line);
        counts.set(line, (counts.get(line) ?? 0) + 1);
        socket.write(`ack:${line}\n`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, received, counts };
}

async function startUdpPeer(t: TestContext): Promise<PeerServer> {
  const received = new Set<string>();
  const counts = new Map<string, number>();
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => {
    const text = message.toString();
    received.add(text);
    counts.set(text, (counts.get(text) ?? 0) + 1);
    socket.send(`ack:${text}`, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { address: `127.0.0.1:${socket.address().port}`, received, counts };
}

/** Real peer servers for `nodes` and a started network in front of them, stopped after the test. */
export async function startCluster(
  t: TestContext,
  protocol: 'tcp' | 'udp',
  nodes: readonly string[],
  options: { clients?: string[]; seed?: number } = {},
): Promise<Cluster> {
  const servers = new Map<string, PeerServer>();
  for (const name of nodes) servers.set(name, await (protocol === 'tcp' ? startTcpPeer(t) : startUdpPeer(t)));
  const networkOptions: NetworkOptions = {
    protocol,
    nodes: Object.fromEntries([...servers].map(([name, server]) => [name, { address: server.address }])),
    seed: options.seed ?? 1,
    ...(options.clients === undefined ? {} : { clients: options.clients }),
  };
  const network = new Network(networkOptions);
  await network.start();
  t.after(() => network.stop());
  return { network, nodes, clients: options.clients ?? [], servers };
}

let sequence = 0;

/** One message from `from` to `to` through the network, awaiting its answer. */
export class Probe {
  readonly message: string;
  private isAnswered = false;
  private readonly waiters: (() => void)[] = [];
  private readonly closeSocket: () => void;

  constructor(
    private readonly cluster: Cluster,
    readonly from: string,
    readonly to: string,
    protocol: 'tcp' | 'udp',
  ) {
    this.message = `${from}->${to}#${sequence++}`;
    const [host, port] = splitAddress(cluster.network.address(from, to));
    const onAnswer = (text: string): void => {
      if (text.includes(`ack:${this.message}`)) {
        this.isAnswered = true;
        for (const waiter of this.waiters.splice(0)) waiter();
      }
    };
    if (protocol === 'tcp') {
      const socket = connect(port, host);
      socket.on('error', () => {});
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        onAnswer(text);
      });
      socket.write(`${this.message}\n`);
      this.closeSocket = () => socket.destroy();
    } else {
      const socket: UdpSocket = createSocket('udp4');
      socket.on('error', () => {});
      socket.on('message', (message) => onAnswer(message.toString()));
      socket.send(this.message, port, host);
      this.closeSocket = () => socket.close();
    }
  }

  get answered(): boolean {
    return this.isAnswered;
  }

  get delivered(): boolean {
    return this.cluster.servers.get(this.to)?.received.has(this.message) ?? false;
  }

  get outcome(): Outcome {
    return this.answered ? 'answered' : this.delivered ? 'delivered' : 'lost';
  }

  /** Resolves when answered; rejects after `timeoutMs`. */
  async answer(timeoutMs = answerDeadlineMs): Promise<void> {
    if (this.isAnswered) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.message}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push(resolve);
    }).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.closeSocket();
  }
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

/** Every ordered pair with a link: node→node and client→node, named `from->to`. */
export function allPairs(cluster: Cluster): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const from of [...cluster.nodes, ...cluster.clients]) {
    for (const to of cluster.nodes) if (from !== to) pairs.push([from, to]);
  }
  return pairs;
}

/**
 * The outcome a request/answer probe must have when the traffic in `blocked` is stopped: lost if the
 * request is stopped, delivered (but unanswered) if only the answer is, answered otherwise.
 */
export function expectedMatrix(
  cluster: Cluster,
  blocked: ReadonlyArray<readonly [string, string]>,
): Record<string, Outcome> {
  const stopped = new Set(blocked.map(([from, to]) => `${from}->${to}`));
  const result: Record<string, Outcome> = {};
  for (const [from, to] of allPairs(cluster)) {
    result[`${from}->${to}`] = stopped.has(`${from}->${to}`)
      ? 'lost'
      : stopped.has(`${to}->${from}`)
        ? 'delivered'
        : 'answered';
  }
  return result;
}

/** Traffic stopped both ways between members of different groups. */
export function cut(groups: readonly (readonly string[])[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [i, group] of groups.entries()) {
    for (const [j, other] of groups.entries()) {
      if (i !== j) for (const a of group) for (const b of other) pairs.push([a, b]);
    }
  }
  return pairs;
}

/**
 * Probes every pair at once. Waits until every probe `expected` says is answered has been (up to the
 * answer deadline) and at least `silenceMs`, then reads the outcomes. Returns the probes too, still open,
 * so a test can watch held messages arrive later; they are closed after the test.
 */
export async function measure(
  t: TestContext,
  cluster: Cluster,
  expected: Record<string, Outcome>,
): Promise<{ outcomes: Record<string, Outcome>; probes: Map<string, Probe> }> {
  const protocol = cluster.network.protocol;
  const probes = new Map<string, Probe>();
  for (const [from, to] of allPairs(cluster))
    probes.set(`${from}->${to}`, new Probe(cluster, from, to, protocol));
  t.after(() => {
    for (const probe of probes.values()) probe.close();
  });
  const started = performance.now();
  const mustAnswer = [...probes].filter(([name]) => expected[name] === 'answered').map(([, probe]) => probe);
  await Promise.allSettled(mustAnswer.map((probe) => probe.answer()));
  const rest = silenceMs - (performance.now() - started);
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  const outcomes: Record<string, Outcome> = {};
  for (const [name, probe] of probes) outcomes[name] = probe.outcome;
  return { outcomes, probes };
}
