import { invalid, requireObject, requireOneOf } from '../core/assert.js';
import { faultFactory, faultKinds } from '../core/fault-registry.js';
import {
  type ParamSpec,
  type ParamSpecs,
  paramsJsonSchema,
  type RefParam,
  validateParams,
} from '../core/params.js';
import { locateError } from '../core/source.js';
import type { SourceDocument } from './document.js';
import { paramsSchemaWithReferences, validateWithReferences } from './fault-references.js';

/**
 * The scenario format, defined once (all but `faults`, which the registry defines): these specs validate a document (every field, unknown keys refused),
 * and `scenarioJsonSchema()` publishes the same definition as JSON Schema. The `faults` section comes from
 * the fault registry: each entry's `params` is checked against its kind's own schema, and a parameter that
 * takes a live object (a proxy, a network, a process) names a target of the matching type.
 */

const text = (description: string, optional = false): ParamSpec => ({
  type: 'string',
  description,
  optional,
});
const names = (description: string): ParamSpec => ({ type: 'list', items: text('a name'), description });
const argv: ParamSpec = {
  type: 'list',
  items: text('an argument'),
  minItems: 1,
  description: 'program and arguments',
};
const address = (description: string, fallback?: string): ParamSpec =>
  fallback === undefined ? text(description) : { type: 'string', default: fallback, description };

/** What a fault parameter of each `ref` kind may name: a target of one of these types. */
const refTargets: Readonly<Record<string, readonly string[]>> = {
  'tcp-proxy': ['tcp-proxy'],
  'udp-proxy': ['udp-proxy'],
  network: ['network'],
  'process-target': ['process'],
  process: ['process'],
};

/** The workloads that speak the workload protocol (docs/scenarios.md), by the name a scenario gives them. */
export const protocolKinds = ['register', 'cas-register', 'kv', 'set', 'counter', 'queue'] as const;
export type ProtocolKind = (typeof protocolKinds)[number];

const probe: ParamSpec = {
  type: 'variant',
  tag: 'type',
  description: 'what the probe checks',
  variants: {
    tcp: { address: text('host:port that must accept a connection') },
    http: {
      url: text('URL to GET'),
      status: {
        type: 'number',
        integer: true,
        min: 100,
        max: 599,
        default: 200,
        description: 'expected status',
      },
    },
    command: {
      argv,
      exitCode: { type: 'number', integer: true, default: 0, description: 'expected exit code' },
    },
    log: { target: text('a process target'), pattern: text('a regular expression a line must match') },
  },
};

const targets: ParamSpec = {
  type: 'record',
  description: 'what the experiment runs and acts on, by name',
  values: {
    type: 'variant',
    tag: 'type',
    description: 'the kind of target',
    variants: {
      process: {
        argv,
        env: { type: 'record', values: text('a value'), optional: true, description: 'extra environment' },
        cwd: text('working directory', true),
        ready: { ...probe, optional: true, description: 'a probe that passes once the process serves' },
        restart: {
          type: 'string',
          oneOf: ['never', 'on-failure', 'always'],
          default: 'never',
          description: 'restart policy when it exits',
        },
      },
      'tcp-proxy': {
        listen: address('host:port to listen on', '127.0.0.1:0'),
        upstream: address('host:port to forward to'),
      },
      'udp-proxy': {
        listen: address('host:port to listen on', '127.0.0.1:0'),
        upstream: address('host:port to forward to'),
      },
      network: {
        protocol: { type: 'string', oneOf: ['tcp', 'udp'], description: 'what the links carry' },
        nodes: {
          type: 'record',
          values: {
            type: 'object',
            fields: { address: address('host:port of the node') },
            description: 'a node',
          },
          description: 'the nodes, by name',
        },
        clients: { ...names('client names'), optional: true },
      },
    },
  },
};

