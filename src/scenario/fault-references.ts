import { faultFactory } from '../core/fault-registry.js';
import type { ParamSpec, ParamSpecs } from '../core/params.js';
import { type LiveTargets, resolveReferences } from './references.js';

/**
 * A fault's params may use `${…}` references like any string of a scenario: `dir = "${run.dir}"`, and —
 * for a number known only once a target runs — a whole-string `pid = "${targets.db.pid}"`. Validation
 * sees a valid stand-in for such a number; the run resolves it to the number before the kind checks it.
 */
const wholeReference = /^\$\{[^}]+\}$/;

const isNumberReference = (spec: ParamSpec | undefined, value: unknown): boolean =>
  spec?.type === 'number' && typeof value === 'string' && wholeReference.test(value);

const standIn = (spec: ParamSpec): number =>
  spec.type === 'number' ? Math.min(Math.max(spec.min ?? 1, 1), spec.max ?? Number.MAX_SAFE_INTEGER) : 1;

/**
 * Validates `params` with `validate`, numbers given as whole references standing in as valid numbers;
 * the result keeps the references (resolved by `resolveFaultParams` when the fault is injected).
 */
export function validateWithReferences(
  specs: ParamSpecs,
  params: unknown,
  validate: (params: unknown) => Record<string, unknown>,
): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return validate(params);
  const given = params as Record<string, unknown>;
  const standIns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    const spec = specs[key];
    if (isNumberReference(spec, value)) standIns[key] = standIn(spec as ParamSpec);
    else if (
      spec?.type === 'list' &&
      Array.isArray(value) &&
      value.some((v) => isNumberReference(spec.items, v))
    )
      standIns[key] = value.map((v) => (isNumberReference(spec.items, v) ? standIn(spec.items) : v));
  }
  const valid = validate({ ...given, ...standIns });
  for (const key of Object.keys(standIns)) valid[key] = given[key];
  return valid;
}

/** `params` of `kind` with every `${…}` resolved; a whole reference given for a number becomes a number. */
export function resolveFaultParams(
  kind: string,
  params: Readonly<Record<string, unknown>>,
  live: LiveTargets,
  field: string,
): Record<string, unknown> {
  const specs = faultFactory(kind)?.definition.params ?? {};
  const toNumber = (spec: ParamSpec | undefined, before: unknown, after: unknown): unknown =>
    isNumberReference(spec, before) &&
    typeof after === 'string' &&
    after.trim() !== '' &&
    !Number.isNaN(Number(after))
      ? Number(after)
      : after;
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    // Only plain values are resolved: a live object (a proxy given in code) passes as it is.
    const after = resolveReferences(value, live, `${field}.${key}`);
    const spec = specs[key];
    resolved[key] =
      spec?.type === 'list' && Array.isArray(value) && Array.isArray(after)
        ? after.map((item, i) => toNumber(spec.items, value[i], item))
        : toNumber(spec, value, after);
  }
  return resolved;
}

const referenceSchema = {
  type: 'string',
  pattern: wholeReference.source,
  description: "a reference to a value known at run time, such as a process target's pid",
};

/** A kind's params JSON Schema with each number (and list of numbers) also taking a whole reference. */
export function paramsSchemaWithReferences(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties === undefined) return schema;
  const numeric = (s: Record<string, unknown> | undefined): boolean =>
    s?.type === 'number' || s?.type === 'integer';
  const widen = (s: Record<string, unknown>): Record<string, unknown> =>
    numeric(s) ? { anyOf: [s, referenceSchema] } : s;
  return {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(properties).map(([key, property]) => [
        key,
        property.type === 'array' && numeric(property.items as Record<string, unknown>)
          ? { ...property, items: widen(property.items as Record<string, unknown>) }
          : widen(property),
      ]),
    ),
  };
}
