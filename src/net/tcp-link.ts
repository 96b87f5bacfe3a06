import type { Direction } from '../proxy/index.js';
import { TcpProxy } from '../proxy/index.js';
import { type NetImpairments, type TcpToxicPlan, tcpToxics } from './impairments.js';
import { Link, type LinkOptions, proxyOptions } from './link.js';

/** Toxics the network owns on its proxies carry this prefix; it never touches others. */
const ownPrefix = 'faultline_';

/** One proxied TCP link: a `TcpProxy` whose toxics the network sets from its layers. */
export class TcpLink extends Link<TcpProxy> {
  constructor(options: LinkOptions) {
    super(new TcpProxy(proxyOptions(options)));
  }

  /** Sets one direction's toxics to exactly what `blocked` and `impairments` call for. */
  override apply(direction: Direction, blocked: boolean, impairments: NetImpairments): void {
    const wanted = tcpToxics(blocked, impairments, direction);
    const suffix = `_${direction}`;
    for (const toxic of this.proxy.toxics) {
      if (!toxic.name.startsWith(ownPrefix) || !toxic.name.endsWith(suffix)) continue;
      const plan = wanted.get(toxic.name);
      if (plan === undefined) this.proxy.removeToxic(toxic.name);
      else {
        if (!sameAttributes(toxic.attributes, plan)) {
          this.proxy.updateToxic(toxic.name, { attributes: plan.attributes });
        }
        wanted.delete(toxic.name);
      }
    }
    for (const [name, plan] of wanted) {
      this.proxy.addToxic({
        name,
        kind: plan.kind,
        stream: direction,
        toxicityProbability: 1,
        attributes: plan.attributes,
      });
    }
  }
}

function sameAttributes(live: Record<string, number>, plan: TcpToxicPlan): boolean {
  return Object.entries(plan.attributes).every(([key, value]) => live[key] === value);
}
