import {
  closest,
  describe,
  invalid,
  requireBoolean,
  requireNumber,
  requireObject,
  requireOneOf,
} from './assert.js';
import { parseDuration } from './duration.js';

/**
 * A fault's parameters, described once: the same description validates a call, fills defaults, and is
 * exported as JSON Schema for scenario files and exports. A parameter without `default` and without
 * `optional` is required.
 */
export type ParamSpec =
  | NumberParam
  | StringParam
  | BooleanParam
  | ListParam
  | ObjectParam
  | RefParam
  | ShapeParam
  | DurationParam
  | RecordParam
  | VariantParam;

interface Common {
  readonly description: string;
  readonly optional?: boolean;
}

export interface NumberParam extends Common {
  readonly type: 'number';
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** For people and schemas only: the name already ends in it (`latencyMs`). */
  readonly unit?: string;
  readonly default?: number;
}

export interface StringParam extends Common {
  readonly type: 'string';
  readonly oneOf?: readonly string[];
  readonly default?: string;
}

export interface BooleanParam extends Common {
  readonly type: 'boolean';
  readonly default?: boolean;
}

export interface ListParam extends Common {
  readonly type: 'list';
  readonly items: ParamSpec;
  readonly minItems?: number;
}

export interface ObjectParam extends Common {
  readonly type: 'object';
  readonly fields: ParamSpecs;
}

/**
 * A live object the fault acts on (a proxy, a network, a process). A scenario file names it; in code
 * it is the object itself, recognised by `is`.
 */
export interface RefParam extends Common {
  readonly type: 'ref';
  /** What it refers to, e.g. `tcp-proxy`, `udp-proxy`, `network`, `process`. */
  readonly ref: string;
  readonly is: (value: unknown) => boolean;
}

/** A value with a shape of its own (a preset name or an impairments object), checked by its domain. */
export interface ShapeParam extends Common {
  readonly type: 'shape';
  /** Returns the valid value, or throws FL_ERR_INVALID_ARGUMENT naming `field`. */
  readonly check: (value: unknown, field: string) => unknown;
  /** Its JSON Schema. */
  readonly schema: Record<string, unknown>;
}

/** A duration: `"250ms"`, `"1m30s"`, or a number of milliseconds; validated into milliseconds. */
export interface DurationParam extends Common {
  readonly type: 'duration';
  readonly default?: string;
}

/** An object of named values of one kind (`targets.db`, `targets.cache`). */
export interface RecordParam extends Common {
  readonly type: 'record';
  readonly values: ParamSpec;
}

/** An object whose `tag` field says which set of fields it has (`type = "process"` …). */
export interface VariantParam extends Common {
  readonly type: 'variant';
  readonly tag: string;
  readonly variants: Readonly<Record<string, ParamSpecs>>;
}

/** How a `ref` given in a file (a string naming the object) is resolved while validating. */
export interface ValidateOptions {
  readonly ref?: (spec: RefParam, value: unknown, field: string) => unknown;
}

/** A name in a record: what a `${targets.NAME…}` reference and a field path can hold. */
const namePattern = /^[A-Za-z][A-Za-z0-9_-]*$/;

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/*
 * The types a definition describes, derived from it, so a definition written `as const satisfies ParamSpecs`
 * is the one source of its validator, its JSON Schema and its TypeScript types. `ParamsOf` is what
 * `validateParams` returns (defaults filled, durations in milliseconds); `ParamsInput` is what a user may
 * write (defaulted fields optional, durations as "250ms" or milliseconds).
 */

/** What `validateParams` returns for one parameter. `ref` and `shape` are checked by their own code. */
export type ParamValue<S> = S extends { readonly type: 'number' | 'duration' }
  ? number
  : S extends { readonly type: 'string'; readonly oneOf: readonly (infer O)[] }
    ? O
    : S extends { readonly type: 'string' }
      ? string
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'list'; readonly items: infer I }
          ? readonly ParamValue<I>[]
          : S extends { readonly type: 'object'; readonly fields: infer F }
            ? ParamsOf<F>
            : S extends { readonly type: 'record'; readonly values: infer V }
              ? Readonly<Record<string, ParamValue<V>>>
              : S extends {
                    readonly type: 'variant';
                    readonly tag: infer T extends string;
                    readonly variants: infer V;
                  }
                ? { [K in keyof V]: Readonly<Record<T, K>> & ParamsOf<V[K]> }[keyof V]
                : unknown;