const steadyState: ParamSpec = {
  type: 'list',
  optional: true,
  description: 'probes that say the system is healthy',
  items: {
    type: 'object',
    description: 'a probe and when it runs',
    fields: {
      name: text('names the probe in output and reports'),
      probe,
      when: {
        type: 'string',
        oneOf: ['before', 'after', 'before-and-after', 'continuous', 'during-faults'],
        default: 'before-and-after',
        description: 'when it must pass',
      },
      every: {
        type: 'duration',
        default: '1s',
        description: 'interval for continuous and during-faults probes',
      },
      timeout: { type: 'duration', default: '5s', description: 'how long one check may take' },
    },
  },
};

const workload: ParamSpec = {
  type: 'variant',
  tag: 'type',
  optional: true,
  description: 'client operations recorded as a History',
  variants: Object.fromEntries([
    ...protocolKinds.map((kind) => [
      kind,
      {
        url: text('base URL of the service speaking the workload protocol (docs/scenarios.md)'),
        clients: {
          type: 'number',
          integer: true,
          min: 1,
          max: 1000,
          default: 5,
          description: 'concurrent clients',
        },
        ops: {
          type: 'number',
          integer: true,
          min: 1,
          max: 10_000_000,
          default: 1000,
          description: 'operations in all',
        },
        timeout: {
          type: 'duration',
          default: '1s',
          description: 'a call that takes longer is recorded as info',
        },
      } satisfies ParamSpecs,
    ]),
    [
      'http',
      {
        url: text('URL to request'),
        ratePerSec: {
          type: 'number',
          min: 0.01,
          max: 100_000,
          default: 10,
          description: 'requests per second',
        },
        concurrency: {
          type: 'number',
          integer: true,
          min: 1,
          max: 1000,
          default: 4,
          description: 'in flight at most',
        },
      } satisfies ParamSpecs,
    ],
    ['module', { path: text('a module exporting a client (docs/scenarios.md)') } satisfies ParamSpecs],
  ]),
};

const checks: ParamSpec = {
  type: 'list',
  optional: true,
  description: 'what the run must prove',
  items: {
    type: 'variant',
    tag: 'check',
    description: 'a checker',
    variants: {
      linearizability: {
        model: text('a model name: register, cas-register, kv, set, list-append, counter, fifo-queue, mutex'),
      },
      'acked-writes': {},
      set: {},
      counter: {},
      queue: {},
      'total-queue': {},
      duplicates: {},
      convergence: {
        within: {
          type: 'duration',
          description: 'how long after the last heal the replicas may take to agree',
        },
      },
      'monotonic-reads': {},
      'recovery-slo': { within: { type: 'duration', description: 'time to green after each heal, at most' } },
      'probe-success': {
        probe: text('a steadyState probe name'),
        minPercent: { type: 'number', min: 0, max: 100, description: 'share of passing checks, at least' },
      },
    },
  },
};

const rollbacks: ParamSpec = {
  type: 'list',
  optional: true,
  description: 'actions that always run at the end, after the heals',
  items: { type: 'object', description: 'a command', fields: { argv } },
};

const faultTiming: ParamSpecs = {
  at: { type: 'duration', default: '0s', description: 'when, from the start of the method' },
  for: {
    type: 'duration',
    optional: true,
    description: 'heal after this long (default: at the end of the method)',
  },
  every: { type: 'duration', optional: true, description: 'a tick at this interval: inject again' },
  times: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    description: 'with every: how many ticks at most',
  },
  until: {
    type: 'duration',
    optional: true,
    description: 'with every: no tick at or after this (default: the time limit)',
  },
  probability: {
    type: 'number',
    min: 0,
    max: 1,
    optional: true,
    description: 'with every: the chance that a tick injects (seeded)',
  },
};

export const scenarioSpecs: ParamSpecs = {
  experiment: {
    type: 'object',
    description: 'what this is',
    fields: {
      name: text('the experiment name'),
      description: text('what it tests', true),
      tags: { ...names('labels such as chaos, chaos:network'), optional: true },
      seed: {
        type: 'number',
        integer: true,
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        optional: true,
        description: 'seed of every draw',
      },
      duration: {
        type: 'duration',
        optional: true,
        description:
          'how long the method runs (default: until the workload is done and the schedule has run)',
      },
      timeLimit: {
        type: 'duration',
        default: '10m',
        description: 'the whole run stops (and heals) after this',
      },
    },
  },
  targets: { ...targets, optional: true },
  steadyState,
  workload,
  checks,
  rollbacks,
};

