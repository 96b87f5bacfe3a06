/**
 * Which client errors are definite (`fail`) and which unknown (`info`): error objects shaped exactly as
 * the clients make them (each case cites where the shape comes from), and the real errors of the
 * clients and servers that run here — nats.js against nats-server, fetch (undici) against a socket,
 * and Redis replies from redis-server over a minimal RESP exchange.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { type NatsConnection, connect as natsConnect } from 'nats';
import { clientErrors, FailError, isDefiniteFailure, Recorder } from '../../src/public/history.js';
import { register, stopChild, withTimeout } from '../support/children.js';
import { freePort } from '../support/ports.js';

// redis-errors lib/modern.js (ioredis 5/6 re-exports it as Redis.ReplyError): `name` is a getter that
// returns the constructor's name; ioredis's RESP decoder (lib/resp/errors.ts) makes SimpleError and
// BlobError, subclasses whose `name` is still "ReplyError"; lib/DataHandler.ts `returnError` then sets
// `err.command = { name, args }`.
class RedisError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}
class ReplyError extends RedisError {
  override get name(): string {
    return this.constructor.name;
  }
}
class IoredisSimpleError extends ReplyError {
  override get name(): string {
    return 'ReplyError';
  }
}
class AbortError extends RedisError {}
// ioredis lib/errors/MaxRetriesPerRequestError.ts: an AbortError named by its constructor.
class MaxRetriesPerRequestError extends AbortError {}
function ioredisReply(message: string, command: string, args: string[]): Error {
  return Object.assign(new IoredisSimpleError(message), { command: { name: command, args } });
}

// node-redis packages/client/lib/errors.ts (v5/v6): plain subclasses of Error with no `name` or `code`.
const nodeRedis = {
  ErrorReply: class ErrorReply extends Error {},
  ClientClosedError: class ClientClosedError extends Error {
    constructor() {
      super('The client is closed');
    }
  },
  ClientOfflineError: class ClientOfflineError extends Error {
    constructor() {
      super('The client is offline');
    }
  },
  WatchError: class WatchError extends Error {
    constructor(message = 'One (or more) of the watched keys has been changed') {
      super(message);
    }
  },
  SocketClosedUnexpectedlyError: class SocketClosedUnexpectedlyError extends Error {
    constructor() {
      super('Socket closed unexpectedly');
    }
  },
  DisconnectsClientError: class DisconnectsClientError extends Error {
    constructor() {
      super('Disconnects client');
    }
  },
};
class SimpleError extends nodeRedis.ErrorReply {}
class MultiErrorReply extends nodeRedis.ErrorReply {}

// pg-protocol src/messages.ts DatabaseError (`name` is the message name, "error"; severity, code = the
// SQLSTATE, … set by src/parser.ts parseErrorMessage from the ErrorResponse fields S, C, …).
class DatabaseError extends Error {
  severity: string | undefined;
  code: string | undefined;
  constructor(
    message: string,
    readonly length: number,
    override readonly name: string,
  ) {
    super(message);
  }
}
function pgError(code: string, severity = 'ERROR', message = 'error'): DatabaseError {
  return Object.assign(new DatabaseError(message, 100, 'error'), { severity, code });
}

// undici lib/core/errors.js: UndiciError subclasses set `name` and `code`; fetch rejects with
// TypeError('fetch failed', { cause }) (lib/web/fetch/index.js).
function undiciError(name: string, code: string, message: string): Error {
  return Object.assign(new Error(message), { name, code });
}
const fetchFailed = (cause: unknown): TypeError => new TypeError('fetch failed', { cause });

describe('isDefiniteFailure and clientErrors: error shapes of common clients', () => {
  it('takes what was never sent as definite by default, and nothing that may have been', () => {
    const definite: [string, unknown][] = [
      ['FailError', new FailError('no')],
      [
        'net ECONNREFUSED',
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ],
      ['dns ENOTFOUND', Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' })],
      ['dns EAI_AGAIN', Object.assign(new Error('getaddrinfo EAI_AGAIN db'), { code: 'EAI_AGAIN' })],
      [
        'fetch: connect timeout',
        fetchFailed(undiciError('ConnectTimeoutError', 'UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error')),
      ],
      [
        'fetch: both addresses refused (AggregateError)',
        fetchFailed(
          new AggregateError([
            Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' }),
            Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
          ]),
        ),
      ],
      // nats.js v2 lib/nats-base-client/core.js: NatsError(message, code) with name "NatsError".
      ['nats no responders', Object.assign(new Error('503'), { name: 'NatsError', code: '503' })],
      [
        'nats refused',
        Object.assign(new Error('CONNECTION_REFUSED'), { name: 'NatsError', code: 'CONNECTION_REFUSED' }),
      ],
      ['node-redis ClientClosedError', new nodeRedis.ClientClosedError()],
      ['node-redis ClientOfflineError', new nodeRedis.ClientOfflineError()],
      ['node-redis WatchError', new nodeRedis.WatchError()],
    ];
    for (const [what, error] of definite) assert.equal(isDefiniteFailure(error), true, what);

    const unknown: [string, unknown][] = [
      ['a plain error', new Error('boom')],
      ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
      ['ETIMEDOUT', Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' })],
      ['EPIPE', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
      [
        'fetch: other side closed',
        fetchFailed(undiciError('SocketError', 'UND_ERR_SOCKET', 'other side closed')),
      ],
      [
        'fetch: headers timeout',
        fetchFailed(undiciError('HeadersTimeoutError', 'UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error')),
      ],
      ['fetch: body timeout', undiciError('BodyTimeoutError', 'UND_ERR_BODY_TIMEOUT', 'Body Timeout Error')],
      ['fetch aborted', new DOMException('This operation was aborted', 'AbortError')],
      ['nats timeout', Object.assign(new Error('TIMEOUT'), { name: 'NatsError', code: 'TIMEOUT' })],
      [
        'nats closed',
        Object.assign(new Error('CONNECTION_CLOSED'), { name: 'NatsError', code: 'CONNECTION_CLOSED' }),
      ],
      ['a 503 code that is not NATS', Object.assign(new Error('503'), { code: '503' })],
      [
        'ioredis MaxRetriesPerRequestError',
        new MaxRetriesPerRequestError('Reached the max retries per request limit (which is 20).'),
      ],
      ['ioredis connection closed', new Error('Connection is closed.')],
      ['node-redis socket closed', new nodeRedis.SocketClosedUnexpectedlyError()],
      ['node-redis disconnect', new nodeRedis.DisconnectsClientError()],
      [
        'a Redis error reply (opt-in)',
        ioredisReply('WRONGTYPE Operation against a key', 'lpush', ['k', 'x']),
      ],
      ['a Postgres error (opt-in)', pgError('23505')],
      ['pg connection terminated', new Error('Connection terminated unexpectedly')],
      ['pg query_timeout', new Error('Query read timeout')],
    ];
    for (const [what, error] of unknown) assert.equal(isDefiniteFailure(error), false, what);
    assert.equal(
      isDefiniteFailure(fetchFailed(new AggregateError([{ code: 'ECONNREFUSED' }, { code: 'ETIMEDOUT' }]))),
      false,
      'an AggregateError is definite only when each attempt is',
    );
  });

  it('clientErrors.redis: an error reply, except from a script or EXEC that may have run part', () => {
    assert.equal(clientErrors.redis(ioredisReply('WRONGTYPE Operation against a key', 'lpush', ['k'])), true);
    assert.equal(
      clientErrors.redis(ioredisReply("READONLY You can't write against a read only replica.", 'set', [])),
      true,
    );
    assert.equal(clientErrors.redis(ioredisReply('ERR Error running script', 'eval', [])), false);
    assert.equal(clientErrors.redis(ioredisReply('WRONGTYPE Operation against a key', 'EVALSHA', [])), false);
    assert.equal(clientErrors.redis(ioredisReply('NOSCRIPT No matching script.', 'evalsha', [])), true);
    assert.equal(clientErrors.redis(ioredisReply('EXECABORT Transaction discarded', 'exec', [])), true);
    assert.equal(
      clientErrors.redis(new ReplyError('ERR unknown command')),
      true,
      'redis-errors ReplyError itself',
    );
    assert.equal(
      clientErrors.redis(new SimpleError('WRONGTYPE Operation against a key')),
      true,
      'node-redis',
    );
    assert.equal(
      clientErrors.redis(new MultiErrorReply('1 commands failed')),
      false,
      'node-redis MULTI: the rest ran',
    );
    assert.equal(clientErrors.redis(new MaxRetriesPerRequestError('max retries')), false);
    assert.equal(clientErrors.redis(new Error('ERR looks like a reply')), false, 'a plain error is no reply');
  });

  it('clientErrors.pg: a SQLSTATE that rolled back what it ended', () => {
    for (const code of [
      '23505',
      '23503',
      '40001',
      '40P01',
      '22012',
      '42P01',
      '25P02',
      '55P03',
      '57014',
      '53300',
      'P0001',
    ])
      assert.equal(clientErrors.pg(pgError(code)), true, code);
    for (const code of ['08006', '08003', '57P01', '57P02', '58030', 'XX000', '40003'])
      assert.equal(clientErrors.pg(pgError(code, 'FATAL')), false, code);
    assert.equal(
      clientErrors.pg(Object.assign(new Error('x'), { code: '23505' })),
      false,
      'not a DatabaseError',
    );
    assert.equal(clientErrors.pg(pgError('bogus')), false);
    // pg-pool index.js: a client did not become free within connectionTimeoutMillis.
    assert.equal(clientErrors.pg(new Error('timeout exceeded when trying to connect')), true);
    assert.equal(clientErrors.pg(new Error('Connection terminated unexpectedly')), false);
    assert.equal(
      clientErrors.pg(new Error('wrapped', { cause: pgError('40001') })),
      true,
      'in the cause chain',
    );
  });

  it('lets the Recorder opt into a classifier, for all calls or one', async () => {
    const recorder = new Recorder({ definite: clientErrors.pg });
    const outcome = await recorder.attempt(0, 'write', 1, () => Promise.reject(pgError('40001')));
    assert.equal(outcome.type, 'fail');
    const other = await recorder.attempt(0, 'write', 2, () =>
      Promise.reject(ioredisReply('WRONGTYPE x', 'set', [])),
    );
    assert.equal(other.type, 'info');
    const perCall = await recorder.attempt(
      0,
      'write',
      3,
      () => Promise.reject(ioredisReply('WRONGTYPE x', 'set', [])),
      {
        definite: clientErrors.redis,
      },
    );
    assert.equal(perCall.type, 'fail');
  });
});

/** Spawns `command`, kept in children.ts's registry, resolving once `ready` shows in its output. */
async function startServer(command: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  register(child);
  let output = '';
  const seen = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4096);
      if (ready.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}): ${output}`)));
  });
  try {
    await withTimeout(seen, 10_000, `${command} to be ready`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

describe('real clients and servers', () => {
  const children: ChildProcess[] = [];
  const connections: NatsConnection[] = [];
  after(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => {})));
    await Promise.all(children.map((child) => stopChild(child, 'SIGTERM', 2000)));
  });

  it('nats.js: no responders is fail, a request nobody answers is info, a refused connect is fail', async () => {
    const port = await freePort();
    children.push(
      await startServer('nats-server', ['-a', '127.0.0.1', '-p', String(port)], /Server is ready/),
    );
    const nc = await natsConnect({ servers: `127.0.0.1:${port}` });
    connections.push(nc);
    const silent = nc.subscribe('silent'); // takes requests, never answers
    const recorder = new Recorder();
    const nobody = await recorder.attempt(0, 'enqueue', 1, () =>
      nc.request('nobody', 'x', { timeout: 2000 }),
    );
    assert.equal(nobody.type, 'fail', `no responders: ${nobody.op.error}`);
    assert.match(String(nobody.op.error), /503/);
    const lost = await recorder.attempt(0, 'enqueue', 2, () => nc.request('silent', 'x', { timeout: 200 }));
    assert.equal(lost.type, 'info', 'a subscriber got it and may have acted on it');
    silent.unsubscribe();

    const closedPort = await freePort();
    const refused = await recorder.attempt(1, 'enqueue', 3, () =>
      natsConnect({ servers: `127.0.0.1:${closedPort}`, reconnect: false, timeout: 2000 }),
    );
    assert.equal(refused.type, 'fail', `refused: ${refused.op.error}`);
    assert.match(String(refused.op.error), /CONNECTION_REFUSED/);
  });

  it('fetch (undici): a refused connection is fail, a connection closed after the request is info', async (t) => {
    const recorder = new Recorder();
    const closedPort = await freePort();
    const refused = await recorder.attempt(0, 'write', 1, () => fetch(`http://127.0.0.1:${closedPort}/`));
    assert.equal(refused.type, 'fail', `refused: ${refused.op.error}`);

    // A server that reads the request and drops the connection without answering.
    const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    const dropped = await recorder.attempt(0, 'write', 2, () =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }),
    );
    assert.equal(dropped.type, 'info', `dropped: ${dropped.op.error}`);
  });

  it('Redis: a real WRONGTYPE reply is definite for one command, not for a script that wrote first', async () => {
    const port = await freePort();
    children.push(
      await startServer(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'no',
        ],
        /Ready to accept connections/,
      ),
    );
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const replies = respReplies(socket);
    const command = async (...args: string[]): Promise<string> => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
      return replies.next();
    };
    try {
      assert.equal(await command('SET', 'k', 'v'), '+OK');
      const wrongType = await command('LPUSH', 'k', 'x');
      assert.match(wrongType, /^-WRONGTYPE /);
      // As ioredis's decoder and DataHandler make it from that reply line.
      const error = ioredisReply(wrongType.slice(1), 'lpush', ['k', 'x']);
      assert.equal(clientErrors.redis(error), true);
      assert.equal(
        isDefiniteFailure(error),
        false,
        'a reply error is opt-in: a call may be several commands',
      );
      assert.equal(await command('GET', 'k'), '$v', 'the refused LPUSH changed nothing');

      const script = "redis.call('SET', KEYS[1], 'w'); return redis.call('LPUSH', KEYS[1], 'x')";
      const scriptReply = await command('EVAL', script, '1', 's');
      assert.match(scriptReply, /^-WRONGTYPE /);
      assert.equal(await command('GET', 's'), '$w', 'the script wrote before its error');
      assert.equal(clientErrors.redis(ioredisReply(scriptReply.slice(1), 'eval', [script, '1', 's'])), false);
    } finally {
      socket.destroy();
    }
  });
});

/**
 * Replies of a RESP2 connection, one per `next()`: simple strings, errors and integers as their line
 * (`+OK`, `-ERR …`, `:1`), bulk strings as `$` and their text. Enough for the commands above.
 */
function respReplies(socket: net.Socket): { next(): Promise<string> } {
  let buffered = '';
  const waiting: ((reply: string) => void)[] = [];
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (;;) {
      const end = buffered.indexOf('\r\n');
      if (end === -1 || waiting.length === 0) return;
      const line = buffered.slice(0, end);
      if (line.startsWith('$') && line !== '$-1') {
        const length = Number(line.slice(1));
        if (buffered.length < end + 2 + length + 2) return;
        const text = buffered.slice(end + 2, end + 2 + length);
        buffered = buffered.slice(end + 2 + length + 2);
        waiting.shift()?.(`$${text}`);
      } else {
        buffered = buffered.slice(end + 2);
        waiting.shift()?.(line);
      }
    }
  });
  return { next: () => new Promise((resolve) => waiting.push(resolve)) };
}
