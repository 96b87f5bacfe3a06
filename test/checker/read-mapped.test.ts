import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import {
  checkLinearizabilitySync,
  type LinearizabilityCounterexample,
} from '../../src/checker/linearizability.js';
import { models } from '../../src/checker/models/index.js';
import { registerModel } from '../../src/checker/models/register.js';
import { checkReadMapped } from '../../src/checker/read-mapped.js';
import type { CheckResult } from '../../src/checker/result.js';
import { Random } from '../../src/core/random.js';
import type { Op } from '../../src/history/op.js';
import { pairOperations } from '../../src/history/op.js';
import { renderLinearizabilityHtml } from '../../src/report/index.js';
import { type SimSpec, simulate } from '../support/checker-simulate.js';
import { call, history, info, ok } from './linearizability-helpers.js';

function message(result: CheckResult): string {
  return result.anomalies[0]?.message ?? '';
}

function counterexampleOf(result: CheckResult): LinearizabilityCounterexample {
  return result.counterexample as LinearizabilityCounterexample;
}

describe('distinct-values algorithm: violations and their explanations', () => {
  it('a read of a value nobody wrote', () => {
    const ops = history([call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', 5)]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(result.stats?.partitionsReadMapped, 1);
    assert.match(
      message(result),
      /^not linearizable: read → 5 by process 1 \(op 2\) returned 5, which no operation wrote \(and the initial value is null\)$/,
    );
    const counterexample = counterexampleOf(result);
    assert.equal(counterexample.blocking, 1);
    assert.deepEqual(counterexample.unplaced, [{ op: 1, fits: false }]);
    assert.deepEqual(counterexample.linearized, []);
    // The counterexample carries the why too, for the HTML timeline's summary.
    assert.equal(`not linearizable: ${counterexample.why}`, message(result));
  });

  it('a read that returned before its write was called', () => {
    const ops = history([call(1, 'read'), ok(1, 'read', 7), call(0, 'write', 7), ok(0, 'write', 7)]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(
      message(result),
      'not linearizable: read → 7 by process 1 (op 0) returned 7 before write 7 by process 0 (op 2), the only write of 7, was called',
    );
  });

  it('a stale read after a later write completed: the write lies inside the span of the value read', () => {
    const ops = history([
      call(0, 'write', 1),
      ok(0, 'write', 1),
      call(0, 'write', 2),
      ok(0, 'write', 2),
      call(1, 'read'),
      ok(1, 'read', 1),
    ]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(
      message(result),
      'not linearizable: 1 must hold from before write 1 by process 0 (op 0) returned until after read → 1 by process 1 (op 4) was called (it read 1); ' +
        'yet write 2 by process 0 (op 2) must have taken effect between its call and its return, inside that span: ' +
        '2 would replace 1 while 1 must still hold, and each value is written once',
    );
    const counterexample = counterexampleOf(result);
    // The read first, then the writes it conflicts with; the read is the one that cannot take effect.
    assert.deepEqual(
      counterexample.unplaced.map(({ op }) => op),
      [2],
    );
    assert.equal(counterexample.blocking, 2);
    assert.deepEqual(counterexample.linearized, [
      { op: 0, stateAfter: '1' },
      { op: 1, stateAfter: '2' },
    ]);
    assert.equal(counterexample.stateAtFailure, '2');
    // The evidence: the read, then the writes it conflicts with.
    assert.deepEqual(
      result.anomalies[0]?.ops?.map((op) => op.index),
      [4, 5, 0, 1, 2, 3],
    );
    // Every consumer of the counterexample works unchanged: the HTML timeline renders it.
    assert.match(renderLinearizabilityHtml(counterexample), /read → 1/);
  });

  it('two values that must both hold at once (overlapping forward zones)', () => {
    const ops = history([
      call(0, 'write', 1),
      ok(0, 'write', 1),
      call(0, 'write', 2),
      ok(0, 'write', 2),
      call(1, 'read'),
      ok(1, 'read', 2),
      call(2, 'read'),
      ok(2, 'read', 1),
    ]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(
      message(result),
      'not linearizable: 1 must hold from before write 1 by process 0 (op 0) returned until after read → 1 by process 2 (op 6) was called (it read 1); ' +
        '2 must hold from before write 2 by process 0 (op 2) returned until after read → 2 by process 1 (op 4) was called (it read 2); ' +
        'the second span begins before the first ends, but the register holds one value at a time and each value is written once',
    );
    assert.equal(counterexampleOf(result).blocking, 3);
  });

  it('a value written and read entirely while another must hold (a backward zone inside a forward one)', () => {
    const ops = history([
      call(0, 'write', 1),
      ok(0, 'write', 1),
      call(1, 'write', 2),
      call(2, 'read'),
      ok(2, 'read', 2),
      ok(1, 'write', 2),
      call(3, 'read'),
      ok(3, 'read', 1),
    ]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(
      message(result),
      'not linearizable: 1 must hold from before write 1 by process 0 (op 0) returned until after read → 1 by process 3 (op 6) was called (it read 1); ' +
        'yet 2, written by write 2 by process 1 (op 2), must have been in place at some instant between the call of read → 2 by process 2 (op 3) ' +
        'and the return of that read → 2, inside that span: 2 would replace 1 while 1 must still hold, and each value is written once',
    );
    const counterexample = counterexampleOf(result);
    assert.equal(counterexample.blocking, 3);
    assert.equal(counterexample.unplaced[0]?.op, 3, 'the read first');
  });

  it('says when the initial state matters: a read of the initial value after a write completed', () => {
    const ops = history([call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', null)]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false);
    assert.equal(
      message(result),
      'not linearizable: the initial value null must hold from the start until after read by process 1 (op 2) was called (it read null); ' +
        'yet write 1 by process 0 (op 0) must have taken effect between its call and its return, inside that span: ' +
        '1 would replace null while null must still hold, and each value is written once',
    );
  });

  it('an info write that was read may take effect late; one nobody read may never take effect', () => {
    const ops = history([
      call(0, 'write', 1),
      call(2, 'write', 3),
      info(2, 'write', 3),
      call(1, 'read'),
      ok(1, 'read', null),
      call(1, 'read'),
      ok(1, 'read', 1),
      info(0, 'write', 1),
    ]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, true);
    assert.equal(result.decidedBy, 'the distinct-values algorithm (1 partition)');
  });
});

describe('distinct-values algorithm: when it does not apply', () => {
  it('repeated values fall back to the search, and say why', () => {
    const ops = history([
      call(0, 'write', 3),
      ok(0, 'write', 3),
      call(0, 'write', 4),
      ok(0, 'write', 4),
      call(0, 'write', 3),
      ok(0, 'write', 3),
      call(1, 'read'),
      ok(1, 'read', 3),
    ]);
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, true);
    assert.equal(result.stats?.partitionsSearched, 1);
    assert.equal(
      result.decidedBy,
      'the search (1 partition by definite-first; values repeat: 3 is written by write 3 by process 0 (op 0) and by write 3 by process 0 (op 4))',
    );
    const operations = pairOperations(ops);
    const verdict = checkReadMapped(operations, models.register);
    assert.deepEqual(verdict, {
      status: 'not-applicable',
      fallback: { reason: 'repeated-value', value: '3', first: 0, second: 2 },
    });
  });

  it('a write of the initial value that a read returned is a repetition; one nobody read is not', () => {
    const initialRead = history([
      call(0, 'write', null),
      ok(0, 'write', null),
      call(1, 'read'),
      ok(1, 'read', null),
    ]);
    const result = checkLinearizabilitySync(initialRead, models.register);
    assert.equal(result.valid, true);
    assert.match(
      result.decidedBy ?? '',
      /the search \(1 partition by definite-first; values repeat: write by process 0 \(op 0\) writes the initial value null, and a read returned it\)/,
    );
    const unread = history([
      call(0, 'write', null),
      ok(0, 'write', null),
      call(0, 'write', 2),
      ok(0, 'write', 2),
    ]);
    assert.equal(checkLinearizabilitySync(unread, models.register).stats?.partitionsReadMapped, 1);
  });

  it('a cas falls back to the search; kv decides each key by itself', () => {
    const ops = history([
      call(0, 'write', ['a', 1]),
      ok(0, 'write', ['a', 1]),
      call(0, 'cas', ['a', [1, 2]]),
      ok(0, 'cas', ['a', [1, 2]]),
      call(1, 'write', ['b', 1]),
      ok(1, 'write', ['b', 1]),
      call(1, 'read', ['b', null]),
      ok(1, 'read', ['b', 1]),
      call(2, 'read', ['c', null]),
      ok(2, 'read', ['c', null]),
    ]);
    const result = checkLinearizabilitySync(ops, models.kv);
    assert.equal(result.valid, true);
    assert.equal(result.stats?.partitionsReadMapped, 2);
    assert.equal(result.stats?.partitionsSearched, 1);
    assert.equal(
      result.decidedBy,
      'the distinct-values algorithm (2 partitions), the search (1 partition by definite-first; in partition "a", cas "a" 1→2 by process 0 (op 2) is not a plain read or write)',
    );
    // Unpartitioned, the keys are several registers: searched whole.
    const whole = checkLinearizabilitySync(ops, models.kv, { partition: false });
    assert.equal(whole.valid, true);
    assert.match(whole.decidedBy ?? '', /several keys checked as one partition/);
  });

  it('readMapped: false measures the search alone', () => {
    const ops = history([call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', 1)]);
    const result = checkLinearizabilitySync(ops, models.register, { readMapped: false });
    assert.equal(result.stats?.partitionsSearched, 1);
    assert.equal(result.decidedBy, 'the search (1 partition by definite-first)');
  });

  it('a model with another initial value: its reads map to it', () => {
    const ops = history([call(1, 'read'), ok(1, 'read', 0), call(0, 'write', 1), ok(0, 'write', 1)]);
    const result = checkLinearizabilitySync(ops, registerModel({ initial: 0 }));
    assert.equal(result.valid, true);
    assert.equal(result.stats?.partitionsReadMapped, 1);
  });
});

describe("the search's message", () => {
  it('names each op once and says when the initial value was read', () => {
    const ops = history([call(0, 'write', 1), ok(0, 'write', 1), call(1, 'read'), ok(1, 'read', null)]);
    const result = checkLinearizabilitySync(ops, models.register, { readMapped: false });
    assert.equal(
      message(result),
      'not linearizable: the longest linearizable prefix has 1 of 2 ops, through write 1 by process 0 (op 0), leaving the register in state 1; ' +
        'read by process 1 (op 2), which returned the initial value null (so before any other value was written), must have taken effect before it returned, and cannot',
    );
    const first = history([call(1, 'read'), ok(1, 'read', 3)]);
    assert.equal(
      message(checkLinearizabilitySync(first, models.register, { readMapped: false })),
      'not linearizable: no op can take effect first, with the register in its initial state null; read → 3 by process 1 (op 0) must have taken effect before it returned, and cannot',
    );
  });
});

/** A register whose writes write 1, 2, 3…: what chaos workloads generate. */
const distinctRegister: SimSpec<unknown> = {
  init: null,
  invoke: (draw, serial) =>
    draw.chance(0.5) ? { f: 'read', value: null } : { f: 'write', value: serial + 1 },
  apply: (state, f, value) =>
    f === 'read' ? { state, type: 'ok', value: state } : { state: value, type: 'ok', value },
};

describe('distinct-values algorithm: speed and threads', () => {
  it('decides a 25,000-op register history with 30 pending info writes in well under a second', () => {
    const ops = simulate(distinctRegister, new Random(13, 'speed'), {
      processes: 5,
      ops: 25_000,
      infoProbability: 0.005,
      leaveOpen: 3,
    });
    const paired = pairOperations(ops);
    const infoWrites = paired.filter((op) => op.type === 'info' && op.f === 'write').length;
    assert.ok(infoWrites >= 30, `${infoWrites} info writes`);
    assert.equal(paired.length, 25_000);
    let started = performance.now();
    const valid = checkLinearizabilitySync(ops, models.register);
    const validMs = performance.now() - started;
    assert.equal(valid.valid, true, valid.reason);
    assert.equal(valid.stats?.partitionsReadMapped, 1);
    // Falsified: a late read returns the value of a write long overwritten.
    const late = ops.findLastIndex((op) => op.type === 'ok' && op.f === 'read');
    const stale = ops.find((op) => op.type === 'ok' && op.f === 'write')?.value;
    const falsified = ops.map((op, i) => (i === late ? { ...op, value: stale } : op));
    started = performance.now();
    const invalid = checkLinearizabilitySync(falsified, models.register);
    const invalidMs = performance.now() - started;
    assert.equal(invalid.valid, false);
    assert.match(message(invalid), /must hold from before/);
    // Generous: about 100 ms each on a shared 2-core machine.
    assert.ok(validMs < 1500 && invalidMs < 1500, `valid ${validMs} ms, falsified ${invalidMs} ms`);
  });

  it('a worker thread reports what the main thread does', async () => {
    const kv: SimSpec<ReadonlyMap<number, unknown>> = {
      init: new Map(),
      invoke: (draw, serial) => {
        const key = draw.int(4);
        return draw.chance(0.5) ? { f: 'read', value: [key, null] } : { f: 'write', value: [key, serial] };
      },
      apply(state, f, value) {
        const [key, v] = value as [number, unknown];
        if (f === 'read') return { state, type: 'ok', value: [key, state.get(key) ?? null] };
        return { state: new Map(state).set(key, v), type: 'ok', value };
      },
    };
    const ops: Op[] = simulate(kv, new Random(5, 'threads'), {
      processes: 8,
      ops: 4000,
      infoProbability: 0.02,
    });
    const late = ops.findLastIndex((op) => op.type === 'ok' && op.f === 'read');
    const corrupted = ops.map((op, i) =>
      i === late ? { ...op, value: [(op.value as unknown[])[0], -1] } : op,
    );
    const pure = checkLinearizabilitySync(corrupted, models.kv);
    const parallel = await checkLinearizability(corrupted, models.kv, { parallel: true });
    assert.equal(pure.valid, false);
    assert.equal(parallel.stats?.workers, 1);
    assert.deepEqual(parallel.counterexample, pure.counterexample);
    assert.deepEqual(parallel.anomalies[0]?.message, pure.anomalies[0]?.message);
    // decidedBy, like stats, counts the partitions checked: a worker may have checked more.
    assert.match(parallel.decidedBy ?? '', /^the distinct-values algorithm \(\d+ partitions?\)$/);
  });
});

describe('distinct-values algorithm: times out of order', () => {
  it('an op that returns before it was called (possible through the API) falls back to the search', () => {
    const ops: Op[] = [
      { process: 0, type: 'invoke', f: 'write', value: 1, time: 5, index: 0 },
      { process: 0, type: 'ok', f: 'write', value: 1, time: 3, index: 1 },
      { process: 1, type: 'invoke', f: 'read', value: null, time: 6, index: 2 },
      { process: 1, type: 'ok', f: 'read', value: 1, time: 7, index: 3 },
    ];
    const result = checkLinearizabilitySync(ops, models.register);
    assert.equal(result.valid, false, 'as the search and brute force decide it');
    assert.match(String(result.decidedBy), /write 1 by process 0 \(op 0\) returns before it was called/);
  });
});
