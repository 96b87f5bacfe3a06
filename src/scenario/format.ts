import { dirname, resolve } from 'node:path';
import { modelNames } from '../checker/index.js';
import { invalid, requireObject, requireOneOf } from '../core/assert.js';
import { faultFactory, faultKinds } from '../core/fault-registry.js';
import {
  type ParamSpec,
  type ParamSpecs,
  type ParamsInput,
  type ParamsOf,
  type ParamValue,
  paramsJsonSchema,
  type RefParam,
  validateParams,
} from '../core/params.js';
import { locateError } from '../core/source.js';
import {
  requireExitCodes,
  requireJsonCheck,
  requireRange,
  requireRegex,
  requireStatus,
} from '../process/index.js';
import type { SourceDocument } from './document.js';
import { paramsSchemaWithReferences, validateWithReferences } from './fault-references.js';
import { offeredKeys, type Reference, referencesIn, stringsIn, type TargetType } from './references.js';

/**
 * The scenario format, defined once (all but `faults`, which the registry defines): these specs validate a document (every field, unknown keys refused),
 * and `scenarioJsonSchema()` publishes the same definition as JSON Schema. The `faults` section comes from
 * the fault registry: each entry's `params` is checked against its kind's own schema, and a parameter that
 * takes a live object (a proxy, a network, a process) names a target of the matching type.
 */

/*
 * Each spec is written `as const satisfies ParamSpec`, so its literal types survive: `ParamsOf` and
 * `ParamsInput` derive the `Scenario` types from the same objects that validate a file.
 */
const text = <const Optional extends boolean = false>(description: string, optional?: Optional) =>
  ({ type: 'string', description, optional: (optional ?? false) as Optional }) as const;
const names = (description: string) => ({ type: 'list', items: text('a name'), description }) as const;
const argv = {
  type: 'list',
  items: text('an argument'),
  minItems: 1,
  description: 'program and arguments',
} as const satisfies ParamSpec;
const address = (description: string) => text(description);
const listenAddress = {
  type: 'string',
  default: '127.0.0.1:0',
  description: 'host:port to listen on',
} as const satisfies ParamSpec;

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

/** A shape check that validates a value and keeps it as written (plain data, for the JSON journal and schema). */
const checked =
  <T>(check: (value: unknown, field: string) => unknown) =>
  (value: unknown, field: string): T => {
    check(value, field);
    return value as T;
  };

/** A regular expression as text, compiled while validating so a bad one is refused with its position. */
const regex = <const Optional extends boolean = false>(description: string, optional?: Optional) =>
  ({
    type: 'shape',
    description,
    optional: (optional ?? false) as Optional,
    check: checked<string>(requireRegex),
    schema: { type: 'string', format: 'regex', description },
  }) as const satisfies ParamSpec;

const range = (description: string) =>
  ({
    type: 'shape',
    description,
    optional: true,
    check: (value: unknown, field: string) => requireRange(value, field),
    schema: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, description },
  }) as const satisfies ParamSpec;

const jsonCheck = {
  type: 'shape',
  optional: true,
  description: '{ path = "$.a.b[0]", and one of equals = value, range = [min, max], matches = "regex" }',
  check: checked(requireJsonCheck),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    description: 'a value at a JSON path ($ then .name, ["name"], [index]) that must pass one test',
    properties: {
      path: { type: 'string', pattern: '^\\$', description: 'a JSON path such as $.queue.depth' },
      equals: { description: 'the value it must equal' },
      range: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
      matches: { type: 'string', format: 'regex' },
    },
    oneOf: [{ required: ['equals'] }, { required: ['range'] }, { required: ['matches'] }],
  },
} as const satisfies ParamSpec;

