import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

/**
 * What the live faults of this process hold, by key (`memory:4242`, `pause:4242`, `nofile:4242`), so a second
 * fault on the same thing is refused with FL_ERR_CONFLICT before it changes anything: two memory limits on one
 * pid, a pause of a paused target. Bounded by the faults in force.
 */
const held = new Map<string, string>();

/** A hold on some keys; `release()` is idempotent. */
export interface Claim {
  release(): void;
}

/**
 * Holds `keys` for `label`, or throws FL_ERR_CONFLICT naming `field` and the fault that holds one of them.
 * `what(key)` says in words what the key is ("pid 4242's memory").
 */
export function claim(
  keys: readonly string[],
  label: string,
  field: string,
  what: (key: string) => string,
): Claim {
  for (const key of keys) {
    const holder = held.get(key);
    if (holder !== undefined)
      throw conflict(field, `${what(key)} is already held by "${holder}"; heal it first`);
  }
  for (const key of keys) held.set(key, label);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      for (const key of keys) if (held.get(key) === label) held.delete(key);
    },
  };
}

/** Runs `heal`, then releases the claim (also when the heal fails: the fault is no longer in force). */
export function releasing(hold: Claim, heal: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await heal();
    } finally {
      hold.release();
    }
  };
}

/** FL_ERR_CONFLICT: a fault clashes with one already in force on the same target. */
export function conflict(field: string, message: string): FaultlineError {
  return new FaultlineError(codes.conflict, `${field}: ${message}`, { details: { field } });
}
