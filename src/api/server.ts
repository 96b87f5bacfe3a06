import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { isIP, type Socket } from 'node:net';
import { describe, invalid } from '../core/assert.js';
import { realClock } from '../core/clock.js';
import { codes, type ErrorCode } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { readJson } from '../core/json.js';
import { listenTcp } from '../core/listen.js';
import {
  bracketHost,
  formatHostPort,
  type HostName,
  isWildcardHost,
  loopbackHostNames,
  parseHostHeader,
  parseHostName,
  unbracketHost,
} from '../proxy/index.js';
import type { ProxyHub, ProxyInput, ToxicInput } from './hub.js';
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
  /**
   * A shared secret. When set, every request must carry `Authorization: Bearer <token>` (compared in
   * constant time); any other gets 401. It must be a bearer token as RFC 6750 defines one (letters,
   * digits and `-._~+/`, optionally ending in `=`): anything else could never be sent, and is refused.
   * Default: none (as Toxiproxy, which has no authentication).
   */
  token?: string;
  /**
   * `Host` header values accepted besides the server's own address and `localhost`, `127.0.0.1` and
   * `[::1]` with its port (or no port). `name` accepts that name with any port, `name:port` only that
   * port; `*` accepts any Host, which turns off the guard against DNS rebinding. An IPv6 address goes in
   * brackets, as in a Host header: `[fd00::1]`, `[fd00::1]:8474`. An entry that is none of these is refused.
   */
  allowedHosts?: readonly string[];
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
/** The request line (URL included) and headers together; more gets 431. Node's default, made explicit. */
const maxHeaderBytes = 16 * 1024;
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
  const tokenDigest = options.token === undefined ? undefined : digest(checkToken(options.token, 'token'));
  const allowedHosts = checkAllowedHosts(options.allowedHosts);
  const routes = buildRoutes(hub);
  let requestCount = 0;
  const nextId = (): string => `fl${(++requestCount).toString().padStart(8, '0')}`;
  // Set once listening: the Host check needs the real port. Until then nothing gets through.
  let guard: Guard = () =>
    refusalOf(503, codes.unavailable, 'request', 'the API is starting: its access checks are not set yet');

  const server = createServer({ maxHeaderSize: maxHeaderBytes, requireHostHeader: false }, (req, res) => {
    const id = nextId();
    const started = realClock.now();
    res.setHeader('X-Toxiproxy-Request-Id', id);
    const outcome: Outcome = {};
    handle(req, res, { routes, maxBodyBytes, guard }, outcome)
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
  // What Node's parser refuses never reaches the handler: answer it here, as JSON like every error.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const id = nextId();
    const refusal = parseErrorRefusal(error);
    writeRaw(socket, id, refusal);
    log?.(`api ${id} - - ${refusal.status} 0ms error=${JSON.stringify(refusal.error)}`);
  });
  // CONNECT and unsupported `Expect` values bypass the request handler too.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    const id = nextId();
    const refusal = refusalOf(405, codes.methodNotAllowed, 'method', `method CONNECT not allowed`);
    writeRaw(socket, id, refusal);
    log?.(`api ${id} CONNECT ${req.url ?? '?'} 405 0ms error=${JSON.stringify(refusal.error)}`);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const reply = errorReply(
      417,
      codes.invalidArgument,
      'expect',
      `unsupported Expect: ${JSON.stringify(req.headers.expect ?? '')}; only 100-continue is supported`,
    );
    res.setHeader('X-Toxiproxy-Request-Id', nextId());
    void sendReply(req, res, reply, {});
  });

  await listenTcp(server, host, port, 'port');

  const address = server.address();
  const actual = address !== null && typeof address === 'object' ? address : { address: host, port };
  guard = makeGuard({
    listenAddress: actual.address,
    configuredHost: host,
    port: actual.port,
    allowedHosts,
    tokenDigest,
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatHostPort(actual.address, actual.port)}`,
    host: actual.address,
    port: actual.port,
    close: () => {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

/** A refused request as the API words it: `{error, status, code, field}`. */
interface Refusal {
  readonly error: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly field?: string;
}

function refusalOf(status: number, code: ErrorCode, field: string | undefined, error: string): Refusal {
  return field === undefined ? { error, status, code } : { error, status, code, field };
}

/** Writes a whole JSON error response straight to a socket (no ServerResponse exists) and closes it. */
function writeRaw(socket: Socket, id: string, refusal: Refusal): void {
  const body = JSON.stringify(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Toxiproxy-Request-Id: ${id}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The answer to a request Node's HTTP parser refused (`HPE_…` codes from llhttp). */
function parseErrorRefusal(error: NodeJS.ErrnoException): Refusal {
  const code = error.code ?? '';
  const reason = (error as { reason?: unknown }).reason;
  const detail = `${typeof reason === 'string' ? reason : messageOf(error)} (${code || 'parse error'})`;
  if (code === 'HPE_HEADER_OVERFLOW') {
    return refusalOf(
      431,
      codes.tooLarge,
      'headers',
      `request line and headers too large: the limit is ${maxHeaderBytes} bytes together (a long URL counts)`,
    );
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return refusalOf(408, codes.timeout, 'request', 'request not received in time');
  }
  const field =
    code === 'HPE_INVALID_METHOD'
      ? 'method'
      : code === 'HPE_INVALID_URL'
        ? 'url'
        : code === 'HPE_INVALID_VERSION'
          ? 'version'
          : /HEADER|CONTENT_LENGTH|TRANSFER_ENCODING|CONNECTION/.test(code)
            ? 'headers'
            : /CHUNK|BODY/.test(code)
              ? 'body'
              : 'request';
  return refusalOf(400, codes.invalidArgument, field, `malformed HTTP request: ${detail}`);
}

const bearerToken = /^[A-Za-z0-9._~+/-]+=*$/;
const bearerTokenExpected =
  'a bearer token (RFC 6750): letters, digits and "-._~+/", optionally ending in "="';

/**
 * Returns `token` if it can be sent as `Authorization: Bearer <token>` (RFC 6750's b64token), else throws
 * naming `field`. The message says what is wrong without repeating the secret.
 */
export function checkToken(token: unknown, field: string): string {
  if (typeof token === 'string' && bearerToken.test(token)) return token;
  let problem: string;
  if (typeof token !== 'string') problem = `got ${typeof token}`;
  else if (token === '') problem = 'got an empty string';
  else {
    const body = token.replace(/=+$/, '');
    const bad = [...body].findIndex((char) => !/[A-Za-z0-9._~+/-]/.test(char));
    problem =
      bad < 0
        ? 'got only "="'
        : `character ${JSON.stringify([...body][bad])} at position ${bad + 1} is not allowed`;
  }
  throw invalid(field, `expected ${bearerTokenExpected}; ${problem}`, bearerTokenExpected);
}

/** The `allowedHosts` option checked entry by entry: `*` or a host name (`parseHostName`). */
function checkAllowedHosts(allowedHosts: unknown): (HostName | '*')[] {
  if (allowedHosts === undefined) return [];
  if (!Array.isArray(allowedHosts)) {
    throw invalid('allowedHosts', `expected an array of host names, got ${describe(allowedHosts)}`);
  }
  return allowedHosts.map((entry: unknown, i) =>
    entry === '*' ? '*' : parseHostName(entry, `allowedHosts[${i}]`),
  );
}

/** Who may talk to the API: undefined when the request may go on, else the refusal. */
type Guard = (req: IncomingMessage) => Refusal | undefined;

/**
 * The checks before routing. The `Host` header must name this server (its address or a loopback name,
 * with its port or none): a web page that reaches the API through DNS rebinding sends its own host name.
 * IP literals pass when the server listens on every interface (rebinding needs a name). Then the token.
 */
function makeGuard(options: {
  listenAddress: string;
  configuredHost: string;
  port: number;
  allowedHosts: readonly (HostName | '*')[];
  tokenDigest: Buffer | undefined;
}): Guard {
  const { port, tokenDigest } = options;
  const ours = new Set(loopbackHostNames);
  const wildcard = isWildcardHost(options.listenAddress);
  for (const name of [options.listenAddress, options.configuredHost]) {
    if (!isWildcardHost(name)) ours.add(bracketHost(name.toLowerCase()));
  }
  const anyPort = new Set<string>();
  const exact = new Set<string>();
  let anyHost = false;
  for (const entry of options.allowedHosts) {
    if (entry === '*') anyHost = true;
    else if (entry.port === undefined) anyPort.add(entry.name);
    else exact.add(`${entry.name}:${entry.port}`);
  }
  const allowed = `${[...ours].map((name) => `${name}:${port}`).join(', ')}${
    anyPort.size + exact.size > 0 ? `, ${[...anyPort, ...exact].join(', ')}` : ''
  }`;
  return (req) => {
    const header = req.headers.host;
    if (!anyHost) {
      if (header === undefined || header === '') {
        if (req.httpVersion !== '1.0') {
          return refusalOf(400, codes.invalidArgument, 'host', 'missing Host header (HTTP/1.1 requires one)');
        }
      } else {
        const parsed = parseHostHeader(header);
        const ok =
          parsed !== undefined &&
          (anyPort.has(parsed.name) ||
            (parsed.port !== undefined && exact.has(`${parsed.name}:${parsed.port}`)) ||
            ((parsed.port === undefined || parsed.port === port) &&
              (ours.has(parsed.name) || (wildcard && isIP(unbracketHost(parsed.name)) !== 0))));
        if (!ok) {
          return refusalOf(
            403,
            codes.forbidden,
            'host',
            `Host ${JSON.stringify(header)} not allowed: the API answers to ${allowed} (see --allow-host); this guards against DNS rebinding`,
          );
        }
      }
    }
    if (tokenDigest !== undefined) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
      // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first wrong byte.
      const same = timingSafeEqual(digest(match?.[1] ?? ''), tokenDigest);
      if (!same || match === null) {
        return refusalOf(
          401,
          codes.unauthorized,
          'authorization',
          req.headers.authorization === undefined
            ? 'missing Authorization header: this server requires "Authorization: Bearer <token>"'
            : 'invalid token in the Authorization header',
        );
      }
    }
    return undefined;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
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

interface Handling {
  readonly routes: (segments: string[]) => Route | undefined;
  readonly maxBodyBytes: number;
  readonly guard: Guard;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  { routes, maxBodyBytes, guard }: Handling,
  outcome: Outcome,
): Promise<void> {
  const send = (reply: Reply): Promise<void> => sendReply(req, res, reply, outcome);
  const refusal = guard(req);
  if (refusal !== undefined) {
    res.setHeader('Connection', 'close'); // the body, if any, is not read
    if (refusal.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="faultline"');
    await send({ status: refusal.status, json: refusal });
    return;
  }
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0] ?? '/';
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    await send(
      errorReply(
        400,
        codes.invalidArgument,
        'path',
        `bad request path: invalid percent-encoding in ${JSON.stringify(path)}`,
      ),
    );
    return;
  }
  const route = routes(segments);
  if (route === undefined) {
    await send(errorReply(404, codes.notFound, 'path', `404 page not found: no route ${method} ${path}`));
    return;
  }
  const handler = Object.hasOwn(route.methods, method) ? route.methods[method as Method] : undefined;
  if (handler === undefined) {
    const allowed = Object.keys(route.methods).join(', ');
    res.setHeader('Allow', allowed);
    await send(
      errorReply(
        405,
        codes.methodNotAllowed,
        'method',
        `method ${method} not allowed on ${path}; allowed: ${allowed}`,
      ),
    );
    return;
  }
  // Toxiproxy's defence against DNS rebinding from web pages: browsers send `Mozilla/…`.
  if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    await send(errorReply(403, codes.forbidden, 'user-agent', 'User agent not allowed'));
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    res.setHeader('Connection', 'close');
    await send(errorReply(413, codes.tooLarge, 'body', tooLarge(maxBodyBytes)));
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

function tooLargeError(maxBodyBytes: number): FaultlineError {
  return new FaultlineError(codes.tooLarge, tooLarge(maxBodyBytes), { details: { field: 'body' } });
}

/** Reads the body as text; an oversized body rejects with 413 once it has been read (up to a bound). */
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

/** Request bodies nest 5 levels (populate's array → proxy → toxics → toxic → attributes); deeper is refused. */
const maxBodyDepth = 32;

function parseBody(text: string, expected: string): unknown {
  if (text.trim() === '') {
    throw new FaultlineError(codes.invalidArgument, `bad request body: empty body; expected ${expected}`, {
      details: { field: 'body', expected },
    });
  }
  return readJson(text, {
    maxDepth: maxBodyDepth,
    textName: 'body',
    error: (problem) =>
      new FaultlineError(
        codes.invalidArgument,
        `bad request body: ${problem.message} at position ${problem.offset}`,
        {
          details: { field: 'body', expected },
        },
      ),
  });
}

const statusOfCode: Readonly<Record<string, number>> = {
  [codes.invalidArgument]: 400,
  [codes.invalidDuration]: 400,
  [codes.unknownToxic]: 400,
  [codes.config]: 400,
  [codes.usage]: 400,
  [codes.unauthorized]: 401,
  [codes.forbidden]: 403,
  [codes.notFound]: 404,
  [codes.methodNotAllowed]: 405,
  [codes.alreadyExists]: 409,
  [codes.tooLarge]: 413,
  [codes.addressInUse]: 500,
  [codes.listenFailed]: 500,
};

function replyForError(error: unknown): Reply {
  if (error instanceof FaultlineError) {
    const given = error.details.status;
    const status = typeof given === 'number' ? given : (statusOfCode[error.code] ?? 500);
    const field = typeof error.details.field === 'string' ? error.details.field : undefined;
    // Every refusal names what it refuses; one without a field is about the request as a whole.
    return errorReply(status, error.code, field ?? (status < 500 ? 'request' : undefined), error.message);
  }
  return errorReply(500, codes.internal, undefined, messageOf(error));
}

/** Toxiproxy's `{"error","status"}`, plus faultline's stable `code` and the offending `field`. */
function errorReply(status: number, code: ErrorCode, field: string | undefined, message: string): Reply {
  return { status, json: refusalOf(status, code, field, message) };
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

/**
 * Go's encoder sorts map keys; clients that diff responses expect the same order. A null-prototype
 * object, so a proxy named `__proto__` is an own key and is serialised like any other.
 */
function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  const sorted = Object.create(null) as Record<string, T>;
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as T;
  return sorted;
}
