import { describe, invalid, requireObject, requireUrlName } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import type { FaultContext, Injection } from '../core/fault.js';
import { Ledger } from '../core/ledger.js';
import { Random } from '../core/random.js';
import {
  isLoopbackHost,
  normalizeToxic,
  type PreparedUpdate,
  type ProxyStats,
  parseHostPort,
  TcpProxy,
  type ToxicConfig,
  type ToxicStream,
  toxicFaultOf,
} from '../proxy/index.js';
import {
  type ProxyState,
  proxyToWire,
  type ToxicSpec,
  toxicToWire,
  toxiproxyVocabulary,
} from './toxiproxy-toxics.js';

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
  stream?: ToxicStream;
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
  /**
   * Lets proxies listen beyond loopback (anything but 127.0.0.0/8, ::1 and `localhost`, such as
   * `0.0.0.0` or a LAN address) and on privileged ports (1–1023). Default false: such a `listen` is
   * refused with FL_ERR_INVALID_ARGUMENT naming the field. (`faultline server --allow-remote-listen`.)
   */
  allowRemoteListen?: boolean;
}

/**
 * The in-process implementation of the Toxiproxy API: a set of named TCP proxies. It takes and returns
 * toxics in Toxiproxy's names and units (`toxiproxy-toxics.ts` maps them), and adds each as the typed
 * toxic fault (`tcp.latency` …) injected into the hub's own Ledger, so `reset`, `deleteProxy` and `close`
 * heal them the one way every fault is healed.
 */
export class ProxyHub implements ToxiproxyApi {
  readonly seed: number;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly budgetBytes: number | undefined;
  private readonly allowRemoteListen: boolean;
  private readonly proxyMap = new Map<string, TcpProxy>();
  private readonly ledger: Ledger;
  private readonly context: FaultContext;
  /** The injection behind each toxic, per proxy and toxic name. */
  private readonly injections = new Map<TcpProxy, Map<string, Injection>>();
  /** Serialises changes, so concurrent requests never see or leave a half-applied state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyHubOptions = {}) {
    this.random = Random.from(options, '');
    this.seed = this.random.seed;
    this.clock = options.clock ?? realClock;
    this.budgetBytes = options.budgetBytes;
    this.allowRemoteListen = options.allowRemoteListen ?? false;
    this.ledger = new Ledger({ clock: this.clock });
    this.context = { ledger: this.ledger, clock: this.clock, random: this.random };
  }

  /** The live proxy object, for stats and direct use. */
  proxy(name: string): TcpProxy {
    const proxy = this.proxyMap.get(name);
    if (proxy === undefined) {
      throw new FaultlineError(codes.notFound, `proxy not found: "${name}"`, { details: { field: 'proxy' } });
    }
    return proxy;
  }

  /** Each proxy's counters, keyed by name (a null-prototype object: any name is an own key). */
  stats(): Record<string, ProxyStats> {
    const result = nullPrototype<ProxyStats>();
    for (const [name, proxy] of this.proxyMap) result[name] = proxy.stats;
    return result;
  }

  async version(): Promise<string> {
    return toxiproxyApiVersion;
  }

  /** Every proxy keyed by name, in a null-prototype object: a proxy named `__proto__` is an own key too. */
  async proxies(): Promise<Record<string, ProxyState>> {
    const result = nullPrototype<ProxyState>();
    for (const [name, proxy] of this.proxyMap) result[name] = proxyToWire(proxy.toJSON());
    return result;
  }

  createProxy(input: ProxyInput): Promise<ProxyState> {
    return this.exclusive(async () => {
      const { proxy, toxics } = this.build(input, undefined);
      if (this.proxyMap.has(proxy.name)) {
        throw new FaultlineError(codes.alreadyExists, `proxy already exists: "${proxy.name}"`, {
          details: { field: 'name' },
        });
      }
      await proxy.start();
      this.proxyMap.set(proxy.name, proxy);
      await this.injectAll(proxy, toxics);
      return proxyToWire(proxy.toJSON());
    });
  }