const probe = {
  type: 'variant',
  tag: 'type',
  description: 'what the probe checks',
  variants: {
    tcp: { address: text('host:port that must accept a connection') },
    http: {
      url: text('URL to GET'),
      status: {
        type: 'shape',
        description: 'accepted status: a code (200), a class ("2xx") or a list of them ([200, 204])',
        check: checked(requireStatus),
        schema: {
          description: 'a code (200), a class ("2xx") or a list of them',
          default: '2xx',
          oneOf: [
            { type: 'integer', minimum: 100, maximum: 599 },
            { type: 'string', pattern: '^[1-5]xx$' },
            {
              type: 'array',
              minItems: 1,
              items: {
                oneOf: [
                  { type: 'integer', minimum: 100, maximum: 599 },
                  { type: 'string', pattern: '^[1-5]xx$' },
                ],
              },
            },
          ],
        },
        optional: true,
      },
      body: regex('a regular expression the body must match', true),
      json: jsonCheck,
    },
    command: {
      argv,
      exitCode: {
        type: 'shape',
        description: 'accepted exit code, or a list of them (default 0)',
        check: checked(requireExitCodes),
        schema: {
          description: 'an exit code 0..255 or a list of them',
          default: 0,
          oneOf: [
            { type: 'integer', minimum: 0, maximum: 255 },
            { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0, maximum: 255 } },
          ],
        },
        optional: true,
      },
      stdout: regex('a regular expression stdout must match', true),
      json: jsonCheck,
      range: range('[min, max]: stdout (trimmed) is a number within it'),
    },
    log: { target: text('a process target'), pattern: regex('a regular expression a line must match') },
    module: {
      path: text('an ES module exporting the probe function, relative to the scenario file'),
      export: { type: 'string', default: 'probe', description: 'the name of the exported function' },
    },
  },
} as const satisfies ParamSpec;

/** cgroup limits of a process target; the names and units are the resource fault kinds' own. */
const limits = {
  type: 'object',
  optional: true,
  description: 'cgroup limits the process and its children run under from their start',
  fields: {
    memoryMiB: {
      type: 'number',
      min: 1,
      optional: true,
      description: 'memory limit; past it the kernel OOM-kills',
    },
    percentOfOneCore: {
      type: 'number',
      min: 1,
      optional: true,
      description: 'CPU time cap: 50 = half of one core, 200 = two cores',
    },
    maxTasks: {
      type: 'number',
      integer: true,
      min: 1,
      optional: true,
      description: 'most processes and threads; further forks fail with EAGAIN',
    },
  },
} as const satisfies ParamSpec;

const targets = {
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
        readyTimeout: {
          type: 'duration',
          optional: true,
          description: 'how long the ready probe may take to pass before the start fails (default 10s)',
        },
        restart: {
          type: 'string',
          oneOf: ['never', 'on-failure', 'always'],
          default: 'never',
          description: 'restart policy when it exits',
        },
        limits,
      },
      'tcp-proxy': {
        listen: listenAddress,
        upstream: address('host:port to forward to'),
      },
      'udp-proxy': {
        listen: listenAddress,
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
} as const satisfies ParamSpec;

const steadyState = {
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
} as const satisfies ParamSpec;

/** The fields of every workload that speaks the workload protocol. */
const protocolWorkload = {
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
} as const satisfies ParamSpecs;

const workload = {
  type: 'variant',
  tag: 'type',
  optional: true,
  description: 'client operations recorded as a History',
  variants: {
    ...(Object.fromEntries(protocolKinds.map((kind) => [kind, protocolWorkload])) as Record<
      ProtocolKind,
      typeof protocolWorkload
    >),
    http: {
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
    },
    module: { path: text('a module exporting a client (docs/scenarios.md)') },
  },
} as const satisfies ParamSpec;

const checks = {
  type: 'list',
  optional: true,
  description: 'what the run must prove',
  items: {
    type: 'variant',
    tag: 'check',
    description: 'a checker',
    variants: {
      linearizability: {
        model: { type: 'string', oneOf: modelNames, description: 'the model the history must fit' },
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
        degradedBelowPercent: {
          type: 'number',
          min: 0,
          max: 100,
          optional: true,
          description:
            'below this share (and at least minPercent) the probe is degraded: reported, not failed',
        },
      },
    },
  },
} as const satisfies ParamSpec;