/** What a user may write for one parameter. */
export type ParamInput<S> = S extends { readonly type: 'duration' }
  ? string | number
  : S extends { readonly type: 'list'; readonly items: infer I }
    ? readonly ParamInput<I>[]
    : S extends { readonly type: 'object'; readonly fields: infer F }
      ? ParamsInput<F>
      : S extends { readonly type: 'record'; readonly values: infer V }
        ? Readonly<Record<string, ParamInput<V>>>
        : S extends {
              readonly type: 'variant';
              readonly tag: infer T extends string;
              readonly variants: infer V;
            }
          ? { [K in keyof V]: Readonly<Record<T, K>> & ParamsInput<V[K]> }[keyof V]
          : ParamValue<S>;

type Defaulted<S> = S extends { readonly default: string | number | boolean } ? true : false;
type Optional<S> = S extends { readonly optional: true } ? true : false;
/** Fields always in the validated object: required ones, and optional ones with a default. */
type OutputKeys<Specs> = {
  [K in keyof Specs]: Optional<Specs[K]> extends true ? (Defaulted<Specs[K]> extends true ? K : never) : K;
}[keyof Specs];
/** Fields a user must write: neither optional nor defaulted. */
type InputKeys<Specs> = {
  [K in keyof Specs]: Optional<Specs[K]> extends true ? never : Defaulted<Specs[K]> extends true ? never : K;
}[keyof Specs];
type Flatten<T> = { readonly [K in keyof T]: T[K] };

/** The object `validateParams(specs, …)` returns. */
export type ParamsOf<Specs> = Flatten<
  { readonly [K in OutputKeys<Specs>]: ParamValue<Specs[K]> } & {
    readonly [K in Exclude<keyof Specs, OutputKeys<Specs>>]?: ParamValue<Specs[K]>;
  }
>;

/** The object a user writes for `specs`. */
export type ParamsInput<Specs> = Flatten<
  { readonly [K in InputKeys<Specs>]: ParamInput<Specs[K]> } & {
    readonly [K in Exclude<keyof Specs, InputKeys<Specs>>]?: ParamInput<Specs[K]>;
  }
>;

/**
 * Checks every field of `input` against `specs` before anything is applied: unknown keys, wrong types
 * and out-of-range values throw FL_ERR_INVALID_ARGUMENT naming the field (`prefix.field[2]`) and what
 * is valid. Returns a copy with defaults filled in.
 */
export function validateParams<P>(
  specs: ParamSpecs,
  input: unknown,
  prefix = '',
  options: ValidateOptions = {},
): P {
  const field = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
  const value = requireObject(input ?? {}, prefix === '' ? 'params' : prefix);
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(specs, key)) {
      const valid = Object.keys(specs).join(', ') || 'none';
      const guess = closest(key, Object.keys(specs));
      const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
      throw invalid(field(key), `unknown parameter${hint}; valid: ${valid}`, valid);
    }
  }
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const given = value[key];
    if (given === undefined) {
      // A default is a value as a user would write it ("0s"), so it is validated like one.
      if ('default' in spec && spec.default !== undefined)
        result[key] = validateOne(spec, spec.default, field(key), options);
      else if (!spec.optional) throw invalid(field(key), `is required: ${spec.description}`, expected(spec));
      continue;
    }
    result[key] = validateOne(spec, given, field(key), options);
  }
  return result as P;
}

function validateOne(spec: ParamSpec, value: unknown, field: string, options: ValidateOptions): unknown {
  switch (spec.type) {
    case 'number': {
      const options: { min?: number; max?: number; integer?: boolean } = {};
      if (spec.min !== undefined) options.min = spec.min;
      if (spec.max !== undefined) options.max = spec.max;
      if (spec.integer) options.integer = true;
      return requireNumber(value, field, options);
    }
    case 'string':
      if (spec.oneOf !== undefined) return requireOneOf(value, field, spec.oneOf);
      if (typeof value !== 'string')
        throw invalid(field, `expected a string, got ${describe(value)}`, 'a string');
      return value;
    case 'boolean':
      return requireBoolean(value, field);
    case 'list': {
      if (!Array.isArray(value))
        throw invalid(field, `expected a list, got ${describe(value)}`, expected(spec));
      if (value.length < (spec.minItems ?? 0)) {
        throw invalid(
          field,
          `expected at least ${spec.minItems} item(s), got ${value.length}`,
          expected(spec),
        );
      }
      return value.map((item, index) => validateOne(spec.items, item, `${field}[${index}]`, options));
    }
    case 'object':
      return validateParams(spec.fields, requireObject(value, field), field, options);
    case 'shape':
      return spec.check(value, field);
    case 'duration':
      return parseDuration(value as string | number, field);
    case 'record': {
      const entries = Object.entries(requireObject(value, field));
      return Object.fromEntries(
        entries.map(([name, item]) => {
          if (!namePattern.test(name)) {
            throw invalid(
              `${field}.${name}`,
              'is not a valid name',
              'a letter, then letters, digits, "_" or "-"',
            );
          }
          return [name, validateOne(spec.values, item, `${field}.${name}`, options)];
        }),
      );
    }
    case 'variant': {
      const object = requireObject(value, field);
      const tags = Object.keys(spec.variants);
      const tag = requireOneOf(object[spec.tag], `${field}.${spec.tag}`, tags);
      const fields: ParamSpecs = {
        [spec.tag]: { type: 'string', oneOf: tags, description: spec.description },
        ...(spec.variants[tag] as ParamSpecs),
      };
      return validateParams(fields, object, field, options);
    }
    case 'ref':
      if (options.ref !== undefined && !spec.is(value)) return options.ref(spec, value, field);
      if (!spec.is(value))
        throw invalid(field, `expected a ${spec.ref}, got ${describe(value)}`, `a ${spec.ref}`);
      return value;
  }
}

