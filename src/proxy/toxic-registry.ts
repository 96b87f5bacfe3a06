import { invalid } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';
import type { ToxicKind } from './toxic.js';
import { registerToxicFault, toxicFaultParamNames } from './toxic-faults.js';
import { type ToxicVocabulary, typedVocabulary } from './toxic-vocabulary.js';
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
const kebabCase = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const camelCase = /^[a-z][a-zA-Z0-9]*$/;
/** The parameters of every toxic fault (`ToxicFaultParams`), so no attribute may be called so. */
const reserved = new Set(toxicFaultParamNames);

/**
 * Makes a toxic kind available by its name (for user-defined toxics too), and registers its fault kind
 * (`tcp.<name>`) with the kind's attributes as typed parameters.
 */
export function registerToxic(kind: ToxicKind): void {
  if (typeof kind.name !== 'string' || !kebabCase.test(kind.name)) {
    throw invalid('name', 'must be kebab-case', 'e.g. "my-toxic"');
  }
  for (const name of Object.keys(kind.attributes)) {
    if (!camelCase.test(name)) {
      throw invalid(`attributes.${name}`, 'must be camelCase, units last', 'e.g. "delayMs"');
    }
    if (reserved.has(name)) {
      throw invalid(`attributes.${name}`, 'is a parameter every toxic fault has', 'another name');
    }
  }
  if (kinds.has(kind.name)) {
    throw new FaultlineError(codes.alreadyExists, `toxic kind "${kind.name}" is already registered`);
  }
  registerToxicFault(kind);
  kinds.set(kind.name, kind);
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

/** The registered kind called `name` in `vocabulary`; FL_ERR_UNKNOWN_TOXIC listing the valid names if none. */
export function toxicKind(name: string, vocabulary: ToxicVocabulary = typedVocabulary): ToxicKind {
  const kind =
    vocabulary === typedVocabulary
      ? kinds.get(name)
      : [...kinds.values()].find((candidate) => vocabulary.kindName(candidate) === name);
  if (kind === undefined) {
    const field = vocabulary.kindField;
    const list = [...kinds.values()].map((candidate) => vocabulary.kindName(candidate)).join(', ');
    throw new FaultlineError(
      codes.unknownToxic,
      `${field}: unknown toxic ${field} ${JSON.stringify(name)}; valid: ${list}`,
      { details: { field, expected: list } },
    );
  }
  return kind;
}