const rollbacks = {
  type: 'list',
  optional: true,
  description: 'actions that always run at the end, after the heals',
  items: { type: 'object', description: 'a command', fields: { argv } },
} as const satisfies ParamSpec;

const faultTiming = {
  name: text('names the entry in output, and for after', true),
  afterOps: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    description:
      'starts once the workload has completed this many ops; at, every, for and until count from then',
  },
  after: text('starts once the entry of this name is healed (its last injection)', true),
  whenGreen: text(
    'starts when this continuous or during-faults probe next passes (after the other conditions)',
    true,
  ),
  at: {
    type: 'duration',
    default: '0s',
    description: 'when, from the start of the method (or of its conditions)',
  },
  for: {
    type: 'duration',
    optional: true,
    description: 'heal after this long (default: at the end of the method)',
  },
  jitter: {
    type: 'duration',
    optional: true,
    description: 'a seeded delay, up to this long, added to each injection (spreads the instant)',
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
} as const satisfies ParamSpecs;

/** Span attributes to match: an object of attribute name → string, number or boolean. */
const spanAttributes = (description: string) =>
  ({
    type: 'shape',
    optional: true,
    description,
    check: checked<Readonly<Record<string, string | number | boolean>>>((value, field) => {
      const object = requireObject(value, field);
      for (const [key, item] of Object.entries(object))
        if (!['string', 'number', 'boolean'].includes(typeof item))
          throw invalid(
            `${field}.${key}`,
            `expected a string, number or boolean, got ${JSON.stringify(item)}`,
            'a string, number or boolean',
          );
    }),
    schema: {
      type: 'object',
      description,
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  }) as const satisfies ParamSpec;

const spanCount = (description: string) =>
  ({ type: 'number', integer: true, min: 0, optional: true, description }) as const satisfies ParamSpec;

/** Span expectations (docs/scenarios.md "Span expectations"), checked by telemetry/expectations.ts. */
const expect = {
  type: 'object',
  optional: true,
  description: 'what spans the run must (or must not) have made',
  fields: {
    faultsHealed: {
      type: 'boolean',
      optional: true,
      description: 'every faultline.fault span ended with faultline.fault.outcome = healed',
    },
    spans: {
      type: 'list',
      optional: true,
      description: 'span expectations, each one check',
      items: {
        type: 'object',
        description: 'spans that must exist (or not), and what they must be',
        fields: {
          name: text('the span name, exactly (name, nameMatches or both)', true),
          nameMatches: regex('a regular expression the span name must match', true),
          parent: text("the name of the span's parent", true),
          attributes: spanAttributes('attributes the span must all have, with these values'),
          anyAttributes: spanAttributes('attributes of which the span must have at least one'),
          status: {
            type: 'string',
            oneOf: ['ok', 'error', 'unset'],
            optional: true,
            description: "the span's status",
          },
          count: spanCount('exactly this many matching spans'),
          minCount: spanCount('at least this many matching spans (default 1)'),
          maxCount: spanCount('at most this many matching spans'),
          minDuration: {
            type: 'duration',
            optional: true,
            description: 'every matching span lasted at least this',
          },
          maxDuration: {
            type: 'duration',
            optional: true,
            description: 'every matching span lasted at most this',
          },
          exists: {
            type: 'boolean',
            default: true,
            description: 'false: no span may match',
          },
          after: text(
            'every matching span starts once every span of this expectation (or span name) has ended',
            true,
          ),
          before: text(
            'every matching span ends before any span of this expectation (or span name) starts',
            true,
          ),
          from: {
            type: 'string',
            oneOf: ['run', 'targets'],
            default: 'run',
            description: "whose spans: the run's own, or its process targets' (received over OTLP)",
          },
        },
      },
    },
  },
} as const satisfies ParamSpec;

export const scenarioSpecs = {
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
  expect,
} as const satisfies ParamSpecs;

/** How long the schedule may run: the method's duration when given, else the time limit. */
export function methodLimitMs(scenario: Scenario): number {
  return scenario.experiment.duration ?? scenario.experiment.timeLimit;
}

/**
 * A validated scenario: durations in milliseconds, defaults filled, fault params checked by their kind.
 * Derived from the specs above, so the type cannot drift from what validation returns.
 */
export type Scenario = ParamsOf<typeof scenarioSpecs> & { readonly faults?: readonly ScheduledFault[] };

/**
 * A scenario as a user writes it, as an object (`runScenarioIn(t, {...})`): defaulted fields may be left
 * out, durations are `"250ms"` or milliseconds. Derived from the same specs.
 */
export type ScenarioInput = ParamsInput<typeof scenarioSpecs> & {
  readonly faults?: readonly FaultEntryInput[];
};

/** A schedule entry as written: one `kind` with its `params`, or `oneOf` them, and its timing. */
export type FaultEntryInput = ParamsInput<typeof faultTiming> &
  (
    | { readonly kind: string; readonly params?: Readonly<Record<string, unknown>> }
    | {
        readonly oneOf: readonly {
          readonly kind: string;
          readonly params?: Readonly<Record<string, unknown>>;
        }[];
      }
  );

/**
 * A steady-state probe as validated: defaults filled, durations in milliseconds; its `probe` keeps its
 * tolerances as written (a `module` path made absolute against the scenario file's folder), references
 * not yet resolved.
 */
export type SteadyStateEntry = ParamValue<(typeof steadyState)['items']>;

/** A target as validated, by its `type`. */
export type TargetSpec = ParamValue<(typeof targets)['values']>;

/** A fault to inject: its kind, and params checked by the kind's schema (live objects named as targets). */
export interface FaultChoice {
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * A schedule entry, times in milliseconds from the start of the method — or, when it has conditions
 * (`afterOps`, `after`, `whenGreen`, all of which must come true, the probe last), from the moment they do.
 * `choices` is the one fault, or (from `oneOf`) the set each tick draws one from.
 */
export type ScheduledFault = ParamsOf<typeof faultTiming> & { readonly choices: readonly FaultChoice[] };

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
    const checked = faults === undefined ? undefined : validateFaults(faults, scenario);
    checkLimits(scenario.targets ?? {});
    checkProbeNames(scenario);
    checkExpectations(scenario);
    checkReferences(root, scenario.targets ?? {});
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
    const waiting = checked?.findIndex((f) => f.whenGreen !== undefined) ?? -1;
    if (waiting >= 0 && duration === undefined) {
      throw invalid(
        `faults[${waiting}].whenGreen`,
        'waits for a probe that may never pass, so the method needs experiment.duration to end',
        'experiment.duration',
      );
    }
    return withModulePaths(
      { ...scenario, ...(checked === undefined ? {} : { faults: checked }) } as Scenario,
      dirname(document.file),
    );
  } catch (error) {
    throw locateError(document, error);
  }
}

