import { invalid } from '../../core/assert.js';
import { type Model, valueKey } from '../model.js';
import { casRegister, casRegisterModel } from './cas-register.js';
import { counter, counterModel } from './counter.js';
import { fifoQueue } from './fifo-queue.js';
import { kv, kvModel } from './kv.js';
import { kvAppend } from './kv-append.js';
import { listAppend } from './list-append.js';
import { mutex } from './mutex.js';
import { register, registerModel } from './register.js';
import { set } from './set.js';

/** The built-in models by name (`faultline check --model <name>`; workers look models up here). */
export const models = {
  register,
  'cas-register': casRegister,
  kv,
  'kv-append': kvAppend,
  'list-append': listAppend,
  set,
  counter,
  'fifo-queue': fifoQueue,
  mutex,
} as const satisfies Readonly<Record<string, Model<unknown>>>;

export type ModelName = keyof typeof models;

export const modelNames: readonly ModelName[] = Object.keys(models) as ModelName[];

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(models, name);
}

/** The built-in model registered under `name`, or undefined. */
export function builtInModel(name: string): Model<unknown> | undefined {
  return isModelName(name) ? (models[name] as Model<unknown>) : undefined;
}

/** Options a model factory takes (`faultline check --initial`). */
export interface ModelOptions {
  /** The initial value, for models that have one (see `ModelFactory.initial`). */
  readonly initial?: unknown;
}

/** How to build a built-in model with options, and what `faultline check` may tell it. */
export interface ModelFactory {
  /** The op names (`f`) the model knows: `--f` maps a history's names onto these. */
  readonly roles: readonly string[];
  /** For models with an initial value: what it may be, and whether `value` is one. */
  readonly initial?: { readonly expected: string; accepts(value: unknown): boolean };
  create(options: ModelOptions): Model<unknown>;
}

const anyValue = { expected: 'any JSON value', accepts: (value: unknown) => value !== undefined };

/**
 * Every built-in model's factory, by name. A new model in `models` needs an entry here too (the
 * `satisfies` below says so): its roles, and `initial` if it takes an initial value.
 */
export const modelFactories = {
  register: {
    roles: ['read', 'write'],
    initial: anyValue,
    create: ({ initial }) => (initial === undefined ? register : registerModel({ initial })),
  },
  'cas-register': {
    roles: ['read', 'write', 'cas'],
    initial: anyValue,
    create: ({ initial }) => (initial === undefined ? casRegister : casRegisterModel({ initial })),
  },
  kv: {
    roles: ['read', 'write', 'cas'],
    initial: anyValue,
    create: ({ initial }) => (initial === undefined ? kv : kvModel({ initial })),
  },
  'kv-append': { roles: ['get', 'put', 'append'], create: () => kvAppend },
  'list-append': { roles: ['append', 'read'], create: () => listAppend },
  set: { roles: ['add', 'read'], create: () => set },
  counter: {
    roles: ['add', 'read'],
    initial: {
      expected: 'a finite number',
      accepts: (value: unknown) => typeof value === 'number' && Number.isFinite(value),
    },
    create: ({ initial }) => (initial === undefined ? counter : counterModel({ initial: initial as number })),
  },
  'fifo-queue': { roles: ['enqueue', 'dequeue'], create: () => fifoQueue },
  mutex: { roles: ['acquire', 'release'], create: () => mutex },
} as const satisfies Readonly<Record<ModelName, ModelFactory>>;

/** What built a model: its registry name and options, so a worker thread can build it again. */
export interface ModelSpec {
  readonly name: ModelName;
  readonly options: ModelOptions;
}

const specs = new WeakMap<Model<unknown>, ModelSpec>();
for (const name of modelNames) specs.set(models[name] as Model<unknown>, { name, options: {} });

/**
 * The built-in model `name` built with `options` (the shared instance when there are none), or
 * undefined for an unknown name. Throws FL_ERR_INVALID_ARGUMENT for an initial value the model cannot
 * hold, or one given to a model without an initial value.
 */
export function createModel(name: string, options: ModelOptions = {}): Model<unknown> | undefined {
  if (!isModelName(name)) return undefined;
  const factory: ModelFactory = modelFactories[name];
  if (options.initial !== undefined) {
    if (factory.initial === undefined) {
      const withInitial = modelNames.filter((n) => (modelFactories[n] as ModelFactory).initial !== undefined);
      throw invalid(
        'initial',
        `the ${name} model has no initial value`,
        `a model of ${withInitial.join(', ')}`,
      );
    }
    if (!factory.initial.accepts(options.initial)) {
      throw invalid(
        'initial',
        `the ${name} model's initial value is ${factory.initial.expected}, got ${valueKey(options.initial)}`,
        factory.initial.expected,
      );
    }
  }
  const model = factory.create(options);
  if (!specs.has(model)) specs.set(model, { name, options });
  return model;
}

/** How a model from `createModel` (or `models`) was built; undefined for any other model. */
export function modelSpecOf(model: Model<unknown>): ModelSpec | undefined {
  return specs.get(model);
}
