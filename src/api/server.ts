import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { hostPort, listenTcp } from '../core/listen.js';
import type { ProxyHub, ProxyInput, ToxicInput } from '../proxy/hub.js';
import { jsonErrorOffset } from './json-error.js';
import { renderMetrics } from './metrics.js';

export interface ApiServerOptions {
  /** The proxies the API drives. The caller owns it: closing the server leaves it running. */
  hub: ProxyHub;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 8474 (Toxiproxy's); 0 picks a free port. */
  port?: number;
  /** Receives one line per request. */
  log?: (line: string) => void;
  /** Largest request body accepted; default 1 MiB. Larger ones get 413. */
  maxBodyBytes?: number;
}

export interface ApiServer {
  /** `http://host:port`, with the real port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes every connection, idle keep-alive ones too. The hub is left alone. */
  close(): Promise<void>;
}

const defaultMaxBodyBytes = 1024 * 1024;
/** After an oversized chunked body, this much more is read and discarded before replying early. */
const maxDiscardBytes = 16 * 1024 * 1024;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface Request {
  readonly params: { readonly proxy: string; readonly toxic: string };
  /** The parsed JSON body; rejects with 400 on a missing or malformed body. */
  body(expected: string): Promise<unknown>;
}

type Reply =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string }
  | { readonly status: 204 };

type Handler = (request: Request) => Promise<Reply>;

interface Route {
  readonly methods: Partial<Record<Method, Handler>>;
  readonly proxy?: string;
  readonly toxic?: string;
}

/**
 * Serves the Toxiproxy 2.x HTTP API over `hub`, so Toxiproxy clients (toxiproxy-node-client, the Go and
 * Python clients, testcontainers) drive faultline unmodified.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { hub, log } = options;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8474;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const routes = buildRoutes(hub);
  let requestCount = 0;

  const server = createServer((req, res) => {
    const id = `fl${(++requestCount).toString().padStart(8, '0')}`;
    const started = realClock.now();
    res.setHeader('X-Toxiproxy-Request-Id', id);
    const outcome: Outcome = {};
    handle(req, res, routes, maxBodyBytes, outcome)
      .catch((error: unknown) => {
        // Only a broken socket gets here; the response can no longer be written.
        outcome.error ??= messageOf(error);
        res.destroy();
      })
      .finally(() => {
        if (log === undefined) return;
        const ms = Math.round(realClock.now() - started);
        const error = outcome.error === undefined ? '' : ` error=${JSON.stringify(outcome.error)}`;
        log(`api ${id} ${req.method ?? '?'} ${req.url ?? '?'} ${res.statusCode} ${ms}ms${error}`);
      });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await listenTcp(server, host, port, 'port');

  const address = server.address();
  const actual = address !== null && typeof address === 'object' ? address : { address: host, port };
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPort(actual.address, actual.port)}`,
    host: actual.address,
    port: actual.port,
    close: () => {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** What the log line reports beyond the status: the error message of a refused request. */
interface Outcome {
  error?: string;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: (segments: string[]) => Route | undefined,
  maxBodyBytes: number,
  outcome: Outcome,
): Promise<void> {
  const send = (reply: Reply): Promise<void> => sendReply(req, res, reply, outcome);
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0] ?? '/';
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    await send(errorReply(400, `bad request path: invalid percent-encoding in ${JSON.stringify(path)}`));
    return;
  }
  const route = routes(segments);
  if (route === undefined) {
    await send(errorReply(404, `404 page not found: no route ${method} ${path}`));
    return;
  }
  const handler = route.methods[method as Method];
  if (handler === undefined) {
    const allowed = Object.keys(route.methods).join(', ');
    res.setHeader('Allow', allowed);
    await send(errorReply(405, `method ${method} not allowed on ${path}; allowed: ${allowed}`));
    return;
  }
  // Toxiproxy's defence against DNS rebinding from web pages: browsers send `Mozilla/…`.
  if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    await send(errorReply(403, 'User agent not allowed'));
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    res.setHeader('Connection', 'close');
    await send(errorReply(413, tooLarge(maxBodyBytes)));
    return;
  }
  const bodyText = readBody(req, maxBodyBytes);
  bodyText.catch(() => {}); // handlers that take no body never await it
  const request: Request = {
    params: { proxy: route.proxy ?? '', toxic: route.toxic ?? '' },
    body: async (expected) => parseBody(await bodyText, expected),
  };
  let reply: Reply;
  try {
    reply = await handler(request);
  } catch (error) {
    reply = replyForError(error);
    if (reply.status === 413) res.setHeader('Connection', 'close');
  }
  // The body must be read before the reply, or a client still sending it may see a reset.
  await bodyText.catch(() => {});
  await send(reply);
}