/**
 * What names a probe or a process names one that exists: a `probe-success` check names a steadyState probe, a `log` probe a process target (a ready probe: its own,
 * or one declared before it).
 */
function checkProbeNames(scenario: Omit<Scenario, 'faults'>): void {
  const entries = scenario.steadyState ?? [];
  const probeNames = entries.map((entry) => entry.name);
  for (const [index, check] of (scenario.checks ?? []).entries()) {
    if (check.check !== 'probe-success' || probeNames.includes(check.probe)) continue;
    const valid =
      probeNames.length > 0 ? `one of ${probeNames.join(', ')}` : 'the name of a steadyState probe';
    throw invalid(
      `checks[${index}].probe`,
      `no steadyState probe is named "${check.probe}"; valid: ${valid}`,
      valid,
    );
  }
  const targetsByName = Object.entries(scenario.targets ?? {});
  const processes = (before: number): string[] =>
    targetsByName
      .slice(0, before)
      .filter(([, target]) => target.type === 'process')
      .map(([name]) => name);
  const logTarget = (probe: SteadyStateEntry['probe'], field: string, valid: string[]): void => {
    if (probe.type !== 'log' || valid.includes(probe.target)) return;
    const expected = valid.length > 0 ? `one of ${valid.join(', ')}` : 'a process target';
    throw invalid(
      `${field}.target`,
      `no process target "${probe.target}" to read the log of; valid: ${expected}`,
      expected,
    );
  };
  for (const [index, entry] of entries.entries())
    logTarget(entry.probe, `steadyState[${index}].probe`, processes(targetsByName.length));
  for (const [index, [name, target]] of targetsByName.entries())
    if (target.type === 'process' && target.ready !== undefined)
      logTarget(target.ready, `targets.${name}.ready`, [...processes(index), name]);
}

