import {
  describe,
  invalid,
  requireNumber,
  requireObject,
  requireOneOf,
  requireString,
  requireUrlName,
} from '../core/assert.js';
import type { AttributeSpec, Attributes, ToxicConfig, ToxicKind } from './toxic.js';
import { attributeParam, toxicStreams } from './toxic.js';
import { toxicKind } from './toxic-registry.js';
import { type ToxicVocabulary, typedVocabulary } from './toxic-vocabulary.js';

/** Validates a new toxic and fills the defaults: stream downstream, toxicity 1, the vocabulary's name. */
export function normalizeToxic(input: unknown, vocabulary: ToxicVocabulary = typedVocabulary): ToxicConfig {
  const body = requireObject(input, 'toxic');
  const { kindField, toxicityField } = vocabulary;
  if (body[kindField] === undefined) throw invalid(kindField, 'is required', `a toxic ${kindField}`);
  const kind = toxicKind(requireString(body[kindField], kindField), vocabulary);
  const stream = body.stream === undefined ? 'downstream' : requireOneOf(body.stream, 'stream', toxicStreams);
  if (kind.streams && !kind.streams.includes(stream)) {
    throw invalid(
      'stream',
      `${vocabulary.kindName(kind)} cannot be put on ${stream}`,
      kind.streams.join(' or '),
    );
  }
  const name =
    body.name === undefined || body.name === ''
      ? vocabulary.defaultName(kind, stream)
      : requireUrlName(body.name, 'name');
  const toxicityProbability =
    body[toxicityField] === undefined
      ? 1
      : requireNumber(body[toxicityField], toxicityField, { min: 0, max: 1 });
  const attributes = mergeAttributes(kind, body.attributes, defaultsOf(kind), vocabulary);
  return { name, kind: kind.name, stream, toxicityProbability, attributes };
}

/** Applies a partial update (attributes and toxicity, as Toxiproxy allows) to an existing toxic. */
export function mergeToxicUpdate(
  existing: ToxicConfig,
  input: unknown,
  vocabulary: ToxicVocabulary = typedVocabulary,
): ToxicConfig {
  const body = requireObject(input, 'toxic');
  const { kindField, toxicityField } = vocabulary;
  const kind = toxicKind(existing.kind);
  const kindName = vocabulary.kindName(kind);
  if (body[kindField] !== undefined && body[kindField] !== kindName) {
    throw invalid(
      kindField,
      `cannot change the ${kindField} of toxic "${existing.name}"; remove it and add a new one`,
      kindName,
    );
  }
  if (body.stream !== undefined && body.stream !== existing.stream) {
    throw invalid('stream', `cannot change the stream of toxic "${existing.name}"`, existing.stream);
  }
  if (body.name !== undefined && body.name !== existing.name) {
    throw invalid('name', `cannot rename toxic "${existing.name}"`, existing.name);
  }
  const toxicityProbability =
    body[toxicityField] === undefined
      ? existing.toxicityProbability
      : requireNumber(body[toxicityField], toxicityField, { min: 0, max: 1 });
  const attributes = mergeAttributes(kind, body.attributes, existing.attributes, vocabulary);
  return { ...existing, toxicityProbability, attributes };
}

function defaultsOf(kind: ToxicKind): Attributes {
  const defaults: Attributes = {};
  for (const [key, spec] of Object.entries(kind.attributes)) defaults[key] = spec.default;
  return defaults;
}

/**
 * Fills attribute values from `input` (keyed in `vocabulary`) over `base` (typed). Only the kind's own
 * attributes are accepted: a name such as `constructor`, `toString` or `__proto__` is compared as a string,
 * never looked up on a prototype.
 */
function mergeAttributes(
  kind: ToxicKind,
  input: unknown,
  base: Attributes,
  vocabulary: ToxicVocabulary,
): Attributes {
  const attributes: Attributes = { ...base };
  if (input === undefined || input === null) return attributes;
  const given = requireObject(input, 'attributes');
  const names = Object.keys(kind.attributes);
  for (const [key, value] of Object.entries(given)) {
    const attribute = names.find((name) => vocabulary.attributeName(kind, name) === key);
    if (attribute === undefined) {
      const valid = names.map((name) => vocabulary.attributeName(kind, name)).join(', ') || 'none';
      throw invalid(
        `attributes.${key}`,
        `unknown attribute ${describe(key)} for ${vocabulary.kindName(kind)}; valid: ${valid}`,
        valid,
      );
    }
    const spec = kind.attributes[attribute] as AttributeSpec;
    attributes[attribute] = requireNumber(value, `attributes.${key}`, attributeParam(spec));
  }
  return attributes;
}
