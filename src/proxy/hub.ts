import { describe, invalid, requireObject } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { type ProxyState, type ProxyStats, TcpProxy, validateProxyName } from './tcp-proxy.js';
import type { ToxicSpec } from './toxic.js';

/** faultline's version of the Toxiproxy API it speaks. */
export const toxiproxyApiVersion = '2.12.0';

export interface ProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
  /** faultline's addition: toxics to create with the proxy (in /populate and --config). */
  toxics?: unknown[];
}

export interface ToxicInput {
  name?: string;
  type: string;
  stream?: 'upstream' | 'downstream' | 'both';
  toxicity?: number;
  attributes?: Record<string, number>;
}

/**
 * The Toxiproxy API as a TypeScript interface. `ProxyHub` implements it in-process, `ToxiproxyClient`
 * over HTTP, so a test can switch between them without changing anything else.
 */
export interface ToxiproxyApi {
  version(): Promise<string>;
  proxies(): Promise<Record<string, ProxyState>>;
  createProxy(input: ProxyInput): Promise<ProxyState>;
  /** Creates or replaces proxies as one step: on any error nothing is changed. */
  populate(inputs: ProxyInput[]): Promise<ProxyState[]>;
  getProxy(name: string): Promise<ProxyState>;
  updateProxy(name: string, changes: Partial<Omit<ProxyInput, 'name' | 'toxics'>>): Promise<ProxyState>;
  deleteProxy(name: string): Promise<void>;
  toxics(proxy: string): Promise<ToxicSpec[]>;
  addToxic(proxy: string, toxic: ToxicInput): Promise<ToxicSpec>;
  getToxic(proxy: string, toxic: string): Promise<ToxicSpec>;
  updateToxic(proxy: string, toxic: string, changes: Partial<ToxicInput>): Promise<ToxicSpec>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
}

export interface ProxyHubOptions {
  /** Seed of every toxicity and toxic draw; default: a fresh one (see `seed`). */
  seed?: number;
  clock?: Clock;
  /** Per-direction buffering bound of each connection, bytes. */
  budgetBytes?: number;
}

/** The in-process implementation of the Toxiproxy API: a set of named TCP proxies. */
export class ProxyHub implements ToxiproxyApi {
  readonly seed: number;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly budgetBytes: number | undefined;
  private readonly proxyMap = new Map<string, TcpProxy>();
  /** Serialises changes, so concurrent requests never see or leave a half-applied state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyHubOptions = {}) {
    this.seed = options.seed ?? Random.freshSeed();
    this.random = new Random(this.seed);
    this.clock = options.clock ?? realClock;
    this.budgetBytes = options.budgetBytes;
  }

  /** The live proxy object, for stats and direct use. */
  proxy(name: string): TcpProxy {
    const proxy = this.proxyMap.get(name);
    if (proxy === undefined) {
      throw new FaultlineError(codes.notFound, `proxy not found: "${name}"`, { details: { field: 'proxy' } });
    }
    return proxy;
  }

  stats(): Record<string, ProxyStats> {
    const result: Record<string, ProxyStats> = {};
    for (const [name, proxy] of this.proxyMap) result[name] = proxy.stats;
    return result;
  }

  async version(): Promise<string> {
    return toxiproxyApiVersion;
  }

  async proxies(): Promise<Record<string, ProxyState>> {
    const result: Record<string, ProxyState> = {};
    for (const [name, proxy] of this.proxyMap) result[name] = proxy.toJSON();
    return result;
  }

  createProxy(input: ProxyInput): Promise<ProxyState> {
    return this.exclusive(async () => {
      const proxy = this.build(input, 'proxy');
      if (this.proxyMap.has(proxy.name)) {
        throw new FaultlineError(codes.alreadyExists, `proxy already exists: "${proxy.name}"`, {
          details: { field: 'name' },
        });
      }
      await proxy.start();
      this.proxyMap.set(proxy.name, proxy);
      return proxy.toJSON();
    });
  }

  populate(inputs: ProxyInput[]): Promise<ProxyState[]> {
    return this.exclusive(async () => {
      if (!Array.isArray(inputs))
        throw invalid('proxies', `expected an array of proxies, got ${describe(inputs)}`);
      const built = inputs.map((input, i) => this.build(input, `proxies[${i}]`, ` at proxy ${i + 1}`));
      const names = new Set<string>();
      for (const [i, proxy] of built.entries()) {
        if (names.has(proxy.name))
          throw invalid(`proxies[${i}].name`, `duplicate proxy name "${proxy.name}"`);
        names.add(proxy.name);
      }
      // Replaced proxies give up their listeners first, since the new ones often reuse the address.
      const replaced = built.flatMap((proxy) => {
        const old = this.proxyMap.get(proxy.name);
        return old && !sameConfig(old, proxy) ? [old] : [];
      });
      const fresh = built.filter((proxy) => {
        const old = this.proxyMap.get(proxy.name);
        return old === undefined || replaced.includes(old);
      });
      for (const old of replaced) await old.stop();
      const started: TcpProxy[] = [];
      try {
        for (const proxy of fresh) {
          await proxy.start();
          started.push(proxy);
        }
      } catch (error) {
        for (const proxy of started) await proxy.stop();
        for (const old of replaced) await old.start().catch(() => {});
        throw error;
      }
      for (const proxy of fresh) this.proxyMap.set(proxy.name, proxy);
      // An unchanged proxy keeps its connections; toxics given with it become its toxics.
      for (const [i, proxy] of built.entries()) {
        const live = this.proxyMap.get(proxy.name) as TcpProxy;
        if (live !== proxy && (inputs[i] as ProxyInput).toxics !== undefined)
          live.replaceToxics(proxy.toxics);
      }
      return built.map((proxy) => (this.proxyMap.get(proxy.name) as TcpProxy).toJSON());
    });
  }

