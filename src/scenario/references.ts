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

/** What `${targets.NAME.KEY}` may read, by the target's type: the keys validation accepts, the values a run has. */
export const offeredKeys: Readonly<Record<TargetType, readonly string[]>> = {
  process: ['pid'],
  'tcp-proxy': ['port', 'listen'],
  'udp-proxy': ['port', 'listen'],
  network: [],
};

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

  /** What `${targets.NAME.…}` may read of a started target (the keys of `offeredKeys`). */
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

/** A `${…}` reference as written: what it names, parsed; `body` as between the braces, trimmed. */
export type Reference =
  | { readonly scope: 'run.dir'; readonly body: string }
  | { readonly scope: 'env' | 'ports'; readonly body: string; readonly name: string }
  | { readonly scope: 'targets'; readonly body: string; readonly name: string; readonly key: string }
  | { readonly scope: 'unknown'; readonly body: string }
  /** `${` without its `}`. */
  | { readonly scope: 'unterminated'; readonly body: string };

/** The references a string makes, in order (`$${` is a literal `${`, not one): the one grammar of `${…}`. */
export function referencesIn(text: string): Reference[] {
  return [...text.matchAll(referencePattern)].flatMap(([, dollar, body, close]) =>
    dollar === '$'
      ? []
      : [close === '' ? { scope: 'unterminated' as const, body: body as string } : parse(body as string)],
  );
}

const referencePattern = /(\$?)\$\{([^}]*)(\}?)/g;

function parse(written: string): Reference {
  const body = written.trim();
  if (body === 'run.dir') return { scope: 'run.dir', body };
  const [scope, name, key, ...rest] = body.split('.');
  const named = name !== undefined && name !== '';
  if ((scope === 'env' || scope === 'ports') && named && key === undefined) return { scope, body, name };
  if (scope === 'targets' && named && key !== undefined && key !== '' && rest.length === 0)
    return { scope, body, name, key };
  return { scope: 'unknown', body };
}

/** Every string deep in `value` (lists, plain objects) with its field path from `field`. */
export function stringsIn(value: unknown, field: string): [field: string, text: string][] {
  if (typeof value === 'string') return [[field, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${field}[${i}]`));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)
    return Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${field}.${key}`));
  return [];
}

/** The names of the `${ports.NAME}` references anywhere in `value`: the ports to reserve before setup. */
export function portNamesIn(value: unknown): string[] {
  const names = new Set<string>();
  for (const [, text] of stringsIn(value, ''))
    for (const reference of referencesIn(text)) if (reference.scope === 'ports') names.add(reference.name);
  return [...names];
}

function resolveString(text: string, live: LiveTargets, field: string): string {
  if (!text.includes('${')) return text;
  return text.replace(referencePattern, (whole, dollar: string, body: string, close: string) => {
    if (dollar === '$') return whole.slice(1);
    if (close === '')
      throw invalid(field, `unterminated reference in ${JSON.stringify(text)}`, 'a closing }');
    return lookup(parse(body), live, field);
  });
}

function lookup(reference: Reference, live: LiveTargets, field: string): string {
  const unknown = (why: string): FaultlineError =>
    invalid(
      field,
      `\${${reference.body}}: ${why}; available: ${live.available().join(', ')}`,
      live.available().join(', '),
    );
  switch (reference.scope) {
    case 'run.dir':
      return live.runDir;
    case 'env': {
      const set = process.env[reference.name];
      if (set === undefined) throw unknown(`environment variable ${reference.name} is not set`);
      return set;
    }
    case 'ports': {
      const port = live.ports.get(reference.name);
      if (port === undefined) throw unknown(`no port ${reference.name} was reserved`);
      return String(port);
    }
    case 'targets': {
      const { name, key } = reference;
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
    default:
      throw unknown('unknown reference');
  }
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