/** How long the schedule may run: the method's duration when given, else the time limit. */
export function methodLimitMs(scenario: Scenario): number {
  return scenario.experiment.duration ?? scenario.experiment.timeLimit;
}

/** A validated scenario: durations in milliseconds, defaults filled, fault params checked by their kind. */
export interface Scenario {
  readonly experiment: {
    readonly name: string;
    readonly description?: string;
    readonly tags?: readonly string[];
    readonly seed?: number;
    readonly duration?: number;
    readonly timeLimit: number;
  };
  readonly targets?: Readonly<Record<string, { readonly type: string } & Readonly<Record<string, unknown>>>>;
  readonly steadyState?: readonly SteadyStateEntry[];
  readonly faults?: readonly ScheduledFault[];
  readonly workload?: { readonly type: string } & Readonly<Record<string, unknown>>;
  readonly checks?: readonly ({ readonly check: string } & Readonly<Record<string, unknown>>)[];
  readonly rollbacks?: readonly { readonly argv: readonly string[] }[];
}

/** A steady-state probe as validated: defaults filled, durations in milliseconds. */
export interface SteadyStateEntry {
  readonly name: string;
  /** The probe spec (`{ type: 'tcp' | 'http' | 'command' | 'log', … }`), references not yet resolved. */
  readonly probe: Readonly<Record<string, unknown>>;
  readonly when: 'before' | 'after' | 'before-and-after' | 'continuous' | 'during-faults';
  readonly every: number;
  readonly timeout: number;
}