function tooLarge(maxBodyBytes: number): string {
  return `request body too large: the limit is ${maxBodyBytes} bytes`;
}

/** Reads the body as text; an oversized body rejects with 413 once it has been read (up to a bound). */
function tooLargeError(maxBodyBytes: number): FaultlineError {
  return new FaultlineError(codes.invalidArgument, tooLarge(maxBodyBytes), { details: { status: 413 } });
}

function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
      else if (size > maxBodyBytes + maxDiscardBytes) {
        // Replying now with `Connection: close` ends the upload; Node closes the socket after the reply.
        reject(tooLargeError(maxBodyBytes));
      }
    });
    req.on('end', () => {
      if (size > maxBodyBytes) {
        reject(tooLargeError(maxBodyBytes));
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', reject);
    req.on('close', () => reject(new FaultlineError(codes.http, 'request aborted by the client')));
  });
}

function parseBody(text: string, expected: string): unknown {
  if (text.trim() === '') {
    throw new FaultlineError(codes.invalidArgument, `bad request body: empty body; expected ${expected}`, {
      details: { field: 'body', expected },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's wording without its excerpt of the body, always with a position (V8 omits it for some errors).
    const v8 = messageOf(error);
    const reason = v8
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/( in JSON)? at position \d+.*$/s, '');
    const offset = jsonErrorOffset(text);
    const position = /at position (\d+)/.exec(v8)?.[1] ?? (offset < 0 ? text.length : offset);
    throw new FaultlineError(codes.invalidArgument, `bad request body: ${reason} at position ${position}`, {
      cause: error,
      details: { field: 'body', expected },
    });
  }
}

const statusOfCode: Readonly<Record<string, number>> = {
  [codes.invalidArgument]: 400,
  [codes.invalidDuration]: 400,
  [codes.unknownToxic]: 400,
  [codes.config]: 400,
  [codes.usage]: 400,
  [codes.notFound]: 404,
  [codes.alreadyExists]: 409,
  [codes.addressInUse]: 500,
  [codes.listenFailed]: 500,
};

function replyForError(error: unknown): Reply {
  if (error instanceof FaultlineError) {
    const status = typeof error.details.status === 'number' ? error.details.status : statusOfCode[error.code];
    return errorReply(status ?? 500, error.message);
  }
  return errorReply(500, messageOf(error));
}

function errorReply(status: number, message: string): Reply {
  return { status, json: { error: message, status } };
}

async function sendReply(
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  outcome: Outcome,
): Promise<void> {
  if ('json' in reply && reply.status >= 400) outcome.error = (reply.json as { error: string }).error;
  if (res.destroyed) return;
  res.statusCode = reply.status;
  let payload = '';
  if ('json' in reply) {
    res.setHeader('Content-Type', 'application/json');
    payload = JSON.stringify(reply.json);
  } else if ('text' in reply) {
    res.setHeader('Content-Type', reply.contentType);
    payload = reply.text;
  }
  if (payload !== '') res.setHeader('Content-Length', Buffer.byteLength(payload));
  await new Promise<void>((resolve) => {
    res.end(req.method === 'HEAD' ? undefined : payload, () => resolve());
    res.once('close', () => resolve());
  });
}

function buildRoutes(hub: ProxyHub): (segments: string[]) => Route | undefined {
  const created = (json: unknown): Reply => ({ status: 201, json });
  const ok = (json: unknown): Reply => ({ status: 200, json });
  const noContent: Reply = { status: 204 };
  const toxicBody = 'a JSON object like {"type":"latency","attributes":{"latency":100}}';
  const proxyBody = 'a JSON object like {"name":"redis","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}';

  const fixed: Record<string, Route> = {
    reset: {
      methods: {
        POST: async () => {
          await hub.reset();
          return noContent;
        },
      },
    },
    populate: {
      methods: {
        POST: async (request) => {
          const body = await request.body('a JSON array of proxies');
          return created({ proxies: await hub.populate(body as ProxyInput[]) });
        },
      },
    },
    version: {
      methods: {
        // Toxiproxy ≥ 2.7 writes this exact text, space and newline included.
        GET: async () => ({
          status: 200,
          text: `{"version": "${await hub.version()}"}\n`,
          contentType: 'application/json;charset=utf-8',
        }),
      },
    },
    metrics: {
      methods: {
        GET: async () => ({
          status: 200,
          text: renderMetrics(hub.stats()),
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
        }),
      },
    },
    proxies: {
      methods: {
        GET: async () => ok(sortedByKey(await hub.proxies())),
        POST: async (request) =>
          created(await hub.createProxy((await request.body(proxyBody)) as ProxyInput)),
      },
    },
  };

  const proxyRoute = (proxy: string): Route => {
    const update: Handler = async (request) => {
      await hub.getProxy(proxy); // 404 before looking at the body, as Toxiproxy does
      const body = await request.body('a JSON object with any of "listen", "upstream", "enabled"');
      return ok(await hub.updateProxy(proxy, body as Partial<ProxyInput>));
    };
    return {
      proxy,
      methods: {
        GET: async () => ok(await hub.getProxy(proxy)),
        POST: update,
        PATCH: update,
        DELETE: async () => {
          await hub.deleteProxy(proxy);
          return noContent;
        },
      },
    };
  };

  const toxicsRoute = (proxy: string): Route => ({
    proxy,
    methods: {
      GET: async () => ok(await hub.toxics(proxy)),
      POST: async (request) => {
        await hub.getProxy(proxy);
        return ok(await hub.addToxic(proxy, (await request.body(toxicBody)) as ToxicInput));
      },
    },
  });

  const toxicRoute = (proxy: string, toxic: string): Route => {
    const update: Handler = async (request) => {
      await hub.getToxic(proxy, toxic);
      const body = await request.body('a JSON object with "attributes" and/or "toxicity"');
      return ok(await hub.updateToxic(proxy, toxic, body as Partial<ToxicInput>));
    };
    return {
      proxy,
      toxic,
      methods: {
        GET: async () => ok(await hub.getToxic(proxy, toxic)),
        POST: update,
        PATCH: update,
        DELETE: async () => {
          await hub.removeToxic(proxy, toxic);
          return noContent;
        },
      },
    };
  };

  return (segments) => {
    const [first, proxy, third, toxic, ...rest] = segments;
    if (first === undefined || rest.length > 0) return undefined;
    if (proxy === undefined) return Object.hasOwn(fixed, first) ? fixed[first] : undefined;
    if (first !== 'proxies' || proxy === '') return undefined;
    if (third === undefined) return proxyRoute(proxy);
    if (third !== 'toxics') return undefined;
    if (toxic === undefined) return toxicsRoute(proxy);
    return toxic === '' ? undefined : toxicRoute(proxy, toxic);
  };
}

/** Go's encoder sorts map keys; clients that diff responses expect the same order. */
function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as T;
  return sorted;
}
