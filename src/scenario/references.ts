import { invalid } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import { faultFactory } from '../core/fault-registry.js';
import { type RefParam, validateParams } from '../core/params.js';
import type { Network } from '../net/index.js';
import type { Target } from '../process/index.js';
import type { TcpProxy, UdpProxy } from '../proxy/index.js';

/** A started target of a scenario: its type and the live object faults act on. */
export type LiveTarget =
  | { readonly type: 'process'; readonly object: Target }
  | { readonly type: 'tcp-proxy'; readonly object: TcpProxy }
  | { readonly type: 'udp-proxy'; readonly object: UdpProxy }
  | { readonly type: 'network'; readonly object: Network };

export type TargetType = LiveTarget['type'];

/**
 * A run's targets as they come up, in declaration order: typed access by name, the values `${…}` references
 * read, and the live objects a fault's `ref` parameters name.
 */
export class LiveTargets {
  private readonly started = new Map<string, LiveTarget>();
  private readonly declared: readonly string[];

  /** `declared`: every target's name in declaration order, so a reference to a later one says so. */
  /** `ports`: the free ports `${ports.NAME}` stands for, reserved at setup (`portNamesIn`). */
  constructor(
    readonly runDir: string,
    declared: readonly string[] = [],
    readonly ports: ReadonlyMap<string, number> = new Map(),
  ) {
    this.declared = declared;
  }

  /** @internal records a started target. */
  add(name: string, target: LiveTarget): void {
    this.started.set(name, target);
  }

  has(name: string): boolean {
    return this.started.has(name);
  }

  /** The started targets' names, in declaration order. */
  names(): string[] {
    return [...this.started.keys()];
  }

  /** The started target `name` (of `type`, when given); FL_ERR_NOT_FOUND listing what there is. */
  get<T extends TargetType>(name: string, type?: T): Extract<LiveTarget, { type: T }> {
    const live = this.started.get(name);
    if (live === undefined) {
      const known = this.names();
      throw new FaultlineError(
        codes.notFound,
        `no target "${name}"${this.laterNote(name)}; started: ${known.join(', ') || 'none'}`,
        { details: { target: name, expected: known.join(', ') } },
      );
    }
    if (type !== undefined && live.type !== type) {
      throw new FaultlineError(codes.invalidArgument, `target "${name}" is a ${live.type}, not a ${type}`, {
        details: { target: name, expected: type },
      });
    }
    return live as Extract<LiveTarget, { type: T }>;
  }

  /** The live object a fault's `ref` parameter names: a started target the spec accepts. */
  ref(spec: RefParam, value: unknown, field: string): unknown {
    if (spec.is(value)) return value;
    const fits = [...this.started].filter(([, live]) => spec.is(live.object)).map(([name]) => name);
    const expected = fits.length > 0 ? `one of ${fits.join(', ')}` : `a ${spec.ref} target`;
    const live = typeof value === 'string' ? this.started.get(value) : undefined;
    if (live === undefined) {
      const later = typeof value === 'string' ? this.laterNote(value) : '';
      throw invalid(
        field,
        `expected the name of a started ${spec.ref} target${later}, got ${JSON.stringify(value)}`,
        expected,
      );
    }
    if (!spec.is(live.object)) {
      throw invalid(field, `target ${JSON.stringify(value)} is a ${live.type}, not a ${spec.ref}`, expected);
    }
    return live.object;
  }

  /** The value `${targets.NAME.KEY}` stands for, or undefined; the keys each type offers. */
  value(name: string, key: string): string | undefined {
    return this.offers(name)[key];
  }

  /** What `${targets.NAME.…}` may read of a started target. */
  offers(name: string): Record<string, string> {
    const live = this.started.get(name);
    switch (live?.type) {
      case 'process':
        return { pid: String(live.object.pid) };
      case 'tcp-proxy':
      case 'udp-proxy':
        return { port: String(live.object.port), listen: live.object.listen };
      default:
        return {};
    }
  }