  populate(inputs: ProxyInput[]): Promise<ProxyState[]> {
    return this.exclusive(async () => {
      if (!Array.isArray(inputs))
        throw invalid('proxies', `expected an array of proxies, got ${describe(inputs)}`);
      const specs = inputs.map((input, i) => this.build(input, `proxies[${i}]`, ` at proxy ${i + 1}`));
      const built = specs.map((spec) => spec.proxy);
      const names = new Set<string>();
      for (const [i, proxy] of built.entries()) {
        if (names.has(proxy.name))
          throw invalid(`proxies[${i}].name`, `duplicate proxy name "${proxy.name}"`);
        names.add(proxy.name);
      }
      // Toxiproxy's rule: an entry with the same listen and upstream as a live proxy keeps that proxy.
      const plan = built.map((proxy, i) => {
        const old = this.proxyMap.get(proxy.name);
        return { proxy, old, keep: old !== undefined && sameConfig(old, proxy), field: `proxies[${i}]` };
      });
      const fresh = plan.filter((entry) => !entry.keep);
      const replaced = fresh.flatMap((entry) => (entry.old ? [entry.old] : []));
      // A new proxy wanting the exact address of a listener it replaces takes that socket over at the
      // swap: no bind that could fail, no moment without a listener.
      const donors = new Map<TcpProxy, TcpProxy>();
      const available = new Set(replaced.filter((old) => old.listening));
      for (const { proxy } of fresh) {
        if (!proxy.enabled || proxy.port === 0) continue;
        const donor = [...available].find((old) => old.listensAt(proxy.listen));
        if (donor === undefined) continue;
        donors.set(proxy, donor);
        available.delete(donor);
      }
      // Everything that can fail happens before anything live changes: binds of the new listeners.
      const started: TcpProxy[] = [];
      try {
        for (const { proxy, field } of fresh) {
          if (donors.has(proxy)) continue;
          await prefixedAsync(field, () => proxy.start());
          started.push(proxy);
        }
      } catch (error) {
        await Promise.all(started.map((proxy) => proxy.stop()));
        throw error;
      }
      // The swap, which cannot fail.
      for (const [proxy, donor] of donors) proxy.adoptListener(donor);
      for (const { proxy } of fresh) this.proxyMap.set(proxy.name, proxy);
      for (const old of replaced) await this.healAll(old);
      // An unchanged proxy keeps its connections; toxics given with it become its toxics.
      for (const [i, { proxy, old, keep }] of plan.entries()) {
        const toxics = (specs[i] as { toxics: ToxicConfig[] }).toxics;
        if (!keep) await this.injectAll(proxy, toxics);
        else if (old !== undefined && (inputs[i] as ProxyInput).toxics !== undefined) {
          await this.healAll(old);
          await this.injectAll(old, toxics);
        }
      }
      await Promise.all(replaced.map((old) => old.stop()));
      return built.map((proxy) => proxyToWire((this.proxyMap.get(proxy.name) as TcpProxy).toJSON()));
    });
  }

  async getProxy(name: string): Promise<ProxyState> {
    return proxyToWire(this.proxy(name).toJSON());
  }

  updateProxy(name: string, changes: Partial<Omit<ProxyInput, 'name' | 'toxics'>>): Promise<ProxyState> {
    return this.exclusive(async () => {
      const proxy = this.proxy(name);
      const body = requireObject(changes, 'proxy');
      if (body.listen !== undefined) this.checkListen(body.listen, 'listen');
      // update() reads only listen, upstream and enabled, validates each and binds before it changes
      // anything, so a refusal or a failed bind leaves the proxy as it was.
      await proxy.update(body as { listen?: string; upstream?: string; enabled?: boolean });
      return proxyToWire(proxy.toJSON());
    });
  }

  deleteProxy(name: string): Promise<void> {
    return this.exclusive(async () => {
      const proxy = this.proxy(name);
      this.proxyMap.delete(name);
      await this.healAll(proxy);
      await proxy.stop();
    });
  }

  async toxics(proxy: string): Promise<ToxicSpec[]> {
    return this.proxy(proxy).toxics.map(toxicToWire);
  }

  addToxic(proxy: string, toxic: ToxicInput): Promise<ToxicSpec> {
    return this.exclusive(async () => {
      const target = this.proxy(proxy);
      const spec = normalizeToxic(toxic, toxiproxyVocabulary);
      if (target.hasToxic(spec.name)) {
        throw new FaultlineError(
          codes.alreadyExists,
          `toxic already exists: "${spec.name}" on proxy "${proxy}"`,
          {
            details: { field: 'name' },
          },
        );
      }
      await this.injectAll(target, [spec]);
      return toxicToWire(target.getToxic(spec.name));
    });
  }

  async getToxic(proxy: string, toxic: string): Promise<ToxicSpec> {
    return toxicToWire(this.proxy(proxy).getToxic(toxic));
  }

  updateToxic(proxy: string, toxic: string, changes: Partial<ToxicInput>): Promise<ToxicSpec> {
    return this.exclusive(async () =>
      toxicToWire(this.proxy(proxy).updateToxic(toxic, changes, toxiproxyVocabulary)),
    );
  }

  removeToxic(proxy: string, toxic: string): Promise<void> {
    return this.exclusive(async () => {
      const target = this.proxy(proxy);
      const injection = this.injections.get(target)?.get(toxic);
      if (injection === undefined) return target.removeToxic(toxic);
      this.injections.get(target)?.delete(toxic);
      await injection.heal();
    });
  }

  reset(): Promise<void> {
    return this.exclusive(async () => {
      // Bind every disabled proxy's listener first; a failure releases them and changes nothing.
      const prepared: PreparedUpdate[] = [];
      try {
        for (const proxy of this.proxyMap.values()) {
          if (!proxy.enabled) prepared.push(await proxy.prepareUpdate({ enabled: true }));
        }
      } catch (error) {
        await Promise.all(prepared.map((change) => change.abort()));
        throw error;
      }
      await Promise.all(prepared.map((change) => change.commit()));
      for (const proxy of this.proxyMap.values()) await this.healAll(proxy);
    });
  }

