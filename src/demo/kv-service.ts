/**
 * The demo service: a small HTTP/JSON key-value store, the system under test of `faultline demo`. A
 * teaching example, run as its own process:
 *
 *   node dist/src/demo/kv-service.js --data-dir <dir> --port <port> [--variant buggy|fixed]
 *                                    [--flush-interval-ms 1000] [--host 127.0.0.1]
 *
 * Protocol (JSON bodies; keys are URL path segments):
 *   GET  /health                          200 {"ok":true}
 *   GET  /kv                              200 {"entries":{"<key>":<value>,…}}     every key
 *   GET  /kv/<key>                        200 {"value":<value>}  or 404 {"error":"not found"}
 *   PUT  /kv/<key>       {"value":v}      200 {"ok":true}        (sets the key)
 *   POST /kv/<key>/cas   {"from":a,"to":b} 200 {"ok":true} if the key held a (a missing key holds null),
 *                                         else 409 {"error":"conflict","value":<current>}
 *   GET  /set/<name>                      200 {"elements":[…]}    a grow-only set (empty when never added to)
 *   POST /set/<name>/add {"element":e}    200 {"ok":true}
 *   GET  /counter/<name>                  200 {"value":n}         (0 when never added to)
 *   POST /counter/<name>/add {"delta":n}  200 {"ok":true}         n a finite number, negative allowed
 *   POST /queue/<name>/enqueue {"value":v} 200 {"ok":true}        v not null
 *   POST /queue/<name>/dequeue            200 {"value":<head>}    removed, or 404 {"error":"empty"}
 *   anything else                         400 (bad body), 404 (no such route)
 *
 * Data lives in <dir>/kv.log (see kv-store.ts), loaded on start. `--variant buggy` acknowledges a change
 * before it is on disk (flushed every --flush-interval-ms); `--variant fixed` only after fsync. SIGTERM
 * flushes and exits; SIGKILL is the crash the demo is about.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { KvStore, type Variant } from './kv-store.js';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    variant: { type: 'string', default: 'fixed' },
    'flush-interval-ms': { type: 'string', default: '1000' },
  },
});
const dataDir = args['data-dir'];
const variant = args.variant as Variant;
const flushIntervalMs = Number(args['flush-interval-ms']);
if (dataDir === undefined || (variant !== 'buggy' && variant !== 'fixed') || !(flushIntervalMs > 0)) {
  process.stderr.write(
    'usage: kv-service --data-dir <dir> [--port <port>] [--variant buggy|fixed] [--flush-interval-ms <ms>]\n',
  );
  process.exit(2);
}

const store = new KvStore({ dataDir, variant, flushIntervalMs });

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The request body as JSON, or undefined if it is not a JSON object. */
async function jsonBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of request) text += chunk;
  try {
    const body = JSON.parse(text) as unknown;
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const [, first, rawKey, action] = path.split('/');
  const key = rawKey === undefined ? undefined : decodeURIComponent(rawKey);
  const method = request.method ?? 'GET';
  if (path === '/health' && method === 'GET') return send(response, 200, { ok: true });
  if (path === '/kv' && method === 'GET') return send(response, 200, { entries: store.entries() });
  if (key === undefined || key === '') return send(response, 404, { error: 'no such route' });
  if (first === 'set' || first === 'counter' || first === 'queue') {
    return handleCollection(first, key, `${method} ${action ?? ''}`, request, response);
  }
  if (first !== 'kv') return send(response, 404, { error: 'no such route' });
  if (action === undefined && method === 'GET') {
    const { found, value } = store.get(key);
    return found ? send(response, 200, { value }) : send(response, 404, { error: 'not found' });
  }
  if (action === undefined && method === 'PUT') {
    const body = await jsonBody(request);
    if (body === undefined || !('value' in body))
      return send(response, 400, { error: 'expected {"value":…}' });
    store.put(key, body.value);
    return send(response, 200, { ok: true });
  }
  if (action === 'cas' && method === 'POST') {
    const body = await jsonBody(request);
    if (body === undefined || !('from' in body) || !('to' in body)) {
      return send(response, 400, { error: 'expected {"from":…,"to":…}' });
    }
    if (store.cas(key, body.from, body.to)) return send(response, 200, { ok: true });
    return send(response, 409, { error: 'conflict', value: store.get(key).value });
  }
  return send(response, 404, { error: 'no such route' });
}

/** The routes of sets, counters and queues: `route` is the method and the action after the name. */
async function handleCollection(
  kind: 'set' | 'counter' | 'queue',
  name: string,
  route: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const read = route === 'GET ';
  if (kind === 'set' && read) return send(response, 200, { elements: store.setElements(name) });
  if (kind === 'counter' && read) return send(response, 200, { value: store.counterValue(name) });
  if (kind === 'queue' && route === 'POST dequeue') {
    const { empty, value } = store.dequeue(name);
    return empty ? send(response, 404, { error: 'empty' }) : send(response, 200, { value });
  }
  const expected = { set: 'add element', counter: 'add delta', queue: 'enqueue value' }[kind];
  const [action, field] = expected.split(' ') as [string, string];
  if (route !== `POST ${action}`) return send(response, 404, { error: 'no such route' });
  const body = await jsonBody(request);
  const arg = body?.[field];
  const valid = kind === 'counter' ? typeof arg === 'number' && Number.isFinite(arg) : arg != null;
  if (!valid) return send(response, 400, { error: `expected {"${field}":…}` });
  if (kind === 'set') store.setAdd(name, arg);
  else if (kind === 'counter') store.counterAdd(name, arg as number);
  else store.enqueue(name, arg);
  return send(response, 200, { ok: true });
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => send(response, 500, { error: String(error) }));
});
server.listen(Number(args.port), args.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : args.port;
  process.stdout.write(
    `kv-service (${variant}) listening on http://${args.host}:${port}, ${store.size} keys loaded from ${store.file}\n`,
  );
});
process.on('SIGTERM', () => {
  server.close();
  store.close();
  process.exit(0);
});