/**
 * Every `${…}` reference in what a run resolves (targets, steadyState, workload, faults, rollbacks, as
 * written) names something that will be there: `run.dir`; `ports.NAME` (any name: reserved for it);
 * `env.NAME` (checked at run time: the environment may differ); `targets.NAME.KEY` of a target declared —
 * in a target, declared before it — whose type offers KEY (`offeredKeys`). The grammar is references.ts's.
 */
function checkReferences(
  root: Readonly<Record<string, unknown>>,
  targetsByName: NonNullable<Scenario['targets']>,
): void {
  const declared = Object.entries(targetsByName).map(([name, target]) => ({
    name,
    type: target.type as TargetType,
  }));
  const check = (value: unknown, field: string, visible: typeof declared, within?: string): void => {
    for (const [at, text] of stringsIn(value, field))
      for (const reference of referencesIn(text))
        checkReference(reference, at, text, visible, declared, within);
  };
  const written = (root.targets ?? {}) as Readonly<Record<string, unknown>>;
  for (const [index, { name }] of declared.entries())
    check(written[name], `targets.${name}`, declared.slice(0, index), name);
  for (const section of ['steadyState', 'workload', 'faults', 'rollbacks'])
    check(root[section], section, declared);
}

function checkReference(
  reference: Reference,
  field: string,
  text: string,
  visible: readonly { name: string; type: TargetType }[],
  declared: readonly { name: string; type: TargetType }[],
  within: string | undefined,
): void {
  const keys = visible.flatMap(({ name, type }) => offeredKeys[type].map((key) => `targets.${name}.${key}`));
  const valid = `\${run.dir}, \${ports.NAME}, \${env.NAME}${keys.map((key) => `, \${${key}}`).join('')}`;
  const refuse = (why: string): Error =>
    invalid(field, `\${${reference.body}}: ${why}; valid: ${valid}`, valid);
  switch (reference.scope) {
    case 'unterminated':
      throw invalid(field, `unterminated reference in ${JSON.stringify(text)}`, 'a closing }');
    case 'unknown':
      throw refuse('unknown reference');
    case 'targets': {
      const { name, key } = reference;
      const target = visible.find((t) => t.name === name);
      if (target === undefined) {
        const later = declared.some((t) => t.name === name);
        throw refuse(
          later && within !== undefined
            ? `target "${name}" is ${name === within ? 'this target' : `declared after "${within}"`}: a target may reference only the targets before it`
            : `no target "${name}" is declared`,
        );
      }
      const offered = offeredKeys[target.type];
      if (!offered.includes(key))
        throw refuse(
          `a ${target.type} target offers ${offered.length > 0 ? offered.join(', ') : 'no value'}, not ${key}`,
        );
      return;
    }
    default:
      return; // run.dir, ports.NAME, env.NAME (its value is the run's environment's)
  }
}

