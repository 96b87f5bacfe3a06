import { invalid } from './assert.js';
import type { Clock } from './clock.js';
import { codes } from './codes.js';
import { FaultlineError } from './errors.js';
import { publish } from './events.js';
import type { Fault, FaultContext, Injection } from './fault.js';
import { type ParamSpecs, paramsJsonSchema, validateParams } from './params.js';

/** A kind of fault: its name, its parameters, and how to apply them. */
export interface FaultDefinition<P extends object, I extends Injection = Injection> {
  /** `domain.name` in kebab-case: `tcp.latency`, `udp.loss`, `net.partition`, `process.kill`. */
  readonly kind: string;
  readonly summary: string;
  readonly params: ParamSpecs;
  /**
   * Rules that span fields (exactly one of `pid` or `pids`), checked when the fault is made, after each
   * field passed its own schema: throw FL_ERR_INVALID_ARGUMENT naming the field. Nothing is applied yet.
   */
  validate?(params: P): void;
  /**
   * Applies validated params. Must record its heal (and residue) in `context.ledger` before it acts —
   * `applyWithHeal` does both — and must check conflicts on its target before changing anything.
   */
  apply(params: P, context: FaultContext): Promise<I>;
}

/** A Fault whose injection is of a richer type (a memory limit's tells its OOM kills). */
export type TypedFault<P, I extends Injection> = Omit<Fault<P>, 'inject'> & {
  inject(context: FaultContext): Promise<I>;
};

/** Builds a validated Fault of one kind; `kind` and `definition` tell which. */
export interface FaultFactory<P extends object, I extends Injection = Injection> {
  (params: P): TypedFault<P, I>;
  readonly kind: string;
  readonly definition: FaultDefinition<P, I>;
}

/** One registry entry, as `faultKinds()` lists it. */
export interface FaultKindInfo {
  readonly kind: string;
  readonly summary: string;
  /** JSON Schema (2020-12) of the parameters; live objects (`x-ref`) are named by string in files. */
  readonly schema: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds every kind's params
const factories = new Map<string, FaultFactory<any, Injection>>();
const kindPattern = /^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$/;

/**
 * Registers a kind of fault and returns its factory. The factory validates every parameter before any
 * fault exists, so a bad call applies nothing; `inject` publishes a `fault.inject` event once applied.
 */
export function defineFault<P extends object, I extends Injection = Injection>(
  definition: FaultDefinition<P, I>,
): FaultFactory<P, I> {
  if (!kindPattern.test(definition.kind)) {
    throw invalid(
      'kind',
      `${JSON.stringify(definition.kind)} is not domain.kebab-name`,
      'e.g. "tcp.latency"',
    );
  }
  if (factories.has(definition.kind)) {
    throw new FaultlineError(codes.alreadyExists, `fault kind "${definition.kind}" is already registered`);
  }
  const factory = Object.assign((input: P) => faultOf(definition, validated(definition, input)), {
    kind: definition.kind,
    definition,
  });
  factories.set(definition.kind, factory);
  return factory;
}

/** The factory of a registered kind, or undefined. */
export function faultFactory(kind: string): FaultFactory<object> | undefined {
  return factories.get(kind);
}

function faultOf<P extends object, I extends Injection>(
  definition: FaultDefinition<P, I>,
  params: P,
): TypedFault<P, I> {
  return {
    kind: definition.kind,
    params,
    async inject(context) {
      const injection = await definition.apply(params, context);
      announce(definition.kind, injection, params, context.clock);
      return injection;
    },
  };
}

/** Publishes the `fault.inject` event of an applied fault. */
export function announce(kind: string, injection: Injection, params: unknown, clock: Clock): void {
  publish({
    type: 'fault.inject',
    id: injection.id,
    kind,
    label: injection.label,
    params,
    atMs: clock.now(),
  });
}

/** Every registered kind with its parameter schema, sorted by name. */
export function faultKinds(): FaultKindInfo[] {
  return [...factories.values()]
    .map((factory) => factory.definition)
    .sort((a, b) => (a.kind < b.kind ? -1 : 1))
    .map((definition) => ({
      kind: definition.kind,
      summary: definition.summary,
      schema: paramsJsonSchema(definition.params),
    }));
}

/** A fault of a kind named at run time (a scenario file, an API call), validated like the factory's. */
export function createFault(kind: string, params: unknown): Fault<object> {
  const factory = factories.get(kind);
  if (factory === undefined) {
    const valid = [...factories.keys()].sort().join(', ');
    throw new FaultlineError(
      codes.invalidArgument,
      `kind: unknown fault kind ${JSON.stringify(kind)}; valid: ${valid}`,
      {
        details: { field: 'kind', expected: valid },
      },
    );
  }
  return factory(params as object);
}

function validated<P extends object>(definition: FaultDefinition<P, Injection>, input: unknown): P {
  const params = validateParams<P>(definition.params, input);
  definition.validate?.(params);
  return params;
}