  async getProxy(name: string): Promise<ProxyState> {
    return this.proxy(name).toJSON();
  }

  updateProxy(name: string, changes: Partial<Omit<ProxyInput, 'name' | 'toxics'>>): Promise<ProxyState> {
    return this.exclusive(async () => {
      const proxy = this.proxy(name);
      // update() reads only listen, upstream and enabled, and validates each.
      await proxy.update(
        requireObject(changes, 'proxy') as { listen?: string; upstream?: string; enabled?: boolean },
      );
      return proxy.toJSON();
    });
  }

  deleteProxy(name: string): Promise<void> {
    return this.exclusive(async () => {
      const proxy = this.proxy(name);
      this.proxyMap.delete(name);
      await proxy.stop();
    });
  }

  async toxics(proxy: string): Promise<ToxicSpec[]> {
    return this.proxy(proxy).toxics;
  }

  addToxic(proxy: string, toxic: ToxicInput): Promise<ToxicSpec> {
    return this.exclusive(async () => this.proxy(proxy).addToxic(toxic));
  }

  async getToxic(proxy: string, toxic: string): Promise<ToxicSpec> {
    return this.proxy(proxy).getToxic(toxic);
  }

  updateToxic(proxy: string, toxic: string, changes: Partial<ToxicInput>): Promise<ToxicSpec> {
    return this.exclusive(async () => this.proxy(proxy).updateToxic(toxic, changes));
  }

  removeToxic(proxy: string, toxic: string): Promise<void> {
    return this.exclusive(async () => this.proxy(proxy).removeToxic(toxic));
  }

  reset(): Promise<void> {
    return this.exclusive(async () => {
      // Enable first, so a failed bind can be undone before any toxic is gone.
      const enabled: TcpProxy[] = [];
      try {
        for (const proxy of this.proxyMap.values()) {
          if (proxy.enabled) continue;
          await proxy.setEnabled(true);
          enabled.push(proxy);
        }
      } catch (error) {
        for (const proxy of enabled) await proxy.setEnabled(false);
        throw error;
      }
      for (const proxy of this.proxyMap.values()) proxy.removeAllToxics();
    });
  }

  /** Stops every proxy and forgets them. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      const proxies = [...this.proxyMap.values()];
      this.proxyMap.clear();
      await Promise.all(proxies.map((proxy) => proxy.stop()));
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Validates a proxy and its toxics without starting it. */
  private build(input: unknown, field: string, where = ''): TcpProxy {
    const body = prefixed(field, () => requireObject(input, field));
    return prefixed(field, () => {
      for (const key of ['name', 'listen', 'upstream'] as const) {
        if (body[key] === undefined || body[key] === '') {
          // Toxiproxy's wording (`missing required field: name at proxy 2`), which its clients match on.
          throw new FaultlineError(codes.invalidArgument, `missing required field: ${key}${where}`, {
            details: { field: key, expected: `a ${key}` },
          });
        }
      }
      const options: ConstructorParameters<typeof TcpProxy>[0] = {
        name: validateProxyName(body.name),
        listen: body.listen as string,
        upstream: body.upstream as string,
        random: this.random,
        clock: this.clock,
      };
      if (body.enabled !== undefined) options.enabled = body.enabled as boolean;
      if (this.budgetBytes !== undefined) options.budgetBytes = this.budgetBytes;
      const proxy = new TcpProxy(options);
      if (body.toxics !== undefined) {
        if (!Array.isArray(body.toxics))
          throw invalid('toxics', `expected an array, got ${describe(body.toxics)}`);
        for (const [i, toxic] of body.toxics.entries()) prefixed(`toxics[${i}]`, () => proxy.addToxic(toxic));
      }
      return proxy;
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => {});
    return result;
  }
}

/** Toxiproxy's rule: a proxy with the same listen and upstream is kept as it is. */
function sameConfig(live: TcpProxy, wanted: TcpProxy): boolean {
  return live.listensAt(wanted.listen) && live.upstream === wanted.upstream;
}

/** Runs `body`, prefixing the field of any validation error with `prefix` (`proxies[1].listen`). */
function prefixed<T>(prefix: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (!(error instanceof FaultlineError) || typeof error.details.field !== 'string') throw error;
    const field = error.details.field;
    if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) throw error;
    const message = error.message.startsWith(`${field}:`) ? `${prefix}.${error.message}` : error.message;
    throw new FaultlineError(error.code, message, {
      cause: error.cause,
      details: { ...error.details, field: `${prefix}.${field}` },
    });
  }
}
