/**
 * A client of the demo service's protocol (see kv-service.ts). One connection per request (no keep-alive),
 * so a request never lands on a socket of a process that has since died: a refused connection means the
 * request never reached the service (ECONNREFUSED, a definite failure for the Recorder); a reset or a
 * timeout means it may or may not have taken effect.
 */
import { request } from 'node:http';
import { FailError } from '../public/index.js';

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

  /** Every key and its value. */
  async entries(signal?: AbortSignal): Promise<Record<string, unknown>> {
    return expectOk(await this.send('GET', '/kv', undefined, signal), 'scan').entries as Record<
      string,
      unknown
    >;
  }

  private send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        new URL(path, this.baseUrl),
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
          response.on('error', reject).on('end', () => {
            try {
              resolve({
                status: response.statusCode ?? 0,
                body: JSON.parse(text) as Record<string, unknown>,
              });
            } catch (error) {
              reject(
                new Error(`${method} ${path}: not a JSON reply (status ${response.statusCode})`, {
                  cause: error,
                }),
              );
            }
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}

/** A 200 reply's body; any other status is an error of unknown outcome. */
function expectOk(reply: Reply, what: string): Record<string, unknown> {
  if (reply.status !== 200) throw new Error(`${what}: status ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}