/** What a valid value looks like, for error messages. */
function expected(spec: ParamSpec): string {
  switch (spec.type) {
    case 'number': {
      const bounds = [
        spec.min === undefined ? '' : `>= ${spec.min}`,
        spec.max === undefined ? '' : `<= ${spec.max}`,
      ].filter(Boolean);
      return `${spec.integer ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    }
    case 'string':
      return spec.oneOf ? `one of ${spec.oneOf.map((v) => JSON.stringify(v)).join(', ')}` : 'a string';
    case 'boolean':
      return 'true or false';
    case 'list':
      return `a list of ${expected(spec.items)}`;
    case 'object':
      return `an object with ${Object.keys(spec.fields).join(', ')}`;
    case 'ref':
      return `a ${spec.ref}`;
    case 'shape':
      return spec.description;
    case 'duration':
      return 'a duration such as "250ms", "5s", "1m30s", or milliseconds';
    case 'record':
      return `an object of named ${expected(spec.values)}`;
    case 'variant':
      return `an object with ${spec.tag}: one of ${Object.keys(spec.variants).join(', ')}`;
  }
}

/** JSON Schema (2020-12) of a parameter set; a ref becomes a string naming the object, marked `x-ref`. */
export function paramsJsonSchema(specs: ParamSpecs): Record<string, unknown> {
  const required = Object.entries(specs)
    .filter(([, spec]) => !spec.optional && !('default' in spec && spec.default !== undefined))
    .map(([key]) => key);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(specs).map(([key, spec]) => [key, jsonSchemaOf(spec)])),
    ...(required.length > 0 ? { required } : {}),
  };
}

function jsonSchemaOf(spec: ParamSpec): Record<string, unknown> {
  const base: Record<string, unknown> = { description: spec.description };
  switch (spec.type) {
    case 'number':
      return {
        ...base,
        type: spec.integer ? 'integer' : 'number',
        ...(spec.min === undefined ? {} : { minimum: spec.min }),
        ...(spec.max === undefined ? {} : { maximum: spec.max }),
        ...(spec.unit === undefined ? {} : { 'x-unit': spec.unit }),
        ...(spec.default === undefined ? {} : { default: spec.default }),
      };
    case 'string':
      return {
        ...base,
        type: 'string',
        ...(spec.oneOf === undefined ? {} : { enum: [...spec.oneOf] }),
        ...(spec.default === undefined ? {} : { default: spec.default }),
      };
    case 'boolean':
      return { ...base, type: 'boolean', ...(spec.default === undefined ? {} : { default: spec.default }) };
    case 'list':
      return {
        ...base,
        type: 'array',
        items: jsonSchemaOf(spec.items),
        ...(spec.minItems === undefined ? {} : { minItems: spec.minItems }),
      };
    case 'object':
      return { ...base, ...paramsJsonSchema(spec.fields) };
    case 'ref':
      return { ...base, type: 'string', 'x-ref': spec.ref };
    case 'shape':
      return { ...base, ...spec.schema };
    case 'duration':
      return {
        ...base,
        oneOf: [
          { type: 'string', pattern: '^((\\d+(\\.\\d+)?|\\.\\d+)(ns|us|µs|ms|s|m|h))+$|^\\d+(\\.\\d+)?$' },
          { type: 'number', minimum: 0 },
        ],
        ...(spec.default === undefined ? {} : { default: spec.default }),
      };
    case 'record':
      return {
        ...base,
        type: 'object',
        propertyNames: { pattern: namePattern.source },
        additionalProperties: jsonSchemaOf(spec.values),
      };
    case 'variant':
      return {
        ...base,
        oneOf: Object.entries(spec.variants).map(([tag, fields]) =>
          paramsJsonSchema({
            [spec.tag]: { type: 'string', oneOf: [tag], description: spec.description },
            ...fields,
          }),
        ),
      };
  }
}
