/**
 * A client of the demo service's protocol (see kv-service.ts). One connection per request (no keep-alive),
 * so a request never lands on a socket of a process that has since died: a refused connection means the
 * request never reached the service (ECONNREFUSED, a definite failure for the Recorder); a reset or a
 * timeout means it may or may not have taken effect. Besides the map, the service's sets, counters and
 * queues (the scenario workloads' protocol; see kv-service.ts).
 */
import { request } from 'node:http';
import { FailError } from '../history/index.js';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class KvClient {
  constructor(readonly baseUrl: string) {}

  /** The key's value, or null when it has none (404). */
  async read(key: string, signal?: AbortSignal): Promise<unknown> {
    const reply = await this.send('GET', `/kv/${encodeURIComponent(key)}`, undefined, signal);
    if (reply.status === 404) return null;
    return expectOk(reply, 'read').value ?? null;
  }

  async write(key: string, value: unknown, signal?: AbortSignal): Promise<void> {
    expectOk(await this.send('PUT', `/kv/${encodeURIComponent(key)}`, { value }, signal), 'write');
  }

  /** Compare-and-set; a 409 (the key held something else) is a FailError: it definitely did not happen. */
  async cas(key: string, from: unknown, to: unknown, signal?: AbortSignal): Promise<void> {
    const reply = await this.send('POST', `/kv/${encodeURIComponent(key)}/cas`, { from, to }, signal);
    if (reply.status === 409) throw new FailError(`cas ${key}: it held ${JSON.stringify(reply.body.value)}`);
    expectOk(reply, 'cas');
  }

  /** The set's elements (`GET /set/<name>`). */
  async setRead(name: string, signal?: AbortSignal): Promise<unknown[]> {
    const reply = await this.send('GET', `/set/${encodeURIComponent(name)}`, undefined, signal);
    return expectOk(reply, 'set read').elements as unknown[];
  }

  async setAdd(name: string, element: unknown, signal?: AbortSignal): Promise<void> {
    expectOk(await this.send('POST', `/set/${encodeURIComponent(name)}/add`, { element }, signal), 'set add');
  }

  async counterRead(name: string, signal?: AbortSignal): Promise<number> {
    const reply = await this.send('GET', `/counter/${encodeURIComponent(name)}`, undefined, signal);
    return expectOk(reply, 'counter read').value as number;
  }

  async counterAdd(name: string, delta: number, signal?: AbortSignal): Promise<void> {
    const reply = await this.send('POST', `/counter/${encodeURIComponent(name)}/add`, { delta }, signal);
    expectOk(reply, 'counter add');
  }

  async enqueue(name: string, value: unknown, signal?: AbortSignal): Promise<void> {
    const reply = await this.send('POST', `/queue/${encodeURIComponent(name)}/enqueue`, { value }, signal);
    expectOk(reply, 'enqueue');
  }

  /** The head of the queue, removed; null when the queue was empty (404). */
  async dequeue(name: string, signal?: AbortSignal): Promise<unknown> {
    const reply = await this.send('POST', `/queue/${encodeURIComponent(name)}/dequeue`, undefined, signal);
    if (reply.status === 404 && reply.body.error === 'empty') return null;
    return expectOk(reply, 'dequeue').value;
  }

  /** Every key and its value. */
  async entries(signal?: AbortSignal): Promise<Record<string, unknown>> {
    return expectOk(await this.send('GET', '/kv', undefined, signal), 'scan').entries as Record<
      string,
      unknown
    >;
  }

  /** A request of any route, any reply: its status and body text (`path` '' is the base URL itself). */
  request(method: string, path: string, signal?: AbortSignal): Promise<{ status: number; text: string }> {
    return httpRequest(new URL(path, this.baseUrl), { method, signal });
  }

  private async send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Reply> {
    const reply = await httpRequest(new URL(path, this.baseUrl), { method, body, signal });
    try {
      return { status: reply.status, body: JSON.parse(reply.text) as Record<string, unknown> };
    } catch (error) {
      throw new Error(`${method} ${path}: not a JSON reply (status ${reply.status})`, { cause: error });
    }
  }
}

/**
 * One HTTP request on its own connection (no keep-alive; see above): the status and the body as text.
 * `body`, when given, is sent as JSON. Rejects on a connection error or when `signal` aborts.
 */
function httpRequest(
  url: URL,
  options: { readonly method?: string; readonly body?: unknown; readonly signal?: AbortSignal | undefined },
): Promise<{ status: number; text: string }> {
  const { method = 'GET', body, signal } = options;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method,
        agent: false,
        headers: { 'content-type': 'application/json' },
        ...(signal ? { signal } : {}),
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('error', reject).on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A 200 reply's body; any other status is an error of unknown outcome. */
function expectOk(reply: Reply, what: string): Record<string, unknown> {
  if (reply.status !== 200) throw new Error(`${what}: status ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}
