import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { TcpProxy } from '../proxy/tcp-proxy.js';
import type { Direction } from '../proxy/toxic.js';
import { type NetImpairments, type TcpToxicPlan, tcpToxics } from './impairments.js';

/** Toxics the network owns on its proxies carry this prefix; it never touches others. */
const ownPrefix = 'faultline_';

/** One proxied TCP link: a `TcpProxy` whose toxics the network sets from its layers. */
export class TcpLink {
  readonly proxy: TcpProxy;

  constructor(options: { name: string; upstream: string; random: Random; clock?: Clock }) {
    this.proxy = new TcpProxy({
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

  /** Sets one direction's toxics to exactly what `blocked` and `impairments` call for. */
  apply(direction: Direction, blocked: boolean, impairments: NetImpairments): void {
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
        type: plan.type,
        stream: direction,
        toxicity: 1,
        attributes: plan.attributes,
      });
    }
  }
}

function sameAttributes(live: Record<string, number>, plan: TcpToxicPlan): boolean {
  return Object.entries(plan.attributes).every(([key, value]) => live[key] === value);
}
