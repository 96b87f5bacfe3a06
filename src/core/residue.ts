/**
 * Residues and the registry of their undos.
 *
 * A heal is a closure and dies with its process, so every fault also journals a **residue**: plain facts
 * `faultline cleanup` needs to undo it after a crash. Each kind is defined beside the code that creates the
 * thing, in two steps:
 *
 *   // 1. its shape, by augmenting ResidueShapes (so `Residue` and `ledger.push` type-check it):
 *   declare module '../core/residue.js' {
 *     interface ResidueShapes { netns: { name: string } }
 *   }
 *   // 2. its validation, description and undo, registered once when the module loads:
 *   registerResidueKind({ kind: 'netns', validate, describe, undo });
 *
 * `faultline cleanup` iterates this registry; a kind it does not know (its module not loaded) is kept in the
 * journal and reported, never dropped. Undo must tolerate a thing that never came to exist or is half made:
 * residues are journalled *before* the fault acts, so a crash may come at any point of the acting.
 */

/** Every residue kind's own fields, by kind. Extended by declaration merging (see above). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the modules owning each kind
export interface ResidueShapes {}

export type ResidueKindName = keyof ResidueShapes & string;

/** One residue of kind `K`; `label` is for people reading the cleanup output. */
export type ResidueOf<K extends ResidueKindName> = { kind: K; label?: string } & ResidueShapes[K];

/** What must be undone after a crash, in a form that survives the process. */
export type Residue = { [K in ResidueKindName]: ResidueOf<K> }[ResidueKindName];

/** What an undo did, as one line for the cleanup output. `done` is false when the residue is still there. */
export interface UndoOutcome {
  readonly done: boolean;
  /** Nothing was left to undo: the thing never came to exist, is already gone, or is no longer ours. */
  readonly gone?: boolean;
  readonly line: string;
}

export interface ResidueKind<K extends ResidueKindName = ResidueKindName> {
  readonly kind: K;
  /**
   * Checks a record read from a journal (which anyone with the user's rights could have edited): returns what
   * is wrong, naming the field and what would be valid, or undefined when the record is usable.
   */
  validate(record: Readonly<Record<string, unknown>>): string | undefined;
  /** A short noun phrase for output: "cgroup /sys/fs/cgroup/memory/faultline-1-2". */
  describe(residue: ResidueOf<K>): string;
  /** Undoes it (or, with `dryRun`, says what it would do). Tolerates a thing that is gone or never was. */
  undo(residue: ResidueOf<K>, options: { readonly dryRun: boolean }): Promise<UndoOutcome> | UndoOutcome;
}

const registry = new Map<string, ResidueKind>();

/** Registers a kind's undo. Registering the same kind twice with different handlers is a programming error. */
export function registerResidueKind<K extends ResidueKindName>(handler: ResidueKind<K>): void {
  const existing = registry.get(handler.kind);
  if (existing !== undefined && existing !== (handler as unknown as ResidueKind)) {
    throw new Error(`residue kind "${handler.kind}" is already registered`);
  }
  registry.set(handler.kind, handler as unknown as ResidueKind);
}

/** The handler of `kind`, or undefined when no loaded module registered it. */
export function residueKind(kind: string): ResidueKind | undefined {
  return registry.get(kind);
}

/** Registered kinds, sorted (for messages). */
export function residueKindNames(): string[] {
  return [...registry.keys()].sort();
}

/** ` (label)` to append to a `describe`, or nothing when the residue has no label. */
export const labelled = (label: string | undefined): string => (label === undefined ? '' : ` (${label})`);

/** The undo outcome of a residue whose pid now belongs to another process. */
export function skippedReused(pid: number): UndoOutcome {
  return { done: true, gone: true, line: `skipped pid ${pid}: start time differs, not ours` };
}

/** Field checks for `validate`: each returns a problem naming the field, or undefined. */
export const residueFields = {
  integer(record: Readonly<Record<string, unknown>>, field: string, min = 0): string | undefined {
    const value = record[field];
    return Number.isInteger(value) && (value as number) >= min
      ? undefined
      : `${field}: expected an integer >= ${min}, got ${JSON.stringify(value)}`;
  },
  string(record: Readonly<Record<string, unknown>>, field: string, optional = false): string | undefined {
    const value = record[field];
    if (optional && value === undefined) return undefined;
    return typeof value === 'string' && value !== ''
      ? undefined
      : `${field}: expected a non-empty string, got ${JSON.stringify(value)}`;
  },
  first(...problems: (string | undefined)[]): string | undefined {
    return problems.find((problem) => problem !== undefined);
  },
};
