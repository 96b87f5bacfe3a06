/**
 * A minimal Redis client (RESP2) for tests that record histories from a real Redis: one connection, one
 * command at a time, replies `+ - : $ *`. Enough for SET/GET; not a general client. An aborted command
 * destroys the connection — its late reply would otherwise be taken for the next command's — so after an
 * abort or a connection error the caller connects anew, as a Jepsen client is replaced.
 */
import { connect, type Socket } from 'node:net';

export type RespReply = string | number | null | readonly RespReply[];

/** An error reply (`-ERR …`): Redis refused the command, so it did not take effect. */
export class RespError extends Error {
  override readonly name = 'RespError';
}

/** Most bytes of unparsed reply held; a reply larger than this is an error, not a growing buffer. */
const maxBufferBytes = 1 << 20;

export class RespClient {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: { resolve(reply: RespReply): void; reject(error: unknown): void } | undefined;
  private broken: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects to 127.0.0.1:`port`; rejects (and leaves nothing open) if `signal` aborts first. */
  static connect(port: number, signal?: AbortSignal): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      const onAbort = (): void => {
        socket.destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(new RespClient(socket));
      });
    });
  }

  /** Sends one command and resolves with its reply; an error reply rejects with `RespError`. */
  command(args: readonly string[], signal?: AbortSignal): Promise<RespReply> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (this.waiting !== undefined) return Promise.reject(new Error('one command at a time'));
    signal?.throwIfAborted();
    const parts = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
    return new Promise<RespReply>((resolve, reject) => {
      const onAbort = (): void => this.fail(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.waiting = undefined;
      };
      this.waiting = {
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      this.socket.write(`*${args.length}\r\n${parts.join('')}`);
    });
  }

  close(): void {
    this.fail(new Error('client closed'));
  }

  private fail(error: unknown): void {
    this.broken ??= error instanceof Error ? error : new Error(String(error));
    this.socket.destroy();
    this.waiting?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > maxBufferBytes) {
      this.fail(new Error('reply larger than 1 MiB'));
      return;
    }
    const parsed = parse(this.buffer, 0);
    if (parsed === undefined) return;
    this.buffer = this.buffer.subarray(parsed.next);
    const waiting = this.waiting;
    if (waiting === undefined) {
      this.fail(new Error('reply with no command'));
      return;
    }
    if (parsed.value instanceof RespError) waiting.reject(parsed.value);
    else waiting.resolve(parsed.value);
  }
}

/** One reply starting at `at`, or undefined until the buffer holds all of it. */
function parse(buffer: Buffer, at: number): { value: RespReply | RespError; next: number } | undefined {
  const end = buffer.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const line = buffer.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(buffer[at] as number)) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RespError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespReply[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, position);
        if (item === undefined) return undefined;
        if (item.value instanceof RespError) return item;
        items.push(item.value);
        position = item.next;
      }
      return { value: items, next: position };
    }
    default:
      return { value: new RespError(`not RESP: ${JSON.stringify(line.slice(0, 40))}`), next: buffer.length };
  }
}
