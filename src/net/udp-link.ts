import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Direction } from '../proxy/toxic.js';
import { UdpProxy, validateImpairments } from '../proxy/udp/udp-proxy.js';
import type { NetImpairments } from './impairments.js';

export function validateUdpImpairments(input: unknown, field: string): NetImpairments {
  return validateImpairments(input, field);
}

/** One proxied UDP link: a `UdpProxy` whose impairments the network sets from its layers. */
export class UdpLink {
  readonly proxy: UdpProxy;
  private readonly applied: Record<Direction, string> = { upstream: '{}', downstream: '{}' };

  constructor(options: { name: string; upstream: string; random: Random; clock?: Clock }) {
    this.proxy = new UdpProxy({
      name: options.name,
      listen: '127.0.0.1:0',
      upstream: options.upstream,
      random: options.random,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  }

  get listen(): string {
    return this.proxy.listen;
  }

  start(): Promise<void> {
    return this.proxy.start();
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }

  /** Sets one direction's impairments: the link's own, with `blackhole` on top while blocked. */
  apply(direction: Direction, blocked: boolean, impairments: NetImpairments): void {
    const effective: NetImpairments = blocked ? { ...impairments, blackhole: true } : impairments;
    const text = JSON.stringify(effective);
    if (text === this.applied[direction]) return;
    if (Object.keys(effective).length === 0) this.proxy.heal(direction);
    else this.proxy.impair(direction, effective);
    this.applied[direction] = text;
  }
}
