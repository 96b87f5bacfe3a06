import type { ToxicKind, ToxicStream } from './toxic.js';

/**
 * The names a toxic's input is given in: faultline's typed ones (`typedVocabulary`), or another
 * (api/ gives Toxiproxy's). Validation reads the input and names fields in errors in this vocabulary, and
 * always returns a typed `ToxicConfig`.
 */
export interface ToxicVocabulary {
  /** The field that names the kind (`kind`; Toxiproxy: `type`). */
  readonly kindField: string;
  /** The field of the toxicity probability (`toxicityProbability`; Toxiproxy: `toxicity`). */
  readonly toxicityField: string;
  /** The name a kind goes by. Distinct kinds must get distinct names. */
  kindName(kind: ToxicKind): string;
  /** The name the kind's attribute `attribute` (a typed name) goes by. */
  attributeName(kind: ToxicKind, attribute: string): string;
  /** The name of a toxic given none. */
  defaultName(kind: ToxicKind, stream: ToxicStream): string;
}

/** faultline's own names: `{ name, kind: 'slow-close', stream, toxicityProbability, attributes: { delayMs } }`. */
export const typedVocabulary: ToxicVocabulary = {
  kindField: 'kind',
  toxicityField: 'toxicityProbability',
  kindName: (kind) => kind.name,
  attributeName: (_kind, attribute) => attribute,
  defaultName: (kind, stream) => `${kind.name}-${stream}`,
};
