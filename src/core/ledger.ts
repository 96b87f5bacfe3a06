import { type Clock, realClock } from './clock.js';
import { codes } from './codes.js';
import { FaultlineError, messageOf } from './errors.js';
import { publish } from './events.js';
import { type Journal, journalFor, type Residue } from './journal.js';
import { offTermination, onTermination } from './termination.js';

export type Heal = () => void | Promise<void>;

/** One applied fault's undo. `heal()` is idempotent and removes the entry from its ledger. */
export interface LedgerEntry extends AsyncDisposable {
  /** Unique in this process; events about this entry carry it. */
  readonly id: number;
  readonly label: string;
  readonly healed: boolean;
  heal(): Promise<void>;
}

export interface LedgerOptions {
  /** Drain when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Drain on SIGINT and SIGTERM, then let the signal end the process (default false: a test runner owns
   * the process's signals; the CLI asks for this).
   */
  handleSignals?: boolean;
  /** Times of the `fault.heal` events (default realClock). */
  clock?: Clock;
  /** Told about every heal, for events and progress output. */
  onHeal?: (label: string, error?: unknown) => void;
  /**
   * Where each pushed residue is recorded on disk, so `faultline cleanup` can undo it if this process dies.
   * Default: the process's own journal (`processJournal()`); `false` records nothing.
   */
  journal?: Journal | false;
}

/**
 * The run's stack of heals. Faults push their undo when applied; `drain()` heals the rest in reverse
 * order of application — on normal end, on error, on abort, and on SIGINT/SIGTERM.
 */
export class Ledger {
  private readonly stack: Entry[] = [];
  private readonly onHeal: ((label: string, error?: unknown) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly ownJournal: Journal | false | undefined;
  /** @internal */
  readonly clock: Clock;
  private readonly onAbort = (): void => void this.drain().catch(() => {});
  private draining: Promise<void> | undefined;

  constructor(options: LedgerOptions = {}) {
    this.onHeal = options.onHeal;
    this.signal = options.signal;
    this.ownJournal = options.journal;
    this.clock = options.clock ?? realClock;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.handleSignals ?? false) watchSignals(this);
  }

  get size(): number {
    return this.stack.length;
  }

  /** Where residue is recorded: the one given, none (`false`), or the process's own journal. */
  private get journal(): Journal | undefined {
    return journalFor(this.ownJournal);
  }

  /** Labels of the heals still owed, oldest first. */
  labels(): string[] {
    return this.stack.map((entry) => entry.label);
  }

  /**
   * Records a heal. `residue` says, in a form that survives a crash, what the heal undoes: with a journal it
   * is written down before this returns and forgotten once the heal succeeds.
   */
  push(label: string, heal: Heal, residue?: Residue | readonly Residue[]): LedgerEntry {
    const ids: number[] = [];
    const journal = residue === undefined ? undefined : this.journal;
    if (journal !== undefined && residue !== undefined) {
      try {
        for (const one of 'kind' in residue ? [residue] : residue) ids.push(journal.add(one));
      } catch (error) {
        // Unrecorded, a crash would leave it behind for good: undo it now rather than run without a net.
        for (const id of ids) journal.remove(id);
        void Promise.resolve()
          .then(heal)
          .catch(() => {});
        throw error;
      }
    }
    const entry = new Entry(label, heal, this, ids);
    if (this.signal?.aborted) {
      void entry.heal().catch(() => {});
      throw new FaultlineError(
        codes.aborted,
        `aborted before "${label}" could be recorded; it was healed at once`,
      );
    }
    this.stack.push(entry);
    return entry;
  }

  /** Heals everything still owed, newest first. Every heal runs even if some fail. */
  drain(): Promise<void> {
    this.draining ??= this.drainAll().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Runs `body`, then drains whatever way it ends. */
  async run<T>(body: (ledger: Ledger) => Promise<T> | T): Promise<T> {
    try {
      return await body(this);
    } finally {
      await this.drain();
    }
  }

  /** Drains and stops listening for signals. */
  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.signal?.removeEventListener('abort', this.onAbort);
      unwatchSignals(this);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  forget(entry: Entry): void {
    const index = this.stack.lastIndexOf(entry);
    if (index >= 0) this.stack.splice(index, 1);
  }

  /** @internal */
  report(entry: LedgerEntry, error?: unknown): void {
    const atMs = this.clock.now();
    publish({
      type: 'fault.heal',
      id: entry.id,
      label: entry.label,
      atMs,
      ...(error === undefined ? {} : { error }),
    });
    this.onHeal?.(entry.label, error);
  }

  /** @internal */
  unrecord(ids: readonly number[]): void {
    for (const id of ids) {
      try {
        this.journal?.remove(id);
      } catch {
        // A record that outlives its heal is harmless: cleanup checks every residue before it acts.
      }
    }
  }

  private async drainAll(): Promise<void> {
    const failures: { label: string; error: unknown }[] = [];
    for (let entry = this.stack.at(-1); entry !== undefined; entry = this.stack.at(-1)) {
      try {
        await entry.heal();
      } catch (error) {
        failures.push({ label: entry.label, error });
      }
    }
    if (failures.length > 0) {
      const list = failures.map((f) => `${f.label}: ${messageOf(f.error)}`).join('; ');
      throw new FaultlineError(codes.healFailed, `${failures.length} heal(s) failed: ${list}`, {
        cause: new AggregateError(
          failures.map((f) => f.error),
          'heal failures',
        ),
        details: { failed: failures.map((f) => f.label) },
      });
    }
  }
}

let lastEntryId = 0;

class Entry implements LedgerEntry {
  private done: Promise<void> | undefined;
  readonly id = ++lastEntryId;
  healed = false;

  constructor(
    readonly label: string,
    private readonly undo: Heal,
    private readonly ledger: Ledger,
    private readonly residueIds: readonly number[] = [],
  ) {}

  heal(): Promise<void> {
    this.done ??= (async () => {
      this.ledger.forget(this);
      try {
        await this.undo();
        this.healed = true;
        this.ledger.unrecord(this.residueIds);
        this.ledger.report(this);
      } catch (error) {
        this.ledger.report(this, error);
        throw error;
      }
    })();
    return this.done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.heal();
  }
}

function watchSignals(ledger: Ledger): void {
  onTermination(ledger, () => ledger.close());
}

function unwatchSignals(ledger: Ledger): void {
  offTermination(ledger);
}
