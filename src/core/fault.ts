import type { Clock } from './clock.js';
import type { Residue } from './journal.js';
import type { Heal, Ledger, LedgerEntry } from './ledger.js';
import type { Random } from './random.js';

/** What a fault may use while it is applied. Time and randomness only from here. */
export interface FaultContext {
  /** Every injection records its heal here, so the run heals it whatever way it ends. */
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly random: Random;
  readonly signal?: AbortSignal;
  /** Progress lines for people ("kill -KILL nats (pid 4242)"). */
  readonly log?: (line: string) => void;
}

/** An applied fault. `heal()` is idempotent; the ledger holds the same heal; `await using` heals it too. */
export type Injection = LedgerEntry;

/** A named kind of fault with validated parameters. */
export interface Fault<P = unknown> {
  readonly kind: string;
  readonly params: P;
  /** Applies the fault and records its heal in `context.ledger` before returning. */
  inject(context: FaultContext): Promise<Injection>;
}

/** A ledger entry with extra read-only facts; `label`, `healed` and `heal` stay the entry's own. */
export function extendInjection<T extends object>(entry: LedgerEntry, extra: T): Injection & T {
  return Object.assign(
    {
      id: entry.id,
      label: entry.label,
      get healed() {
        return entry.healed;
      },
      heal: () => entry.heal(),
      [Symbol.asyncDispose]: () => entry.heal(),
    },
    extra,
  );
}

/**
 * `applyWithHeal` for a synchronous change: records the heal first, then applies; if applying throws the
 * heal starts at once (its undo runs before this returns, when the heal is synchronous) and the error is
 * rethrown.
 */
export function applyWithHealSync(
  context: FaultContext,
  label: string,
  heal: Heal,
  apply: () => void,
  residue?: Residue | readonly Residue[],
): LedgerEntry {
  const entry = context.ledger.push(label, heal, residue);
  try {
    apply();
  } catch (error) {
    void entry.heal().catch(() => {});
    throw error;
  }
  return entry;
}

/** Records the heal first, then applies; if applying fails the heal runs at once, so nothing is left. */
export async function applyWithHeal(
  context: FaultContext,
  label: string,
  heal: Heal,
  apply: () => Promise<void>,
  residue?: Residue | readonly Residue[],
): Promise<LedgerEntry> {
  const entry = context.ledger.push(label, heal, residue);
  try {
    await apply();
  } catch (error) {
    await entry.heal().catch(() => {});
    throw error;
  }
  return entry;
}
