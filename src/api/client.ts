import { codes, type ErrorCode } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { ProxyInput, ToxicInput, ToxiproxyApi } from './hub.js';
import type { ProxyState, ToxicSpec } from './toxiproxy-toxics.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * The Toxiproxy HTTP API as a typed client, for faultline's server or Toxiproxy itself. It implements
 * `ToxiproxyApi` like `ProxyHub`, so a test can move between in-process and remote without changes.
 * Failures are FaultlineErrors carrying the server's own message and a code mapped back from the status.
 */
export class ToxiproxyClient implements ToxiproxyApi {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  /**
   * `options.token`: the shared secret of a server started with `--token` (or `FAULTLINE_TOKEN`), sent
   * as `Authorization: Bearer <token>` on every request.
   */
  constructor(baseUrl = 'http://127.0.0.1:8474', options: { readonly token?: string | undefined } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.token = options.token;
  }

  async version(): Promise<string> {
    const text = await this.request<string>('GET', '/version', undefined, 'text');
    // Toxiproxy ≥ 2.7 answers {"version": "…"}; older ones the bare version.
    try {
      const parsed: unknown = JSON.parse(text);
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'version' in parsed &&
        typeof parsed.version === 'string'
      ) {
        return parsed.version;
      }
    } catch {
      // not JSON: an old server
    }
    return text.trim();
  }

  proxies(): Promise<Record<string, ProxyState>> {
    return this.request('GET', '/proxies');
  }

  createProxy(input: ProxyInput): Promise<ProxyState> {
    return this.request('POST', '/proxies', input);
  }

  async populate(inputs: ProxyInput[]): Promise<ProxyState[]> {
    const body = await this.request<{ proxies: ProxyState[] | null }>('POST', '/populate', inputs);
    return body.proxies ?? []; // Toxiproxy answers null for an empty populate
  }

  getProxy(name: string): Promise<ProxyState> {
    return this.request('GET', proxyPath(name));
  }

  updateProxy(name: string, changes: Partial<Omit<ProxyInput, 'name' | 'toxics'>>): Promise<ProxyState> {
    return this.request('PATCH', proxyPath(name), changes);
  }

  async deleteProxy(name: string): Promise<void> {
    await this.request('DELETE', proxyPath(name), undefined, 'none');
  }

  toxics(proxy: string): Promise<ToxicSpec[]> {
    return this.request('GET', `${proxyPath(proxy)}/toxics`);
  }

  addToxic(proxy: string, toxic: ToxicInput): Promise<ToxicSpec> {
    return this.request('POST', `${proxyPath(proxy)}/toxics`, toxic);
  }

  getToxic(proxy: string, toxic: string): Promise<ToxicSpec> {
    return this.request('GET', toxicPath(proxy, toxic));
  }

  updateToxic(proxy: string, toxic: string, changes: Partial<ToxicInput>): Promise<ToxicSpec> {
    return this.request('PATCH', toxicPath(proxy, toxic), changes);
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request('DELETE', toxicPath(proxy, toxic), undefined, 'none');
  }

  async reset(): Promise<void> {
    await this.request('POST', '/reset', undefined, 'none');
  }

  private async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    expect: 'json' | 'text' | 'none' = 'json',
  ): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const init: RequestInit = { method };
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    init.headers = headers;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, init);
      text = await response.text();
    } catch (error) {
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      throw new FaultlineError(codes.http, `${method} ${url}: ${messageOf(cause)}`, {
        cause: error,
        details: { method, url },
      });
    }
    if (!response.ok) throw responseError(method, url, response.status, text);
    if (expect === 'none') return undefined as T;
    if (expect === 'text') return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new FaultlineError(
        codes.http,
        `${method} ${url}: the response is not JSON: ${messageOf(error)}`,
        {
          cause: error,
          details: { method, url, status: response.status },
        },
      );
    }
  }
}

function proxyPath(name: string): string {
  return `/proxies/${encodeURIComponent(name)}`;
}

function toxicPath(proxy: string, toxic: string): string {
  return `${proxyPath(proxy)}/toxics/${encodeURIComponent(toxic)}`;
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(codes));

/** Turns an error reply back into the FaultlineError the server started from. */
function responseError(method: Method, url: string, status: number, text: string): FaultlineError {
  let message = text.trim() || `HTTP ${status}`;
  let code: ErrorCode | undefined;
  let field: string | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      if (typeof parsed.error === 'string') message = parsed.error;
      // faultline's servers send the code and the field; Toxiproxy's do not.
      if ('code' in parsed && typeof parsed.code === 'string' && knownCodes.has(parsed.code))
        code = parsed.code as ErrorCode;
      if ('field' in parsed && typeof parsed.field === 'string') field = parsed.field;
    }
  } catch {
    // a plain-text error (Toxiproxy's 403, 404 and 405)
  }
  const details: Record<string, unknown> = { method, url, status };
  // Only the server's own `field` is trusted: a Toxiproxy message's prefix (`json: cannot unmarshal …`) is no field.
  if (field !== undefined) details.field = field;
  return new FaultlineError(code ?? codeOf(status, message), message, { details });
}

function codeOf(status: number, message: string): ErrorCode {
  switch (status) {
    case 400:
      return /unknown toxic type|invalid toxic type/.test(message)
        ? codes.unknownToxic
        : codes.invalidArgument;
    case 401:
      return codes.unauthorized;
    case 403:
      return codes.forbidden;
    case 404:
      return codes.notFound;
    case 405:
      return codes.methodNotAllowed;
    case 409:
      return codes.alreadyExists;
    case 413:
    case 431:
      return codes.tooLarge;
    case 500:
      if (/address already in use/.test(message)) return codes.addressInUse;
      return /\blisten\b/.test(message) ? codes.listenFailed : codes.http;
    default:
      return codes.http;
  }
}
