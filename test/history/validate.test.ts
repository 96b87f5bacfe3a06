import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHistory, parseHistory, validateHistory } from '../../src/history/formats.js';
import { type Op, pairOperations } from '../../src/history/op.js';

function rejects(ops: readonly Op[], pattern: RegExp, line?: number): void {
  assert.throws(
    () => validateHistory(ops),
    (error: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'FL_ERR_INVALID_ARGUMENT');
      assert.match(error.message, pattern);
      if (line !== undefined) {
        assert.equal(error.details?.line, line);
        assert.match(error.message, new RegExp(`^line ${line}: `));
      }
      return true;
    },
  );
}

const edn = (text: string): Op[] => parseHistory(text, { format: 'edn' }).ops;

describe('validateHistory', () => {
  it('accepts a well-formed history and returns its paired operations', () => {
    const ops = edn(`
{:process 0, :type :invoke, :f :write, :value 1, :time 10}
{:process 1, :type :invoke, :f :read, :value nil, :time 11}
{:process :nemesis, :type :info, :f :start, :value nil, :time 12}
{:process 0, :type :ok, :f :write, :value 1, :time 20}
{:process 1, :type :info, :f :read, :value nil, :time 30, :error :timed-out}
{:process 2, :type :invoke, :f :read, :value nil, :time 31}
`);
    const operations = validateHistory(ops);
    assert.deepEqual(
      operations.map((o) => [o.process, o.f, o.type, o.input, o.output, o.callTime, o.returnTime]),
      [
        [0, 'write', 'ok', 1, 1, 10, 20],
        [1, 'read', 'info', null, undefined, 11, Number.POSITIVE_INFINITY],
        [2, 'read', 'info', null, undefined, 31, Number.POSITIVE_INFINITY],
      ],
    );
    assert.equal(operations[2]?.complete, undefined);
  });

  it('refuses a completion with no open call, naming its line', () => {
    rejects(
      edn(
        '{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read}\n{:process 0, :type :ok, :f :read}',
      ),
      /ok for process 0, which has no open call/,
      3,
    );
    rejects(edn('\n{:process 5, :type :fail, :f :write}'), /fail for process 5, which has no open call/, 2);
  });

  it('refuses a second invoke while a call is open', () => {
    rejects(
      edn(
        '{:process 0, :type :invoke, :f :read}\n{:process 1, :type :invoke, :f :read}\n{:process 1, :type :invoke, :f :write}',
      ),
      /process 1 invokes write while its read \(line 2\) is still open/,
      3,
    );
  });

  it('refuses a completion whose f differs from its invocation', () => {
    rejects(
      edn('{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :write}'),
      /completion f "write" does not match its invocation's "read"/,
      2,
    );
  });

  it('refuses times that go backwards, naming both lines', () => {
    rejects(
      edn('{:process 0, :type :invoke, :f :read, :time 100}\n{:process 0, :type :ok, :f :read, :time 99}'),
      /time 99 is earlier than the previous op's 100 \(line 1\)/,
      2,
    );
  });

  it('refuses indexes that are not dense', () => {
    rejects(
      edn('{:process 0, :type :invoke, :f :read, :index 0}\n{:process 0, :type :ok, :f :read, :index 2}'),
      /index 2 at position 1/,
      2,
    );
  });

  it('checks the shape of ops built in code, naming the op index when there is no line', () => {
    const good = buildHistory([{ process: 0, type: 'invoke', f: 'read' }])[0] as Op;
    rejects(
      [{ ...good, type: 'done' as 'ok' }],
      /^op 0: type: expected one of invoke, ok, fail, info, got "done"/,
    );
    rejects([{ ...good, f: '' }], /^op 0: f: expected a non-empty string/);
    rejects([{ ...good, process: 1.5 }], /^op 0: process: expected an integer or a name, got 1\.5/);
    rejects([{ ...good, time: Number.NaN }], /^op 0: time: expected a finite number/);
    rejects([{ ...good, time: -5 }], /time: .*got -5/);
  });

  it('names the file when given one', () => {
    assert.throws(
      () => validateHistory(edn('{:process 0, :type :ok, :f :read}'), { file: 'h.edn' }),
      (error: Error & { details?: Record<string, unknown> }) => {
        assert.match(error.message, /^h\.edn: line 1: ok for process 0/);
        assert.equal(error.details?.file, 'h.edn');
        assert.equal(error.details?.line, 1);
        assert.equal(error.details?.expected, 'an invoke first');
        return true;
      },
    );
  });

  it('ignores the processes it is told to', () => {
    const ops = buildHistory([
      { process: 'clock', type: 'info', f: 'bump' },
      { process: 0, type: 'invoke', f: 'read' },
    ]);
    assert.throws(() => validateHistory(ops), /info for process clock, which has no open call/);
    assert.equal(validateHistory(ops, { ignoreProcesses: ['clock'] }).length, 1);
  });
});

describe('pairOperations', () => {
  it('pairs calls per process, interleaved, and leaves calls open at the end as info', () => {
    const ops = buildHistory([
      { process: 0, type: 'invoke', f: 'write', value: 1 },
      { process: 1, type: 'invoke', f: 'read' },
      { process: 1, type: 'ok', f: 'read', value: 0 },
      { process: 0, type: 'fail', f: 'write', value: 1 },
      { process: 1, type: 'invoke', f: 'read' },
    ]);
    const pairs = pairOperations(ops);
    assert.deepEqual(
      pairs.map((p) => [p.process, p.type, p.output, p.callTime, p.returnTime]),
      [
        [0, 'fail', undefined, 0, 3],
        [1, 'ok', 0, 1, 2],
        [1, 'info', undefined, 4, Number.POSITIVE_INFINITY],
      ],
    );
  });
});
