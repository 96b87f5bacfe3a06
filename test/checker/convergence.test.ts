import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkConvergence, convergenceChecker } from '../../src/checker/convergence.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { HistoryBuilder, propertyRuns } from './safety-fixtures.js';

const ms = 1_000_000;

interface Read {
  readonly replica: string;
  readonly timeNs: number;
  readonly state: unknown;
}

/** A history of reads (each process reads one replica), a heal by the nemesis at `healNs`. */
function history(reads: readonly Read[], healNs?: number): HistoryBuilder {
  const h = new HistoryBuilder();
  const events: { time: number; emit: () => void }[] = reads.map((r) => ({
    time: r.timeNs,
    emit: () => {
      const process = `client-${r.replica}`;
      h.at(r.timeNs).invoke(process, 'read', { replica: r.replica });
      h.at(r.timeNs + 1000).ok(process, 'read', { replica: r.replica, state: r.state });
    },
  }));
  if (healNs !== undefined) {
    events.push({
      time: healNs,
      emit: () => {
        h.at(healNs).invoke('nemesis', 'heal');
        h.at(healNs + 1000).info('nemesis', 'heal');
      },
    });
  }
  for (const event of events.sort((a, b) => a.time - b.time)) event.emit();
  return h;
}

describe('convergence checker', () => {
  it('passes when all replicas agree from some time before the deadline on', () => {
    const h = history(
      [
        { replica: 'a', timeNs: 1 * ms, state: { x: 1 } },
        { replica: 'b', timeNs: 2 * ms, state: { x: 2 } },
        { replica: 'a', timeNs: 12 * ms, state: { x: 2, y: [1] } },
        { replica: 'b', timeNs: 13 * ms, state: { y: [1], x: 2 } }, // key order does not matter
        { replica: 'a', timeNs: 30 * ms, state: { x: 2, y: [1] } },
      ],
      10 * ms,
    );
    const result = checkConvergence(h.ops, { deadlineNs: 5 * ms });
    assert.equal(result.valid, true, result.reason);
    assert.equal(result.checker, 'convergence');
    assert.equal(result.stats?.healedAtNs, 10 * ms + 1000);
    assert.equal(result.stats?.lastDisagreementNs, 2 * ms);
  });

  it('reports replicas that still disagree after the deadline as not-converged, with their last states', () => {
    const h = history(
      [
        { replica: 'a', timeNs: 20 * ms, state: [1, 2] },
        { replica: 'b', timeNs: 21 * ms, state: [1] },
      ],
      10 * ms,
    );
    const result = checkConvergence(h.ops, { deadlineNs: 5 * ms });
    assert.equal(result.valid, false);
    assert.equal(result.anomalies[0]?.type, 'not-converged');
    assert.equal(
      result.anomalies[0]?.message,
      'replicas did not converge by the deadline 15ms (heal at 10ms + 5ms); last states: replica a: [1,2] (process client-a read ok at 20ms (line 4)); replica b: [1] (process client-b read ok at 21ms (line 6))',
    );
    assert.deepEqual(result.counterexample, { a: [1, 2], b: [1] });
  });

  it('reports agreement reached only after the deadline as late-convergence', () => {
    const h = history(
      [
        { replica: 'a', timeNs: 20 * ms, state: 1 },
        { replica: 'b', timeNs: 21 * ms, state: 2 },
        { replica: 'a', timeNs: 30 * ms, state: 2 },
        { replica: 'b', timeNs: 31 * ms, state: 2 },
      ],
      10 * ms,
    );
    const result = checkConvergence(h.ops, { deadlineNs: 5 * ms });
    assert.equal(result.anomalies[0]?.type, 'late-convergence');
    assert.match(
      result.anomalies[0]?.message ?? '',
      /replica a still read 1 at 20ms \(line 3\) instead of 2/,
    );
    assert.equal(checkConvergence(h.ops, { deadlineNs: 25 * ms }).valid, true);
  });

  it('is unknown with no reads after the heal, an unread replica, or no heal at all', () => {
    const before = history([{ replica: 'a', timeNs: 1 * ms, state: 1 }], 10 * ms);
    assert.match(
      checkConvergence(before.ops, { deadlineNs: ms }).reason ?? '',
      /no successful read after the heal at 10ms/,
    );
    const unread = history([{ replica: 'a', timeNs: 11 * ms, state: 1 }], 10 * ms);
    const r = checkConvergence(unread.ops, { deadlineNs: ms, replicas: ['a', 'b'] });
    assert.equal(r.valid, 'unknown');
    assert.match(r.reason ?? '', /replica\(s\) b not read after the heal/);
    assert.match(checkConvergence(unread.ops, { deadlineNs: ms, healF: 'recover' }).reason ?? '', /no heal/);
  });

  it('is unknown when the history ends before the deadline with a replica not read since disagreeing', () => {
    const h = history(
      [
        { replica: 'a', timeNs: 11 * ms, state: 1 },
        { replica: 'b', timeNs: 12 * ms, state: 2 },
      ],
      10 * ms,
    );
    const result = checkConvergence(h.ops, { deadlineNs: 100 * ms });
    assert.equal(result.valid, 'unknown');
    assert.match(result.reason ?? '', /the history ends before showing convergence/);
  });

  it('takes healedAt from the options instead of a heal op', () => {
    const h = history([
      { replica: 'a', timeNs: 1 * ms, state: 1 },
      { replica: 'b', timeNs: 2 * ms, state: 1 },
    ]);
    assert.equal(checkConvergence(h.ops, { deadlineNs: 0, healedAt: 0 }).valid, true);
    assert.equal(convergenceChecker({ deadlineNs: 0, healedAt: 0 }).name, 'convergence');
  });

  it('throws naming the line for a read without replica/state and for a bad deadline', () => {
    const bad = new HistoryBuilder().invoke(0, 'read').ok(0, 'read', 5);
    assert.throws(
      () => checkConvergence(bad.ops, { deadlineNs: 1 }),
      (error: unknown) =>
        isFaultlineError(error) &&
        /^line 2: convergence checker: the ok read's value is 5/.test(error.message) &&
        error.details.expected === '{ replica: string, state: unknown }',
    );
    const stranger = history([{ replica: 'z', timeNs: 1, state: 1 }]);
    assert.throws(
      () => checkConvergence(stranger.ops, { deadlineNs: 1, replicas: ['a'] }),
      /line 2: .*the replica/,
    );
    assert.throws(() => checkConvergence([], { deadlineNs: -1 }), /deadlineNs: expected a duration/);
  });

  const scenario = fc
    .record({
      replicas: fc.integer({ min: 1, max: 4 }),
      healNs: fc.integer({ min: 0, max: 50 }).map((n) => n * ms),
      deadlineNs: fc.integer({ min: 1, max: 50 }).map((n) => n * ms),
      // When, relative to the deadline, replicas start agreeing (must be before it).
      agreeBeforeDeadlineNs: fc.integer({ min: 1, max: 40 }).map((n) => n * ms),
      reads: fc.array(
        fc.record({
          replica: fc.nat(),
          at: fc.integer({ min: 0, max: 150 }),
          state: fc.integer({ min: 0, max: 3 }),
        }),
        {
          maxLength: 30,
        },
      ),
    })
    .map((s) => {
      const deadline = s.healNs + s.deadlineNs;
      const agreeAt = Math.max(0, deadline - s.agreeBeforeDeadlineNs);
      const names = Array.from({ length: s.replicas }, (_, i) => `r${i}`);
      const reads: Read[] = s.reads.map((r) => {
        const timeNs = r.at * ms + 7; // distinct from the synthetic reads below
        return {
          replica: names[r.replica % s.replicas] as string,
          timeNs,
          state: timeNs > agreeAt ? 'S' : r.state,
        };
      });
      // Every replica is read once more after the deadline.
      names.forEach((replica, i) => {
        reads.push({ replica, timeNs: deadline + (i + 1) * ms, state: 'S' });
      });
      return { ...s, deadline, names, reads };
    });

  it('property: replicas that agree from before the deadline on always pass', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = checkConvergence(history(s.reads, s.healNs).ops, {
          deadlineNs: s.deadlineNs,
          healedAt: s.healNs,
        });
        assert.equal(result.valid, true, result.reason);
      }),
      propertyRuns,
    );
  });

  it('property: one disagreeing read after the deadline (before the last read) is always caught', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), (s, pick) => {
        const bad: Read = {
          replica: s.names[pick % s.names.length] as string,
          timeNs: s.deadline + 3,
          state: 'stale',
        };
        const result = checkConvergence(history([...s.reads, bad], s.healNs).ops, {
          deadlineNs: s.deadlineNs,
          healedAt: s.healNs,
        });
        assert.equal(result.valid, false);
        assert.equal(result.anomalies[0]?.type, 'late-convergence');
      }),
      propertyRuns,
    );
  });
});
