import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Direction } from '../proxy/index.js';
import type { NetImpairments } from './impairments.js';

export interface LinkOptions {
  name: string;
  upstream: string;
  random: Random;
  clock?: Clock;
}

/** What a link needs of its proxy, TCP or UDP. */
interface LinkProxy {
  readonly listen: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One proxied path from a node to a peer; the network sets its faults from its own layers. */
export abstract class Link<P extends LinkProxy> {
  constructor(readonly proxy: P) {}

  get listen(): string {
    return this.proxy.listen;
  }

  start(): Promise<void> {
    return this.proxy.start();
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }

  /** Sets one direction's faults to exactly what `blocked` and `impairments` call for. */
  abstract apply(direction: Direction, blocked: boolean, impairments: NetImpairments): void;
}

/** A link's proxy listens on a free loopback port. */
export function proxyOptions(options: LinkOptions): LinkOptions & { listen: string } {
  return { ...options, listen: '127.0.0.1:0' };
}
