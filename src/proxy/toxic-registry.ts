import {
  describe,
  invalid,
  requireNumber,
  requireObject,
  requireOneOf,
  requireString,
  requireUrlName,
} from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import type { Attributes, ToxicKind, ToxicSpec } from './toxic.js';
import { toxicStreams } from './toxic.js';
import { registerToxicFault } from './toxic-faults.js';
import { bandwidth } from './toxics/bandwidth.js';
import { corrupt } from './toxics/corrupt.js';
import { latency } from './toxics/latency.js';
import { limitData } from './toxics/limit-data.js';
import { limitTime } from './toxics/limit-time.js';
import { noop } from './toxics/noop.js';
import { resetPeer } from './toxics/reset-peer.js';
import { slicer } from './toxics/slicer.js';
import { slowClose } from './toxics/slow-close.js';
import { slowOpen } from './toxics/slow-open.js';
import { timeout } from './toxics/timeout.js';

const kinds = new Map<string, ToxicKind>();
const snakeCase = /^[a-z][a-z0-9_]*$/;

/**
 * Makes a toxic kind available by its type name (for user-defined toxics too), and registers its fault
 * kind (`tcp.<type in kebab-case>`) with typed parameters.
 */
export function registerToxic(kind: ToxicKind): void {
  if (!snakeCase.test(kind.type)) throw invalid('type', 'must be snake_case', 'e.g. "my_toxic"');
  for (const name of Object.keys(kind.attributes)) {
    if (!snakeCase.test(name)) throw invalid(`attributes.${name}`, 'must be snake_case', 'e.g. "delay_ms"');
  }
  if (kinds.has(kind.type)) {
    throw new FaultlineError(codes.alreadyExists, `toxic type "${kind.type}" is already registered`);
  }
  registerToxicFault(kind);
  kinds.set(kind.type, kind);
}

for (const kind of [
  latency,
  bandwidth,
  slowClose,
  timeout,
  resetPeer,
  slicer,
  limitData,
  noop,
  slowOpen,
  limitTime,
  corrupt,
]) {
  registerToxic(kind);
}

export function toxicKinds(): ToxicKind[] {
  return [...kinds.values()];
}

export function toxicKind(type: string): ToxicKind {
  const kind = kinds.get(type);
  if (kind === undefined) {
    const list = [...kinds.keys()].join(', ');
    throw new FaultlineError(
      codes.unknownToxic,
      `type: unknown toxic type ${JSON.stringify(type)}; valid: ${list}`,
      {
        details: { field: 'type', expected: list },
      },
    );
  }
  return kind;
}

/** Input for a new toxic, as the Toxiproxy API takes it (unvalidated; hub.ts has the typed one). */
interface ToxicInput {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly stream?: unknown;
  readonly toxicity?: unknown;
  readonly attributes?: unknown;
}

/** Validates a new toxic and fills Toxiproxy's defaults: stream downstream, toxicity 1, name `type_stream`. */
export function normalizeToxic(input: unknown): ToxicSpec {
  const body = requireObject(input, 'toxic') as ToxicInput;
  if (body.type === undefined) throw invalid('type', 'is required', 'a toxic type');
  const kind = toxicKind(requireString(body.type, 'type'));
  const stream = body.stream === undefined ? 'downstream' : requireOneOf(body.stream, 'stream', toxicStreams);
  if (kind.streams && !kind.streams.includes(stream)) {
    throw invalid('stream', `${kind.type} cannot be put on ${stream}`, kind.streams.join(' or '));
  }
  const name =
    body.name === undefined || body.name === ''
      ? `${kind.type}_${stream}`
      : requireUrlName(body.name, 'name');
  const toxicity =
    body.toxicity === undefined ? 1 : requireNumber(body.toxicity, 'toxicity', { min: 0, max: 1 });
  const attributes = normalizeAttributes(kind, body.attributes, defaultsOf(kind));
  return { attributes, name, type: kind.type, stream, toxicity };
}

/** Applies a partial update (attributes and toxicity, as Toxiproxy allows) to an existing toxic. */
export function mergeToxicUpdate(existing: ToxicSpec, input: unknown): ToxicSpec {
  const body = requireObject(input, 'toxic') as ToxicInput;
  const kind = toxicKind(existing.type);
  if (body.type !== undefined && body.type !== existing.type) {
    throw invalid(
      'type',
      `cannot change the type of toxic "${existing.name}"; remove it and add a new one`,
      existing.type,
    );
  }
  if (body.stream !== undefined && body.stream !== existing.stream) {
    throw invalid('stream', `cannot change the stream of toxic "${existing.name}"`, existing.stream);
  }
  if (body.name !== undefined && body.name !== existing.name) {
    throw invalid('name', `cannot rename toxic "${existing.name}"`, existing.name);
  }
  const toxicity =
    body.toxicity === undefined
      ? existing.toxicity
      : requireNumber(body.toxicity, 'toxicity', { min: 0, max: 1 });
  const attributes = normalizeAttributes(kind, body.attributes, existing.attributes);
  return { ...existing, toxicity, attributes };
}

function defaultsOf(kind: ToxicKind): Attributes {
  const defaults: Attributes = {};
  for (const [key, spec] of Object.entries(kind.attributes)) defaults[key] = spec.default;
  return defaults;
}

/**
 * Fills attribute values from `input` over `base`. Only the kind's own attributes are accepted: a name
 * such as `constructor`, `toString` or `__proto__` is looked up as an own key, never found on a prototype
 * (and registered names are snake_case, so none of them is `__proto__`).
 */
function normalizeAttributes(kind: ToxicKind, input: unknown, base: Attributes): Attributes {
  const attributes: Attributes = { ...base };
  if (input === undefined || input === null) return attributes;
  const given = requireObject(input, 'attributes');
  for (const [key, value] of Object.entries(given)) {
    const spec = Object.hasOwn(kind.attributes, key) ? kind.attributes[key] : undefined;
    if (spec === undefined) {
      const valid = Object.keys(kind.attributes).join(', ') || 'none';
      throw invalid(
        `attributes.${key}`,
        `unknown attribute ${describe(key)} for ${kind.type}; valid: ${valid}`,
        valid,
      );
    }
    const options: { min?: number; max?: number; integer?: boolean } = { min: spec.min ?? 0 };
    if (spec.max !== undefined) options.max = spec.max;
    if (spec.integer) options.integer = true;
    attributes[key] = requireNumber(value, `attributes.${key}`, options);
  }
  return attributes;
}