/** A fault to inject: its kind, and params checked by the kind's schema (live objects named as targets). */
export interface FaultChoice {
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A schedule entry, times in milliseconds from the start of the method. */
export interface ScheduledFault {
  /** One fault, or (from `oneOf`) the set each tick draws one from. */
  readonly choices: readonly FaultChoice[];
  readonly at: number;
  readonly for?: number;
  readonly every?: number;
  readonly times?: number;
  readonly until?: number;
  readonly probability?: number;
}

/**
 * Validates a read document against the format. A bad field is FL_ERR_CONFIG naming
 * `file:line:column: field: what is wrong; what is valid`. Nothing is started by validating.
 */
export function validateScenario(document: SourceDocument): Scenario {
  try {
    const root = requireObject(document.value, 'scenario');
    // The faults are checked after the rest, against the targets they name; here the key is only known.
    const { faults } = root;
    const scenario = validateParams<Scenario>(
      {
        ...scenarioSpecs,
        faults: {
          type: 'shape',
          optional: true,
          description: 'the fault schedule',
          check: () => undefined,
          schema: {},
        },
      },
      root,
    );
    const checked = faults === undefined ? undefined : validateFaults(faults, scenario.targets ?? {});
    const { duration, timeLimit } = scenario.experiment;
    if (duration !== undefined && duration > timeLimit) {
      throw invalid('experiment.duration', `is longer than timeLimit (${timeLimit} ms)`, 'at most timeLimit');
    }
    const unbounded =
      checked?.findIndex((f) => f.every !== undefined && f.times === undefined && f.until === undefined) ??
      -1;
    if (unbounded >= 0 && duration === undefined) {
      throw invalid(
        `faults[${unbounded}].every`,
        'repeats without times or until, so the method needs experiment.duration to end',
        'times, until, or experiment.duration',
      );
    }
    return { ...scenario, ...(checked === undefined ? {} : { faults: checked }) } as Scenario;
  } catch (error) {
    throw locateError(document, error);
  }
}

function validateFaults(input: unknown, targetsByName: NonNullable<Scenario['targets']>): ScheduledFault[] {
  if (!Array.isArray(input)) throw invalid('faults', 'expected a list of faults', 'a list');
  return input.map((entry, index) => {
    const field = `faults[${index}]`;
    const object = requireObject(entry, field);
    const { kind, params, oneOf, ...timing } = object;
    if ((oneOf === undefined) === (kind === undefined)) {
      throw invalid(
        `${field}.kind`,
        'give either kind (with its params) or oneOf',
        'kind, or oneOf: a list of { kind, params }',
      );
    }
    let choices: FaultChoice[];
    if (oneOf === undefined) choices = [validateChoice({ kind, params }, field, targetsByName)];
    else {
      if (!Array.isArray(oneOf) || oneOf.length < 2) {
        throw invalid(
          `${field}.oneOf`,
          'expected a list of at least two { kind, params }',
          'two or more faults',
        );
      }
      choices = oneOf.map((choice, i) => validateChoice(choice, `${field}.oneOf[${i}]`, targetsByName));
    }
    const when = validateParams<Omit<ScheduledFault, 'choices'>>(faultTiming, timing, field);
    const repeating = when.every !== undefined;
    for (const name of ['times', 'until', 'probability'] as const) {
      if (when[name] !== undefined && !repeating)
        throw invalid(`${field}.${name}`, 'needs every', 'every with it');
    }
    if (when.every !== undefined && when.every <= 0)
      throw invalid(`${field}.every`, 'must be more than 0', 'a positive duration');
    if (when.every !== undefined && when.for !== undefined && when.for >= when.every) {
      // The next tick would inject it again while it is still in force.
      throw invalid(
        `${field}.for`,
        `must be shorter than every (${when.every} ms)`,
        'a duration shorter than every',
      );
    }
    return { choices, ...when };
  });
}

/** One `{ kind, params }`: the kind registered, its params valid, live objects named as targets. */
function validateChoice(
  input: unknown,
  field: string,
  targetsByName: NonNullable<Scenario['targets']>,
): FaultChoice {
  const object = requireObject(input, field);
  for (const key of Object.keys(object)) {
    if (key !== 'kind' && key !== 'params')
      throw invalid(`${field}.${key}`, 'unknown parameter; valid: kind, params', 'kind, params');
  }
  const kind = requireOneOf(
    object.kind,
    `${field}.kind`,
    faultKinds().map((info) => info.kind),
  );
  const ref = (spec: RefParam, value: unknown, at: string): unknown => {
    const allowed = refTargets[spec.ref] ?? [spec.ref];
    const named = typeof value === 'string' ? targetsByName[value] : undefined;
    if (named === undefined || !allowed.includes(named.type)) {
      const valid = Object.entries(targetsByName)
        .filter(([, t]) => allowed.includes(t.type))
        .map(([n]) => n);
      throw invalid(
        at,
        `expected the name of a ${allowed.join(' or ')} target, got ${JSON.stringify(value)}`,
        valid.length > 0 ? `one of ${valid.join(', ')}` : `a ${allowed.join(' or ')} in targets`,
      );
    }
    return value;
  };
  const definition = faultFactory(kind)?.definition;
  const specs = definition?.params ?? {};
  const params = validateWithReferences(specs, object.params ?? {}, (given) =>
    validateParams<Record<string, unknown>>(specs, given, `${field}.params`, { ref }),
  );
  return { kind, params };
}

/** The format as JSON Schema (2020-12), the `faults` entries one per registered kind. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = paramsJsonSchema(scenarioSpecs) as { properties: Record<string, Record<string, unknown>> };
  const timing = (paramsJsonSchema(faultTiming) as { properties: Record<string, unknown> }).properties;
  const choices = faultKinds().map((info) => ({
    type: 'object',
    additionalProperties: false,
    required: ['kind'],
    properties: {
      kind: { const: info.kind, description: info.summary },
      params: paramsSchemaWithReferences(info.schema),
    },
  }));
  const entries = [
    ...choices.map((choice) => ({ ...choice, properties: { ...choice.properties, ...timing } })),
    {
      type: 'object',
      additionalProperties: false,
      required: ['oneOf'],
      properties: { oneOf: { type: 'array', minItems: 2, items: { oneOf: choices } }, ...timing },
    },
  ];
  schema.properties.faults = { type: 'array', description: 'the fault schedule', items: { oneOf: entries } };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://faultline.dev/schema/scenario.json',
    title: 'faultline scenario',
    ...schema,
  };
}
