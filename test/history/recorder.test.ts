import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { parseHistory, serializeHistory, validateHistory } from '../../src/history/formats.js';
import { Recorder as HistoryRecorder } from '../../src/history/recorder.js';
// The package's Recorder: history/'s own with the real clock as the default, given at the boundary.
import { defaultReads, FailError, isDefiniteFailure, Recorder } from '../../src/public/history.js';

/** A clock the test moves by hand, to check how times are derived. */
class ManualClock implements Clock {
  private nowMs = 1000;
  private timers = new Map<object, { at: number; callback: () => void }>();
  now(): number {
    return this.nowMs;
  }
  wallNow(): number {
    return this.nowMs;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.nowMs + delayMs, callback });
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const [handle, timer] of this.timers) {
      if (timer.at <= this.nowMs) {
        this.timers.delete(handle);
        timer.callback();
      }
    }
  }
}

// An echo server in its own process, so the test can kill it mid-call. `slow` lines are answered late.
const ECHO_SERVER = `
const net = require('node:net');
const server = net.createServer((socket) => {
  let buffered = '';
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('slow')) process.stdout.write('holding\\n');
      else socket.write(line + '\\n');
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;

async function startEchoServer(): Promise<{
  child: ChildProcess;
  port: number;
  holding: () => Promise<void>;
}> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines.shift() as string;
  };
  const first = await nextLine();
  const port = Number(/^port (\d+)$/.exec(first)?.[1]);
  return {
    child,
    port,
    holding: async () => {
      assert.equal(await nextLine(), 'holding');
    },
  };
}

/** One request, one line of reply; a connection that closes first is an error (outcome unknown). */
function request(port: number, message: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${message}\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\n')) {
        signal.removeEventListener('abort', onAbort);
        socket.end();
        resolve(reply.trim());
      }
    });
    socket.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    socket.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      reject(Object.assign(new Error('connection closed before the reply'), { code: 'ECONNRESET' }));
    });
  });
}

describe('Recorder', () => {
  it('records invoke and ok around real async work, with ns times from the clock', async () => {
    const recorder = new Recorder();
    const read = await recorder.call(0, 'read', null, async () => {
      await delay(20);
      return 7;
    });
    assert.equal(read, 7);
    // fn returned nothing: the completion carries the invoke value (Jepsen's convention for writes)
    const write = await recorder.call(1, 'write', 3, async () => {
      await delay(5);
    });
    assert.equal(write, undefined);
    const ops = recorder.history();
    assert.deepEqual(
      ops.map(({ time: _time, ...op }) => op),
      [
        { process: 0, type: 'invoke', f: 'read', value: null, index: 0 },
        { process: 0, type: 'ok', f: 'read', value: 7, index: 1 },
        { process: 1, type: 'invoke', f: 'write', value: 3, index: 2 },
        { process: 1, type: 'ok', f: 'write', value: 3, index: 3 },
      ],
    );
    const [t0, t1, t2, t3] = ops.map((op) => op.time) as [number, number, number, number];
    assert.ok(Number.isInteger(t1) && t1 - t0 >= 15e6, `read took ${t1 - t0}ns`);
    assert.ok(t0 <= t1 && t1 <= t2 && t2 <= t3);
    assert.equal(validateHistory(ops).length, 2);
    ops.pop();
    assert.equal(recorder.history().length, 4, 'history() returns a copy');
  });

  it('derives times from the Clock it is given (history/ reads no clock of its own)', async () => {
    const clock = new ManualClock();
    const recorder = new HistoryRecorder({ clock });
    clock.advance(1.5);
    const pending = recorder.call(0, 'read', null, async () => {
      clock.advance(2);
      return 1;
    });
    await pending;
    assert.deepEqual(
      recorder.history().map((op) => op.time),
      [1_500_000, 3_500_000],
    );
    assert.equal(recorder.elapsedNs(), 3_500_000);
  });

  it('records fail for definite failures and info for anything else, re-throwing the error', async () => {
    const recorder = new Recorder({ definite: (error) => (error as { code?: string }).code === 'CONFLICT' });
    const failed = new FailError('key exists');
    await assert.rejects(
      recorder.call(0, 'add', 1, async () => {
        throw failed;
      }),
      (error) => error === failed,
    );
    await assert.rejects(
      recorder.call(0, 'add', 2, () => {
        throw Object.assign(new Error('version conflict'), { code: 'CONFLICT' });
      }),
      /version conflict/,
    );
    await assert.rejects(
      recorder.call(
        0,
        'add',
        3,
        async () => {
          throw new Error('unique violation');
        },
        { definite: (error) => /unique/.test((error as Error).message) },
      ),
      /unique violation/,
    );
    await assert.rejects(
      recorder.call(0, 'add', 4, async () => {
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      }),
      /ECONNRESET/,
    );
    const completions = recorder.history().filter((op) => op.type !== 'invoke');
    assert.deepEqual(
      completions.map((op) => [op.type, op.value, op.error]),
      [
        ['fail', 1, 'key exists'],
        ['fail', 2, 'CONFLICT: version conflict'],
        ['fail', 3, 'unique violation'],
        ['info', 4, 'read ECONNRESET'],
      ],
    );
    assert.equal(validateHistory(recorder.history()).length, 4);
  });

  it('returns outcomes from attempt instead of throwing', async () => {
    const recorder = new Recorder();
    const ok = await recorder.attempt(0, 'read', null, () => 5);
    assert.equal(ok.type, 'ok');
    assert.equal(ok.type === 'ok' && ok.value, 5);
    const info = await recorder.attempt(0, 'read', null, () => Promise.reject(new Error('socket hang up')));
    assert.equal(info.type, 'info');
    assert.equal(info.type === 'info' && info.timedOut, false);
    assert.equal(info.op.error, 'socket hang up');
    const fail = await recorder.attempt(0, 'read', null, () => Promise.reject(new FailError('nope')));
    assert.equal(fail.type, 'fail');
  });

  it('classifies ECONNREFUSED as definite, anywhere in the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.ok(isDefiniteFailure(refused));
    assert.ok(isDefiniteFailure(new TypeError('fetch failed', { cause: refused })));
    assert.ok(isDefiniteFailure(new AggregateError([refused, refused])));
    assert.ok(!isDefiniteFailure(new AggregateError([refused, new Error('ETIMEDOUT')])));
    assert.ok(!isDefiniteFailure(new Error('boom')));
    assert.ok(!isDefiniteFailure('ECONNREFUSED'));
  });

  it('on timeout aborts the signal, records info with error timed-out and frees the process', async () => {
    const recorder = new Recorder();
    let aborted: unknown;
    let lateResult = false;
    const started = performance.now();
    await assert.rejects(
      recorder.call(
        2,
        'write',
        9,
        async (signal) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
          await delay(200);
          lateResult = true;
          return 'late';
        },
        { timeoutMs: 30 },
      ),
      (error) => {
        assert.ok(isFaultlineError(error, 'FL_ERR_ABORTED'));
        assert.equal(error.details.timedOut, true);
        assert.match(error.message, /write by process 2 timed out after 30ms/);
        return true;
      },
    );
    assert.ok(performance.now() - started < 150, 'the call returned at the timeout, not when fn finished');
    assert.ok(isFaultlineError(aborted, 'FL_ERR_ABORTED'));
    const [invoke, info] = recorder.history();
    assert.equal(info?.type, 'info');
    assert.equal(info?.error, 'timed-out');
    assert.equal(info?.value, 9);
    assert.ok((info?.time ?? 0) - (invoke?.time ?? 0) >= 25e6);
    // the process may call again; the late result of the timed-out call is ignored
    assert.equal(await recorder.call(2, 'read', null, () => 1), 1);
    await delay(250);
    assert.ok(lateResult);
    assert.equal(recorder.history().length, 4);
  });

  it('times out with the Clock it is given', async () => {
    const clock = new ManualClock();
    const recorder = new Recorder({ clock });
    const outcome = recorder.attempt(0, 'read', null, () => new Promise<never>(() => {}), { timeoutMs: 100 });
    clock.advance(99);
    await delay(1);
    assert.deepEqual(recorder.openProcesses(), [0]);
    clock.advance(1);
    const result = await outcome;
    assert.equal(result.type === 'info' && result.timedOut, true);
    assert.equal(result.op.time, 100_000_000);
  });

  it('refuses a second concurrent call of the same process, but not of another', async () => {
    const recorder = new Recorder();
    const first = recorder.call(0, 'read', null, () => delay(20, 1));
    await assert.rejects(
      recorder.call(0, 'write', 2, () => 2),
      (error) => {
        assert.ok(isFaultlineError(error, 'FL_ERR_INVALID_ARGUMENT'));
        assert.match(error.message, /process 0 already has an open call \(read, op 0\)/);
        return true;
      },
    );
    const other = recorder.call(1, 'write', 2, () => delay(5));
    assert.equal(await first, 1);
    await other;
    assert.deepEqual(
      recorder.history().map((op) => [op.process, op.type]),
      [
        [0, 'invoke'],
        [1, 'invoke'],
        [1, 'ok'],
        [0, 'ok'],
      ],
    );
    assert.equal(validateHistory(recorder.history()).length, 2);
  });

  it('notes nemesis events as info, and refuses a note for a process with an open call', async () => {
    const recorder = new Recorder();
    recorder.note('nemesis', 'start', null);
    const pending = recorder.call(0, 'read', null, () => delay(5, 1));
    assert.throws(() => recorder.note(0, 'kill', null), /process 0 has an open call/);
    await pending;
    const op = recorder.note('nemesis', 'stop', ['n1'], { node: 'n1' });
    assert.deepEqual(
      { ...op, time: 0 },
      { node: 'n1', process: 'nemesis', type: 'info', f: 'stop', value: ['n1'], time: 0, index: 3 },
    );
    assert.equal(validateHistory(recorder.history()).length, 1);
  });

  it('is bounded by maxOps, keeping room for the completions of open calls', async () => {
    const recorder = new Recorder({ maxOps: 4 });
    await recorder.call(0, 'read', null, () => 1);
    const open = recorder.call(0, 'read', null, () => delay(5, 2));
    assert.throws(
      () => recorder.note('nemesis', 'start'),
      /history is full: maxOps is 4 \(3 recorded, 1 calls open\)/,
    );
    assert.equal(await open, 2);
    await assert.rejects(
      recorder.call(1, 'read', null, () => 1),
      /history is full/,
    );
    assert.equal(recorder.history().length, 4);
    assert.throws(() => new Recorder({ maxOps: 0 }), /maxOps: expected an integer >= 2/);
  });

  it('refuses bad arguments', async () => {
    const recorder = new Recorder();
    await assert.rejects(
      recorder.call(0, '', null, () => 1),
      /f: expected a non-empty string/,
    );
    await assert.rejects(
      recorder.call(-0.5, 'read', null, () => 1),
      /process: expected an integer or a name/,
    );
    await assert.rejects(
      recorder.call(0, 'read', null, () => 1, { timeoutMs: -1 }),
      /timeoutMs: expected a number >= 0/,
    );
    assert.equal(recorder.history().length, 0);
  });

  it('records info when a real server dies mid-call, then fail when it refuses connections', async (t) => {
    const server = await startEchoServer();
    t.after(() => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });
    const recorder = new Recorder();
    assert.equal(await recorder.call(0, 'write', 'a', (signal) => request(server.port, 'a', signal)), 'a');

    const midCall = recorder.attempt(1, 'write', 'b', (signal) => request(server.port, 'slow b', signal));
    await server.holding(); // the server has the request and will never answer it
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    const lost = await midCall;
    assert.equal(lost.type, 'info', 'a lost connection may or may not have taken effect');
    assert.match(String(lost.op.error), /ECONNRESET|closed before the reply/);

    const refused = await recorder.attempt(2, 'write', 'c', (signal) => request(server.port, 'c', signal));
    assert.equal(refused.type, 'fail', 'a refused connection definitely did not take effect');
    assert.match(String(refused.op.error), /ECONNREFUSED/);

    assert.deepEqual(
      recorder.history().map((op) => [op.process, op.type, op.value]),
      [
        [0, 'invoke', 'a'],
        [0, 'ok', 'a'],
        [1, 'invoke', 'b'],
        [1, 'info', 'b'],
        [2, 'invoke', 'c'],
        [2, 'fail', 'c'],
      ],
    );
    assert.equal(validateHistory(recorder.history()).length, 3);
  });

  it('records info when a call against a real server times out', async (t) => {
    const server = await startEchoServer();
    t.after(() => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });
    const recorder = new Recorder();
    const outcome = await recorder.attempt(
      0,
      'write',
      1,
      (signal) => request(server.port, 'slow 1', signal),
      {
        timeoutMs: 100,
      },
    );
    assert.equal(outcome.type, 'info');
    assert.equal(outcome.op.error, 'timed-out');
  });
});

describe("Recorder: what an ok records (Jepsen's convention)", () => {
  const withoutTime = (recorder: Recorder) =>
    recorder.history().map(({ time: _time, index: _index, ...op }) => op);

  it("records the value a write wrote, with the client's reply as result; a read what it saw", async () => {
    const recorder = new Recorder();
    // A Redis SET answers "OK", a cas 1: the history must still say what was written.
    assert.equal(await recorder.call(0, 'write', 3, () => 'OK'), 'OK');
    assert.equal(await recorder.call(0, 'cas', [3, 4], () => 1), 1);
    assert.equal(await recorder.call(0, 'add', 5, () => undefined), undefined);
    assert.equal(await recorder.call(1, 'read', null, () => 4), 4);
    assert.equal(await recorder.call(1, 'get', 'k', () => undefined), undefined);
    assert.deepEqual(await recorder.call(1, 'read', ['k', null], () => ['k', 4]), ['k', 4]);
    const ops = withoutTime(recorder).filter((op) => op.type === 'ok');
    assert.deepEqual(ops, [
      { process: 0, type: 'ok', f: 'write', value: 3, result: 'OK' },
      { process: 0, type: 'ok', f: 'cas', value: [3, 4], result: 1 },
      { process: 0, type: 'ok', f: 'add', value: 5 },
      { process: 1, type: 'ok', f: 'read', value: 4 },
      { process: 1, type: 'ok', f: 'get', value: null },
      { process: 1, type: 'ok', f: 'read', value: ['k', 4] },
    ]);
    assert.ok(defaultReads.includes('dequeue') && !defaultReads.includes('enqueue'));
  });

  it('takes the reads from the recorder and from each call', async () => {
    const recorder = new Recorder({ reads: ['balance'] });
    await recorder.call(0, 'balance', null, () => 10);
    await recorder.call(0, 'read', null, () => 11); // not a read for this recorder: echoed
    await recorder.call(0, 'incr', 1, () => 12, { read: true });
    await recorder.call(0, 'balance', null, () => 13, { read: false });
    assert.deepEqual(
      withoutTime(recorder)
        .filter((op) => op.type === 'ok')
        .map((op) => [op.f, op.value, op.result]),
      [
        ['balance', 10, undefined],
        ['read', null, 11],
        ['incr', 12, undefined],
        ['balance', null, 13],
      ],
    );
    assert.throws(
      () => new Recorder({ reads: ['read', ''] }),
      (error: unknown) => isFaultlineError(error) && /reads\[1\]/.test(error.message),
    );
    await assert.rejects(
      recorder.call(1, 'read', null, () => 1, { read: 'yes' as unknown as boolean }),
      (error: unknown) => isFaultlineError(error) && /read: expected true or false/.test(error.message),
    );
  });

  it('keeps a result JSON can carry, summarises one it cannot, and writes it to history files', async () => {
    class QueryResult {
      rowCount = 1;
    }
    const recorder = new Recorder();
    const deep: unknown[] = [];
    let level = deep;
    for (let i = 0; i < 40; i++) {
      const inner: unknown[] = [];
      level.push(inner);
      level = inner;
    }
    const results: unknown[] = [
      { stream: 'ORDERS', seq: 7, duplicate: false, gone: undefined }, // a JetStream PubAck
      new QueryResult(),
      2n ** 70n,
      Number.NaN,
      deep,
      Array.from({ length: 2000 }, (_, i) => i),
      [1, new Map([[1, 2]]), () => 1],
      JSON.parse('{"__proto__": {"a": 1}, "b": [null, 2]}'),
      new Array(1e9),
    ];
    for (const [i, result] of results.entries()) await recorder.call(0, 'write', i, () => result);
    const oks = recorder.history().filter((op) => op.type === 'ok');
    assert.deepEqual(
      oks.map((op) => op.result),
      [
        { stream: 'ORDERS', seq: 7, duplicate: false },
        '[QueryResult]',
        '1180591620717411303424',
        'NaN',
        '[Array(1)]',
        '[Array(2000)]',
        [1, '[Map]', '[function]'],
        JSON.parse('{"__proto__": {"a": 1}, "b": [null, 2]}'),
        '[Array(1000000000)]',
      ],
    );
    const text = serializeHistory(recorder.history(), 'jsonl');
    assert.match(text, /"type":"ok","f":"write","value":0,"time":\d+,"index":1,"result":\{"stream":"ORDERS"/);
    const back = parseHistory(text).ops.filter((op) => op.type === 'ok');
    assert.deepEqual(
      back.map((op) => [op.value, op.result]),
      oks.map((op) => [op.value, op.result]),
    );
  });
});
