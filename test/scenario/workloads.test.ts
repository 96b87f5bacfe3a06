// The scenario workloads on real processes and sockets: each protocol workload against the demo service
// (fixed variant) checks valid with its model; http against a tiny server; module with fixture modules
// written to a temp dir; stop() is bounded; an unreachable or silent service gives fail/info ops.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { builtInModel, checkCounter, checkSet, checkTotalQueue } from '../../src/checker/index.js';
import { realClock } from '../../src/core/clock.js';
import { Random } from '../../src/core/random.js';
import { kvServicePath } from '../../src/demo/index.js';
import type { History } from '../../src/history/index.js';
import {
  type ProtocolKind,
  type RunningWorkload,
  startWorkload,
  type WorkloadSpec,
} from '../../src/scenario/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'faultline-workloads-test-'));
let service: ChildProcess | undefined;
let url = '';

before(async () => {
  const argv = [kvServicePath, '--data-dir', dataDir, '--variant', 'fixed'];
  service = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of service.stdout ?? []) {
    out += String(chunk);
    const found = /listening on (http:\S+),/.exec(out)?.[1];
    if (found !== undefined) {
      url = found;
      return;
    }
  }
  throw new Error(`kv-service exited before listening: ${out}`);
});

after(async () => {
  if (service !== undefined && service.exitCode === null) {
    const exited = once(service, 'exit');
    service.kill('SIGKILL');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function start(spec: WorkloadSpec, seed = 1, extra: { log?: (line: string) => void } = {}): RunningWorkload {
  return startWorkload(spec, { clock: realClock, random: new Random(seed, 'test'), ...extra });
}

const protocol = (type: ProtocolKind, ops = 150, clients = 4, timeout = 2000) => ({
  type,
  url,
  clients,
  ops,
  timeout,
});

/** Every invocation has its completion, and no process has two calls open. */
function assertComplete(history: History): void {
  const open = new Set<unknown>();
  for (const op of history) {
    if (op.type === 'invoke') {
      assert.ok(!open.has(op.process), `process ${String(op.process)} invoked twice`);
      open.add(op.process);
    } else if (op.process !== 'nemesis') {
      assert.ok(open.delete(op.process), `completion without invoke at ${op.index}`);
    }
  }
  assert.deepEqual([...open], []);
}

function count(history: History, type: string, f?: string): number {
  return history.filter((op) => op.type === type && (f === undefined || op.f === f)).length;
}

describe('scenario workloads: the protocol kinds against the demo service', () => {
  for (const type of ['register', 'cas-register', 'kv'] as const) {
    it(`${type}: N ops, all answered, linearizable`, async () => {
      const workload = start(protocol(type));
      await workload.done;
      await workload.stop(); // the final reads
      const all = workload.history();
      assertComplete(all);
      // kv ends with a scan of the keys present (for acked-writes); the single-key model leaves it out.
      const final = type === 'kv' ? 1 : 0;
      assert.equal(count(all, 'invoke'), 150 + final);
      assert.equal(workload.opsSoFar, 150 + final);
      const history = all.filter((op) => op.f !== 'scan').map((op, index) => ({ ...op, index }));
      if (type === 'kv') {
        const written = new Set(
          history.filter((op) => op.f === 'write').map((op) => (op.value as string[])[0]),
        );
        assert.deepEqual(all.at(-1)?.value, [...written].sort());
      }
      assert.equal(workload.errorsSoFar, 0);
      assert.equal(workload.model, type);
      assert.ok(count(history, 'ok', 'read') > 0 && count(history, 'ok', 'write') > 0);
      if (type !== 'register') assert.ok(count(history, 'ok', 'cas') + count(history, 'fail', 'cas') > 0);
      const model = builtInModel(type);
      assert.ok(model);
      const result = await checkLinearizability(history, model, { timeoutMs: 30_000 });
      assert.equal(result.valid, true, JSON.stringify(result.counterexample));
    });
  }

  it('set: adds and reads, a final read; the set checker and the set model say valid', async () => {
    const workload = start(protocol('set'));
    await workload.done;
    await workload.stop(); // the final reads
    const history = workload.history();
    assertComplete(history);
    assert.equal(count(history, 'invoke'), 151); // the ops and the final read
    const last = history.at(-1);
    assert.ok(last !== undefined && last.f === 'read' && last.type === 'ok');
    assert.equal((last.value as unknown[]).length, count(history, 'ok', 'add'));
    assert.equal(checkSet(history).valid, true);
    const result = await checkLinearizability(history, builtInModel('set') as never, { timeoutMs: 30_000 });
    assert.equal(result.valid, true);
  });

  it('counter: adds and reads, a final read; the counter checker says valid', async () => {
    const workload = start(protocol('counter'));
    await workload.done;
    await workload.stop(); // the final reads
    const history = workload.history();
    assertComplete(history);
    const added = history
      .filter((op) => op.type === 'ok' && op.f === 'add')
      .reduce((sum, op) => sum + (op.value as number), 0);
    assert.equal(history.at(-1)?.value, added);
    assert.equal(workload.model, 'counter');
    assert.equal(checkCounter(history).valid, true);
  });

  it('queue: enqueues and dequeues, drained at the end; total-queue and fifo-queue say valid', async () => {
    const workload = start(protocol('queue'));
    await workload.done;
    await workload.stop(); // the final reads
    const history = workload.history();
    assertComplete(history);
    assert.equal(workload.model, 'fifo-queue');
    assert.equal(history.at(-1)?.f, 'dequeue');
    assert.equal(history.at(-1)?.value, null); // the drain ends on an empty queue
    assert.equal(checkTotalQueue(history).valid, true);
    const model = builtInModel('fifo-queue') as never;
    assert.equal((await checkLinearizability(history, model, { timeoutMs: 30_000 })).valid, true);
  });

  it('stop() is bounded: the loops end after their call in flight, nothing is left open', async () => {
    const workload = start(protocol('kv', 1_000_000, 8));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await workload.stop();
    assert.ok(Date.now() - started < 2000, `stop took ${Date.now() - started} ms`);
    await workload.done;
    const history = workload.history();
    assert.ok(workload.opsSoFar > 0);
    assertComplete(history);
    const frozen = history.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(workload.history().length, frozen);
  });

  it('an aborted signal stops it without final reads', async () => {
    const controller = new AbortController();
    const workload = startWorkload(protocol('set', 1_000_000), {
      clock: realClock,
      random: new Random(3, 'test'),
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await workload.done;
    assertComplete(workload.history());
  });
});

describe('scenario workloads: a service that is down or silent', () => {
  it('refused connections are fail ops (they never reached it), counted as errors, logged once', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    const lines: string[] = [];
    const spec = { ...protocol('cas-register', 20), url: `http://127.0.0.1:${port}` };
    const workload = start(spec, 1, { log: (line) => lines.push(line) });
    await workload.done;
    const history = workload.history();
    assertComplete(history);
    assert.equal(count(history, 'fail'), 20);
    assert.equal(workload.errorsSoFar, 20);
    assert.equal(lines.filter((line) => line.includes('ECONNREFUSED')).length, 1, lines.join('\n'));
  });

  it('a service that never answers: info ops after the timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer(() => undefined); // never answers
    server.on('connection', (socket) => sockets.add(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const spec = { ...protocol('queue', 8, 4, 100), url: `http://127.0.0.1:${port}` };
      const workload = start(spec);
      await workload.done;
      const history = workload.history();
      assertComplete(history);
      assert.equal(count(history, 'info'), count(history, 'invoke'));
      assert.ok(history.every((op) => op.type !== 'info' || op.error === 'timed-out'));
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('a url that is not http:// is an error naming workload.url', () => {
    assert.throws(() => start({ ...protocol('kv'), url: 'not a url' }), {
      code: 'FL_ERR_CONFIG',
      message: /^workload\.url: /,
    });
  });
});

describe('scenario workloads: http', () => {
  let server: Server;
  let base = '';
  let served = 0;
  before(async () => {
    server = createServer((request, response) => {
      served++;
      response.writeHead(request.url === '/fail' ? 503 : 200).end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('requests at the rate, ok on 2xx and fail on 5xx, until stopped', async () => {
    for (const [path, type] of [
      ['/ok', 'ok'],
      ['/fail', 'fail'],
    ] as const) {
      served = 0;
      const workload = start({ type: 'http', url: `${base}${path}`, ratePerSec: 50, concurrency: 2 });
      assert.equal(workload.model, undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await workload.stop();
      await workload.done;
      const history = workload.history();
      assertComplete(history);
      const requests = count(history, 'invoke', 'request');
      assert.ok(requests >= 15 && requests <= 30, `${requests} requests in 500 ms at 50/s`);
      assert.equal(count(history, type, 'request'), requests);
      assert.equal(served, requests);
      assert.equal(workload.errorsSoFar, 0); // a 5xx is the service's answer, not a lost call
      if (type === 'ok') assert.equal(history.find((op) => op.type === 'ok')?.value, 200);
    }
  });
});

describe('scenario workloads: module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-workload-module-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name); // absolute, as validation makes a scenario file's relative path
  };

  it('records the client calls; a definite error is fail; the model is the module’s', async () => {
    const path = write(
      'register.mjs',
      `let value = null;
export const client = {
  model: 'register', clients: 3, ops: 60, timeoutMs: 500,
  generate({ n, random }) { return random() < 0.5 ? { f: 'read' } : { f: 'write', value: n }; },
  async invoke(f, v) {
    await new Promise((r) => setTimeout(r, 1));
    if (f === 'read') return value;
    if (v === 7) throw Object.assign(new Error('refused'), { definite: true });
    value = v;
  },
};`,
    );
    const workload = startWorkload(
      { type: 'module', path },
      { clock: realClock, random: new Random(5, 'test') },
    );
    await workload.done;
    assert.equal(workload.model, 'register');
    const history = workload.history();
    assertComplete(history);
    assert.equal(count(history, 'invoke'), 60);
    assert.ok(history.filter((op) => op.type === 'fail').every((op) => op.value === 7));
    const result = await checkLinearizability(history, builtInModel('register') as never);
    assert.equal(result.valid, true);
  });

  it('a module that throws on import, exports no client, or whose client throws: errors naming workload.path', async () => {
    const cases = [
      [write('throws.mjs', "throw new Error('boom at import');"), /cannot import it: boom at import/],
      [write('empty.mjs', 'export const x = 1;'), /exports no client/],
      [
        write(
          'generate-throws.mjs',
          "export const client = { generate() { throw new Error('no ops'); }, invoke() {} };",
        ),
        /client\.generate threw: no ops/,
      ],
      [join(dir, 'missing.mjs'), /cannot import it/],
    ] as const;
    for (const [path, message] of cases) {
      const workload = startWorkload(
        { type: 'module', path },
        { clock: realClock, random: new Random(1, 'test') },
      );
      await assert.rejects(workload.done, (error: Error & { code?: string }) => {
        assert.equal(error.code, 'FL_ERR_CONFIG');
        assert.match(error.message, /^workload\.path: /);
        assert.match(error.message, message);
        return true;
      });
      await workload.stop(); // resolves all the same
    }
  });
});
