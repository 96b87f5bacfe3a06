/**
 * The demo's checks over its recorded history, and the verdict explained for people: which acknowledged
 * writes were lost (key, value, when acknowledged relative to the kill) and whether the history is
 * linearizable in the kv model. The checks are faultline's own; this module only projects the one history
 * onto what each checker reads and words the result.
 */

import { checkLinearizability } from '../check-driver/index.js';
import {
  builtInModel,
  type CheckResult,
  checkAckedWrites,
  combineValidity,
  type Validity,
} from '../checker/index.js';
import { formatDuration } from '../core/duration.js';
import type { Op } from '../history/index.js';

export interface LostWrite {
  readonly key: string;
  readonly value: unknown;
  /** When the write was acknowledged (ns on the history's clock). */
  readonly ackedAtNs: number;
}

export interface DemoVerdict {
  readonly valid: Validity;
  readonly ackedWrites: CheckResult;
  readonly linearizability: CheckResult;
  readonly lost: readonly LostWrite[];
  /** The explanation, one line each. */
  readonly lines: readonly string[];
}

export interface VerdictOptions {
  /** When the service was killed, and when it was back (ns on the history's clock). */
  readonly killedAtNs: number;
  readonly recoveredAtNs: number;
  /** Budget of the linearizability search. */
  readonly timeoutMs: number;
  /** At most this many lost writes are listed one by one (default 10). */
  readonly listLost?: number;
}

/** Checks the history: no acknowledged write lost (acked-writes), and linearizability (kv model). */
export async function judge(history: readonly Op[], options: VerdictOptions): Promise<DemoVerdict> {
  // acked-writes reads items: a write's item is its key (each write has a fresh key; a cas may change the
  // value later, not the key), and the scan returns the keys present.
  const ackedWrites = checkAckedWrites(
    project(history, ['write', 'scan'], (op) =>
      op.f === 'write' ? (op.value as [string, unknown])[0] : op.value,
    ),
    { readF: 'scan', after: options.recoveredAtNs },
  );
  const linearizability = await checkLinearizability(
    project(history, ['write', 'read', 'cas']),
    builtInModel('kv') as NonNullable<ReturnType<typeof builtInModel>>,
    {
      timeoutMs: options.timeoutMs,
    },
  );
  const lost = lostWrites(history, ackedWrites);
  return {
    valid: combineValidity([ackedWrites.valid, linearizability.valid]),
    ackedWrites,
    linearizability,
    lost,
    lines: explain(ackedWrites, linearizability, lost, options),
  };
}

/** The client ops of the given fs, re-indexed (each checker reads a dense history). */
function project(history: readonly Op[], fs: readonly string[], value?: (op: Op) => unknown): Op[] {
  return history
    .filter((op) => op.process !== 'nemesis' && fs.includes(op.f))
    .map((op, index) => ({ ...op, index, ...(value ? { value: value(op) } : {}) }));
}

function lostWrites(history: readonly Op[], result: CheckResult): LostWrite[] {
  const lostKeys = new Set(result.anomalies.filter((a) => a.type === 'lost').map((a) => a.item as string));
  return history
    .filter((op) => op.f === 'write' && op.type === 'ok' && lostKeys.has((op.value as [string, unknown])[0]))
    .map((op) => {
      const [key, value] = op.value as [string, unknown];
      return { key, value, ackedAtNs: op.time };
    });
}

function explain(
  acked: CheckResult,
  linearizability: CheckResult,
  lost: readonly LostWrite[],
  options: VerdictOptions,
): string[] {
  const stats = acked.stats ?? {};
  const ms = (ns: number): string => formatDuration(ns / 1e6);
  const lines: string[] = [];
  if (acked.valid === true) {
    lines.push(
      `acked-writes: valid — all ${stats.acknowledged} acknowledged writes survived the kill` +
        ` (${stats.indeterminate} of unknown outcome, ${stats.recovered} of them present)`,
    );
  } else if (acked.valid === false) {
    lines.push(
      lost.length > 0
        ? `acked-writes: INVALID — ${lost.length} of ${stats.acknowledged} acknowledged writes were lost` +
            ' (acknowledged to a client, missing after the restart):'
        : 'acked-writes: INVALID —',
    );
    const listed = lost.slice(0, options.listLost ?? 10);
    for (const write of listed) {
      const before = options.killedAtNs - write.ackedAtNs;
      lines.push(
        `  ${write.key} = ${JSON.stringify(write.value)}, acknowledged at ${ms(write.ackedAtNs)},` +
          ` ${before >= 0 ? `${ms(before)} before` : `${ms(-before)} after`} the kill`,
      );
    }
    if (lost.length > listed.length) lines.push(`  … and ${lost.length - listed.length} more`);
    const before = lost.map((write) => options.killedAtNs - write.ackedAtNs).filter((ns) => ns >= 0);
    if (before.length > 0) {
      lines.push(
        `  every lost write was acknowledged within ${ms(Math.max(...before))} before the kill` +
          ` (at ${ms(options.killedAtNs)}); writes acknowledged earlier survived`,
      );
    }
    for (const anomaly of acked.anomalies.filter((a) => a.type !== 'lost').slice(0, 5)) {
      lines.push(`  [${anomaly.type}] ${anomaly.message}`);
    }
  } else {
    lines.push(`acked-writes: unknown — ${acked.reason}`);
  }
  const linStats = linearizability.stats ?? {};
  if (linearizability.valid === true) {
    lines.push(
      `linearizability (kv model): valid — ${linStats.ops} operations on ${linStats.partitions} keys, checked in ${ms((linStats.elapsedMs ?? 0) * 1e6)}`,
    );
  } else if (linearizability.valid === false) {
    lines.push(`linearizability (kv model): INVALID — ${linearizability.anomalies[0]?.message ?? ''}`);
  } else {
    lines.push(`linearizability (kv model): unknown — ${linearizability.reason}`);
  }
  return lines;
}
