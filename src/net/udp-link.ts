import type { Direction } from '../proxy/index.js';
import { UdpProxy } from '../proxy/index.js';
import type { NetImpairments } from './impairments.js';
import { Link, type LinkOptions, proxyOptions } from './link.js';

/** One proxied UDP link: a `UdpProxy` whose impairments the network sets from its layers. */
export class UdpLink extends Link<UdpProxy> {
  private readonly applied: Record<Direction, string> = { upstream: '{}', downstream: '{}' };

  constructor(options: LinkOptions) {
    super(new UdpProxy(proxyOptions(options)));
  }

  /** Sets one direction's impairments: the link's own, with `blackhole` on top while blocked. */
  override apply(direction: Direction, blocked: boolean, impairments: NetImpairments): void {
    const effective: NetImpairments = blocked ? { ...impairments, blackhole: true } : impairments;
    const text = JSON.stringify(effective);
    if (text === this.applied[direction]) return;
    if (Object.keys(effective).length === 0) this.proxy.heal(direction);
    else this.proxy.impair(direction, effective);
    this.applied[direction] = text;
  }
}