  /** Stops every proxy and forgets them. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      const proxies = [...this.proxyMap.values()];
      this.proxyMap.clear();
      this.injections.clear();
      try {
        await this.ledger.close();
      } finally {
        await Promise.all(proxies.map((proxy) => proxy.stop()));
      }
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Injects validated toxics, in order, as faults in the hub's ledger. */
  private async injectAll(proxy: TcpProxy, toxics: readonly ToxicConfig[]): Promise<void> {
    const byName = this.injections.get(proxy) ?? new Map<string, Injection>();
    this.injections.set(proxy, byName);
    for (const spec of toxics) {
      const injection = await toxicFaultOf(proxy, spec).inject(this.context);
      byName.set(spec.name, injection);
    }
  }

  /** Heals every toxic of a proxy, newest first. */
  private async healAll(proxy: TcpProxy): Promise<void> {
    const byName = this.injections.get(proxy);
    this.injections.delete(proxy);
    for (const injection of [...(byName?.values() ?? [])].reverse()) await injection.heal();
  }

  /**
   * Validates a proxy and its toxics without starting it. `field` is where the entry sits in a larger
   * body (`proxies[1]`, prefixed to every field named in an error); undefined for a body of its own.
   */
  private build(
    input: unknown,
    field: string | undefined,
    where = '',
  ): { proxy: TcpProxy; toxics: ToxicConfig[] } {
    const body = requireObject(input, field ?? 'body');
    const within = <T>(step: () => T): T => (field === undefined ? step() : prefixed(field, step));
    return within(() => {
      for (const key of ['name', 'listen', 'upstream'] as const) {
        if (body[key] === undefined || body[key] === '') {
          // Toxiproxy's wording (`missing required field: name at proxy 2`), which its clients match on.
          throw new FaultlineError(codes.invalidArgument, `missing required field: ${key}${where}`, {
            details: { field: key, expected: `a ${key}` },
          });
        }
      }
      this.checkListen(body.listen, 'listen');
      const options: ConstructorParameters<typeof TcpProxy>[0] = {
        name: requireUrlName(body.name, 'name'),
        listen: body.listen as string,
        upstream: body.upstream as string,
        random: this.random,
        clock: this.clock,
      };
      if (body.enabled !== undefined) options.enabled = body.enabled as boolean;
      if (this.budgetBytes !== undefined) options.budgetBytes = this.budgetBytes;
      const proxy = new TcpProxy(options);
      const toxics: ToxicConfig[] = [];
      if (body.toxics !== undefined) {
        if (!Array.isArray(body.toxics))
          throw invalid('toxics', `expected an array, got ${describe(body.toxics)}`);
        for (const [i, toxic] of body.toxics.entries()) {
          const spec = prefixed(`toxics[${i}]`, () => normalizeToxic(toxic, toxiproxyVocabulary));
          if (toxics.some((earlier) => earlier.name === spec.name)) {
            throw new FaultlineError(
              codes.alreadyExists,
              `toxic already exists: "${spec.name}" on proxy "${proxy.name}"`,
              { details: { field: `toxics[${i}].name` } },
            );
          }
          toxics.push(spec);
        }
      }
      return { proxy, toxics };
    });
  }

  /**
   * Refuses a listen address beyond loopback, or on a privileged port, unless `allowRemoteListen`:
   * anything that can reach the API must not be able to open a port to the network through it.
   */
  private checkListen(listen: unknown, field: string): void {
    if (this.allowRemoteListen) return;
    const { host, port } = parseHostPort(listen, field);
    const flag = 'unless the server runs with --allow-remote-listen (option allowRemoteListen)';
    if (!isLoopbackHost(host)) {
      throw invalid(
        field,
        `${JSON.stringify(listen)} is not a loopback address; proxies listen on 127.0.0.0/8, [::1] or localhost ${flag}`,
        'a loopback address such as "127.0.0.1:0" or "localhost:6380"',
      );
    }
    if (port !== 0 && port < 1024) {
      throw invalid(
        field,
        `port ${port} is privileged (below 1024); use a port from 1024 to 65535, or 0 for a free one, ${flag}`,
        'a port from 1024 to 65535, or 0',
      );
    }
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

/** A record with no prototype, so every user-given key (`__proto__`, `constructor`) is an own key. */
function nullPrototype<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `prefixed` for an async step (a bind). */
async function prefixedAsync<T>(prefix: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw withFieldPrefix(prefix, error);
  }
}

/** Runs `body`, prefixing the field of any validation error with `prefix` (`proxies[1].listen`). */
function prefixed<T>(prefix: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw withFieldPrefix(prefix, error);
  }
}

/** `error` with its field (and the field named at the start of its message) under `prefix`. */
function withFieldPrefix(prefix: string, error: unknown): unknown {
  if (!(error instanceof FaultlineError) || typeof error.details.field !== 'string') return error;
  const field = error.details.field;
  if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) return error;
  const message = error.message.startsWith(`${field}:`) ? `${prefix}.${error.message}` : error.message;
  return new FaultlineError(error.code, message, {
    cause: error.cause,
    details: { ...error.details, field: `${prefix}.${field}` },
  });
}