/** What the specs cannot say of a span expectation: a name to match, bounds that agree. */
function checkExpectations(scenario: Omit<Scenario, 'faults'>): void {
  for (const [index, entry] of (scenario.expect?.spans ?? []).entries()) {
    const field = `expect.spans[${index}]`;
    if (entry.name === undefined && entry.nameMatches === undefined)
      throw invalid(`${field}.name`, 'is missing: give name or nameMatches', 'name, or nameMatches');
    const { count, minCount, maxCount, minDuration, maxDuration } = entry;
    if (minCount !== undefined && maxCount !== undefined && minCount > maxCount)
      throw invalid(`${field}.minCount`, `is more than maxCount (${maxCount})`, `at most ${maxCount}`);
    if (count !== undefined && ((minCount ?? 0) > count || (maxCount ?? count) < count))
      throw invalid(
        `${field}.count`,
        `is outside minCount..maxCount`,
        'a count within minCount and maxCount',
      );
    if (minDuration !== undefined && maxDuration !== undefined && minDuration > maxDuration)
      throw invalid(
        `${field}.minDuration`,
        `is longer than maxDuration (${maxDuration} ms)`,
        'at most maxDuration',
      );
    if (!entry.exists) {
      const bounds = [
        'count',
        'minCount',
        'maxCount',
        'minDuration',
        'maxDuration',
        'after',
        'before',
      ] as const;
      const bound = bounds.find((key) => entry[key] !== undefined);
      if (bound !== undefined)
        throw invalid(
          `${field}.${bound}`,
          'bounds spans that must not exist (exists = false)',
          `no ${bound}, or exists = true`,
        );
    }
    for (const key of ['after', 'before'] as const)
      if (entry[key] === '') throw invalid(`${field}.${key}`, 'is empty', 'an expectation or span name');
  }
}

/** `limits = {}` limits nothing: at least one limit is asked for. */
function checkLimits(targetsByName: NonNullable<Scenario['targets']>): void {
  for (const [name, target] of Object.entries(targetsByName)) {
    if (target.type !== 'process' || target.limits === undefined) continue;
    if (Object.values(target.limits).every((value) => value === undefined)) {
      throw invalid(
        `targets.${name}.limits`,
        'gives no limit',
        'one or more of memoryMiB, percentOfOneCore, maxTasks',
      );
    }
  }
}

/**
 * Module paths (a `module` probe's, the `module` workload's) made absolute against the scenario file's
 * folder, so a run finds them wherever it is started from. A path that starts with a `${…}` reference is
 * left to the reference.
 */
function withModulePaths(scenario: Scenario, baseDir: string): Scenario {
  const absolute = (path: string): string => (path.startsWith('${') ? path : resolve(baseDir, path));
  const inProbe = <P extends SteadyStateEntry['probe']>(probe: P): P =>
    probe.type === 'module' ? { ...probe, path: absolute(probe.path) } : probe;
  const targets =
    scenario.targets === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(scenario.targets).map(([name, target]) => [
            name,
            target.type === 'process' && target.ready !== undefined
              ? { ...target, ready: inProbe(target.ready) }
              : target,
          ]),
        );
  const workload = scenario.workload;
  return {
    ...scenario,
    ...(targets === undefined ? {} : { targets }),
    ...(scenario.steadyState === undefined
      ? {}
      : { steadyState: scenario.steadyState.map((entry) => ({ ...entry, probe: inProbe(entry.probe) })) }),
    ...(workload?.type === 'module' ? { workload: { ...workload, path: absolute(workload.path) } } : {}),
  };
}

