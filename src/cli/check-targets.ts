/**
 * What `faultline check` checks against — the safety checkers and the linearizability models — with
 * the roles (op names) each knows and the initial value it takes, and the flags that feed them:
 * `--initial` (a model's or counter's initial value) and `--f` (the history's op names mapped onto
 * roles, applied once to the decoded history).
 */
import type { CheckResult } from '../checker/index.js';
import {
  checkAckedWrites,
  checkConvergence,
  checkCounter,
  checkMonotonicReads,
  checkNoDuplicates,
  checkQueue,
  checkSet,
  checkTotalQueue,
  type ModelFactory,
  modelFactories,
  modelNames,
} from '../checker/index.js';
import { messageOf } from '../core/errors.js';
import type { Op } from '../history/index.js';
import { usageError } from './usage.js';

export interface SafetyRunOptions {
  readonly deadlineMs: number | undefined;
  readonly initial: unknown;
  readonly usage: string;
}

interface SafetyChecker {
  /** The op names it knows (its default `…F` options). */
  readonly roles: readonly string[];
  readonly initial?: ModelFactory['initial'] | undefined;
  run(history: Op[], options: SafetyRunOptions): CheckResult;
}

export const safetyCheckers: Readonly<Record<string, SafetyChecker>> = {
  set: { roles: ['add', 'read'], run: (h) => checkSet(h) },
  counter: {
    roles: ['add', 'read'],
    initial: modelFactories.counter.initial, // the counter model's rule: the same counter
    run: (h, { initial }) => checkCounter(h, initial === undefined ? {} : { initial: initial as number }),
  },
  queue: { roles: ['enqueue', 'dequeue', 'drain'], run: (h) => checkQueue(h) },
  'total-queue': { roles: ['enqueue', 'dequeue', 'drain'], run: (h) => checkTotalQueue(h) },
  'acked-writes': { roles: ['write', 'read'], run: (h) => checkAckedWrites(h) },
  duplicates: { roles: ['apply'], run: (h) => checkNoDuplicates(h) },
  'monotonic-reads': { roles: ['read', 'write'], run: (h) => checkMonotonicReads(h) },
  convergence: {
    roles: ['read', 'heal'],
    run: (h, { deadlineMs, usage }) => {
      if (deadlineMs === undefined)
        throw usageError('--checker convergence needs --deadline (e.g. 10s)', usage);
      return checkConvergence(h, { deadlineNs: deadlineMs * 1e6 });
    },
  },
};

export const safetyCheckerNames: readonly string[] = Object.keys(safetyCheckers);

/** The names with an initial value, for messages: `register, cas-register, counter (model); counter (checker)`. */
export function takesInitial(): string {
  const models = modelNames.filter((name) => (modelFactories[name] as ModelFactory).initial !== undefined);
  const checkers = safetyCheckerNames.filter((name) => safetyCheckers[name]?.initial !== undefined);
  return `--model ${models.join(', ')}; --checker ${checkers.join(', ')}`;
}

/**
 * `--initial`'s value: JSON (`0`, `"x"`, `[1,2]`, `null`); anything that is not JSON is taken as a
 * string, so `--initial abc` means `"abc"` (and is refused by a model that holds numbers).
 */
export function parseInitial(text: string, usage: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not a finite number');
    return value;
  } catch (error) {
    // A bare word is a string; what starts like JSON and does not parse is a mistake, not a string.
    if (/^\s*[[{"\d-]/.test(text) || /^(true|false|null)\b/.test(text)) {
      throw usageError(
        `--initial: ${JSON.stringify(text)} is not valid JSON (${messageOf(error)}); a string is a bare word or quoted JSON ('"x"')`,
        usage,
      );
    }
    return text;
  }
}

/**
 * The `--initial` value checked against what `target` holds: refuses, naming the flag and what is
 * valid, a value it cannot hold or a target without an initial value.
 */
export function checkInitial(
  value: unknown,
  target: {
    readonly kind: 'model' | 'checker';
    readonly name: string;
    readonly initial?: ModelFactory['initial'] | undefined;
  },
  usage: string,
): void {
  if (target.initial === undefined) {
    throw usageError(
      `--initial: the ${target.name} ${target.kind} has no initial value; --initial applies to ${takesInitial()}`,
      usage,
    );
  }
  if (!target.initial.accepts(value)) {
    throw usageError(
      `--initial: the ${target.name} ${target.kind}'s initial value is ${target.initial.expected}, got ${JSON.stringify(value)}`,
      usage,
    );
  }
}

/**
 * `--f from=role[,from=role…]` (repeatable) as a map from the history's op name to a role of the
 * target; refuses a malformed pair, a role the target does not know, or one name mapped twice.
 */
export function parseRoleMap(
  flags: readonly string[],
  target: { readonly kind: 'model' | 'checker'; readonly name: string; readonly roles: readonly string[] },
  usage: string,
): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  const valid = target.roles.join(', ');
  for (const pair of flags.flatMap((flag) => flag.split(','))) {
    const match = /^([^=]+)=([^=]+)$/.exec(pair.trim());
    if (match === null) {
      throw usageError(
        `--f: expected from=role (e.g. add=write), got ${JSON.stringify(pair)}; roles of the ${target.name} ${target.kind}: ${valid}`,
        usage,
      );
    }
    const from = (match[1] as string).trim();
    const role = (match[2] as string).trim();
    if (!target.roles.includes(role)) {
      throw usageError(
        `--f ${from}=${role}: ${JSON.stringify(role)} is not a role of the ${target.name} ${target.kind}; valid: ${valid}`,
        usage,
      );
    }
    const earlier = map.get(from);
    if (earlier !== undefined && earlier !== role) {
      throw usageError(`--f: ${JSON.stringify(from)} is mapped to both ${earlier} and ${role}`, usage);
    }
    map.set(from, role);
  }
  return map;
}

/** The history with each op's `f` renamed by `roles` (invocations and completions alike). */
export function renameOps(history: readonly Op[], roles: ReadonlyMap<string, string>, usage: string): Op[] {
  if (roles.size === 0) return [...history];
  const names = new Set(history.map((op) => op.f));
  const unused = [...roles.keys()].filter((name) => !names.has(name));
  if (unused.length > 0) {
    // A mapping that renames nothing is a typo (or the wrong history): say so rather than check unmapped.
    throw usageError(
      `--f ${unused[0]}=${roles.get(unused[0] as string)}: no op in the history is called ${JSON.stringify(unused[0])}; its ops are ${[...names].map((n) => JSON.stringify(n)).join(', ')}`,
      usage,
    );
  }
  return history.map((op) => {
    const role = roles.get(op.f);
    return role === undefined ? op : { ...op, f: role };
  });
}