  /** Every reference that resolves now. */
  available(): string[] {
    const refs = ['run.dir', 'env.NAME', ...[...this.ports.keys()].map((name) => `ports.${name}`)];
    for (const name of this.started.keys())
      for (const key of Object.keys(this.offers(name))) refs.push(`targets.${name}.${key}`);
    return refs;
  }

  private laterNote(name: string): string {
    return this.declared.includes(name) && !this.started.has(name)
      ? ' (it is declared later or not started: a target may reference only the targets before it)'
      : '';
  }
}

/**
 * Replaces every `${…}` reference in `value` (strings, deep in lists and objects) with what it stands for:
 * `${run.dir}`, `${ports.NAME}`, `${env.VAR}`, `${targets.NAME.port|listen|pid}`. `$${` is a literal `${`. An unknown
 * reference is FL_ERR_INVALID_ARGUMENT naming `field` (`targets.api.argv[2]`) and listing what resolves.
 */
export function resolveReferences(value: unknown, live: LiveTargets, field: string): unknown {
  if (typeof value === 'string') return resolveString(value, live, field);
  if (Array.isArray(value)) return value.map((item, i) => resolveReferences(item, live, `${field}[${i}]`));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveReferences(item, live, `${field}.${key}`)]),
    );
  }
  return value;
}

const portReference = /(\$?)\$\{\s*ports\.([A-Za-z][A-Za-z0-9_-]*)\s*\}/g;

/** The names of the `${ports.NAME}` references anywhere in `value`: the ports to reserve before setup. */
export function portNamesIn(value: unknown): string[] {
  const names = new Set<string>();
  const visit = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const [, dollar, name] of item.matchAll(portReference))
        if (dollar === '') names.add(name as string);
    } else if (typeof item === 'object' && item !== null) Object.values(item).forEach(visit);
  };
  visit(value);
  return [...names];
}

function resolveString(text: string, live: LiveTargets, field: string): string {
  if (!text.includes('${')) return text;
  return text.replace(/(\$?)\$\{([^}]*)(\}?)/g, (whole, dollar: string, body: string, close: string) => {
    if (dollar === '$') return whole.slice(1);
    if (close === '')
      throw invalid(field, `unterminated reference in ${JSON.stringify(text)}`, 'a closing }');
    return lookup(body.trim(), live, field);
  });
}

function lookup(reference: string, live: LiveTargets, field: string): string {
  const unknown = (why: string): FaultlineError =>
    invalid(
      field,
      `\${${reference}}: ${why}; available: ${live.available().join(', ')}`,
      live.available().join(', '),
    );
  if (reference === 'run.dir') return live.runDir;
  const [scope, name, key, ...rest] = reference.split('.');
  if (scope === 'env' && name !== undefined && key === undefined) {
    const set = process.env[name];
    if (set === undefined) throw unknown(`environment variable ${name} is not set`);
    return set;
  }
  if (scope === 'ports' && name !== undefined && key === undefined) {
    const port = live.ports.get(name);
    if (port === undefined) throw unknown(`no port ${name} was reserved`);
    return String(port);
  }
  if (scope === 'targets' && name !== undefined && key !== undefined && rest.length === 0) {
    if (!live.has(name)) {
      try {
        live.get(name);
      } catch (error) {
        throw unknown((error as Error).message);
      }
    }
    const found = live.value(name, key);
    if (found === undefined) throw unknown(`target "${name}" has no ${key}`);
    return found;
  }
  throw unknown('unknown reference');
}

/**
 * `params` of fault `kind` (as validated from a scenario, targets named) with every `ref` parameter —
 * in lists too — replaced by the live object it names, ready for the kind's factory.
 */
export function liveParams(
  kind: string,
  params: Readonly<Record<string, unknown>>,
  live: LiveTargets,
  field = 'params',
): Record<string, unknown> {
  const definition = faultFactory(kind)?.definition;
  if (definition === undefined) throw invalid('kind', `unknown fault kind ${JSON.stringify(kind)}`);
  return validateParams<Record<string, unknown>>(definition.params, params, field, {
    ref: (spec, value, at) => live.ref(spec, value, at),
  });
}