function validateFaults(input: unknown, scenario: Omit<Scenario, 'faults'>): ScheduledFault[] {
  if (!Array.isArray(input)) throw invalid('faults', 'expected a list of faults', 'a list');
  const targetsByName = scenario.targets ?? {};
  const entries = input.map((entry, index) => {
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
    if (when.every !== undefined && (when.for ?? 0) + (when.jitter ?? 0) >= when.every) {
      // The next tick could inject it again while it is still in force.
      const less = when.jitter !== undefined && when.for !== undefined ? ` less for (${when.for} ms)` : '';
      throw invalid(
        `${field}.${when.jitter === undefined ? 'for' : 'jitter'}`,
        `must be shorter than every (${when.every} ms)${less}`,
        `a duration shorter than every${less}`,
      );
    }
    return { choices, ...when };
  });
  validateConditions(entries, scenario);
  return entries;
}

/**
 * The conditions refer to what exists: `afterOps` to a workload, `whenGreen` to a probe that is checked
 * during the method, `after` to another entry by name, one that heals (`for`), without a cycle.
 */
function validateConditions(entries: readonly ScheduledFault[], scenario: Omit<Scenario, 'faults'>): void {
  const byName = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    if (entry.name === undefined) continue;
    const field = `faults[${index}].name`;
    if (entry.name === '') throw invalid(field, 'is empty', 'a name');
    const other = byName.get(entry.name);
    if (other !== undefined)
      throw invalid(field, `"${entry.name}" already names faults[${other}]`, 'a name of its own');
    byName.set(entry.name, index);
  }
  const during = (scenario.steadyState ?? []).filter(
    (probe) => probe.when === 'continuous' || probe.when === 'during-faults',
  );
  const ops =
    scenario.workload !== undefined && 'ops' in scenario.workload ? scenario.workload.ops : undefined;
  for (const [index, entry] of entries.entries()) {
    const field = `faults[${index}]`;
    if (entry.afterOps !== undefined) {
      if (scenario.workload === undefined)
        throw invalid(
          `${field}.afterOps`,
          'counts the workload’s ops, and there is no workload',
          'a workload',
        );
      if (typeof ops === 'number' && entry.afterOps > ops) {
        throw invalid(
          `${field}.afterOps`,
          `${entry.afterOps} is more than the workload’s ${ops} ops`,
          `at most ${ops}`,
        );
      }
    }
    if (entry.whenGreen !== undefined && !during.some((probe) => probe.name === entry.whenGreen)) {
      const names = during.map((probe) => probe.name);
      const valid =
        names.length > 0 ? `one of ${names.join(', ')}` : 'a steadyState probe with when = "continuous"';
      throw invalid(
        `${field}.whenGreen`,
        `no continuous or during-faults probe is named "${entry.whenGreen}"; valid: ${valid}`,
        valid,
      );
    }
    if (entry.after !== undefined) {
      const target = byName.get(entry.after);
      if (target === undefined) {
        const valid =
          byName.size > 0 ? `one of ${[...byName.keys()].join(', ')}` : 'the name of another entry';
        throw invalid(`${field}.after`, `no fault entry is named "${entry.after}"; valid: ${valid}`, valid);
      }
      if (target === index) throw invalid(`${field}.after`, 'names its own entry', 'another entry');
      if (entries[target]?.for === undefined) {
        throw invalid(
          `${field}.after`,
          `"${entry.after}" has no for, so it heals only at the end of the method; valid: an entry with for`,
          'an entry with for',
        );
      }
    }
  }
  // A chain of `after` that comes back to where it started would wait forever.
  for (const [index] of entries.entries()) {
    const chain = [index];
    for (let at = entries[index]?.after; at !== undefined; ) {
      const next = byName.get(at) as number;
      if (next === index) {
        const path = [...chain, index].map((i) => entries[i]?.name ?? `faults[${i}]`).join(' → ');
        throw invalid(`faults[${index}].after`, `makes a cycle: ${path}`, 'a sequence without cycles');
      }
      if (chain.includes(next)) break; // a cycle further on, reported at its own entry
      chain.push(next);
      at = entries[next]?.after;
    }
  }
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
