/**
 * Model-based fuzzing of the Toxiproxy-compatible API: random sequences of valid and invalid requests
 * (and batches of concurrent, conflicting ones) against a real server, checked against a reference model
 * of the proxy table after every step.
 *
 * Invariants: the server never crashes; every status is the one the model predicts; every refusal is a
 * JSON error with a stable code and (for 4xx) the field; a refused request changes nothing; the proxy
 * table equals the model; the listening sockets are exactly the enabled proxies' (counted, and checked by
 * connecting to every port).
 *
 * Short by default. FAULTLINE_FUZZ_API_RUNS=<n> runs more (each up to FAULTLINE_FUZZ_COMMANDS steps);
 * FAULTLINE_FUZZ_SEED and FAULTLINE_FUZZ_PATH replay a failure (both are printed when one happens).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProxyHub } from '../../src/api/hub.js';
import { type ApiServer, startApiServer } from '../../src/api/server.js';
import { envInteger, fuzzRuns, fuzzSeed } from '../fuzz-env.js';
import { busyPort, listeningServers, rawExchange, startEcho, tryConnect } from './helpers.js';

const defaultSeed = 20_240_611;
const runs = fuzzRuns('API', 40);
const seed = fuzzSeed(defaultSeed);
const replayPath = process.env.FAULTLINE_FUZZ_PATH;
/** fast-check's hint for replaying a shrunk command sequence (`replayPath` in its report). */
const commandsReplay = process.env.FAULTLINE_FUZZ_REPLAY;
const maxCommands = envInteger('FAULTLINE_FUZZ_COMMANDS', 60, 1);
const token = 'fuzz-token';

// ---------------------------------------------------------------------------------------------------
// The model: the proxy table as the API shows it.

interface ToxicJson {
  readonly attributes: Record<string, number>;
  readonly name: string;
  readonly type: string;
  readonly stream: string;
  readonly toxicity: number;
}

interface ProxyJson {
  readonly name: string;
  /** `127.0.0.1:*` in a prediction: bound on a port the kernel picks. */
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicJson[];
}

/** Name → proxy, in the server's order (a Map, like the hub's, so `__proto__` is an ordinary name). */
type Table = ReadonlyMap<string, ProxyJson>;

/** Attribute names and defaults of the toxic types the fuzzer uses. */
const toxicKinds: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  latency: { latency: 0, jitter: 0 },
  noop: {},
  bandwidth: { rate: 0 },
  limit_data: { bytes: 0 },
};
const integerAttributes = new Set(['bytes']);

interface World {
  readonly apiPort: number;
  readonly fixedPorts: readonly number[];
  readonly busy: number;
  readonly upstreams: readonly string[];
}

/** What a request should do: its status and, on success, the table after it. */
interface Outcome {
  readonly status: number;
  readonly next: Table;
  /** The fields a 4xx may name (any of them: validation order is not part of the contract). */
  readonly fields?: readonly string[];
  /** The JSON the response must carry (a proxy or toxic, possibly with a `*` port). */
  readonly body?: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function portOf(listen: string): number {
  const text = listen.slice(listen.lastIndexOf(':') + 1);
  return text === '*' ? Number.NaN : Number(text);
}

/** Mirrors the server's listen rule: 127.0.0.1 or localhost (what the fuzzer sends), port 0 or ≥ 1024. */
function validListen(value: unknown): value is string {
  const match = typeof value === 'string' ? /^(127\.0\.0\.1|localhost):(\d{1,5})$/.exec(value) : null;
  if (match === null) return false;
  const port = Number(match[2]);
  return port === 0 || (port >= 1024 && port <= 65535);
}

function validUpstream(value: unknown): value is string {
  return typeof value === 'string' && /^127\.0\.0\.1:\d{1,5}$/.test(value) && portOf(value) <= 65535;
}

function validName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !value.includes('/') && value !== '.' && value !== '..';
}

/** The hub's rule for "already listens there": same host (localhost = 127.0.0.1), port 0 = any. */
function listenMatches(live: string, wanted: string): boolean {
  const host = (listen: string): string => {
    const h = listen.slice(0, listen.lastIndexOf(':'));
    return h === 'localhost' ? '127.0.0.1' : h;
  };
  const wantedPort = portOf(wanted);
  return host(live) === host(wanted) && (wantedPort === 0 || wantedPort === portOf(live));
}

function boundPorts(table: Table, world: World): Set<number> {
  const bound = new Set(world.fixedPorts);
  for (const proxy of table.values()) if (proxy.enabled) bound.add(portOf(proxy.listen));
  return bound;
}

function listenAfterBind(port: number): string {
  return `127.0.0.1:${port === 0 ? '*' : port}`;
}

/** A toxic body's problems (undefined when valid), and the toxic it makes. */
function checkToxic(body: unknown): { ok: false; fields: string[] } | { ok: true; toxic: ToxicJson } {
  if (!isRecord(body)) return { ok: false, fields: ['toxic', 'body'] };
  const kind = typeof body.type === 'string' && Object.hasOwn(toxicKinds, body.type) ? body.type : undefined;
  if (kind === undefined) return { ok: false, fields: ['type'] };
  const fields: string[] = [];
  const stream = body.stream ?? 'downstream';
  if (typeof stream !== 'string' || !['upstream', 'downstream', 'both'].includes(stream))
    fields.push('stream');
  const toxicity = body.toxicity ?? 1;
  if (typeof toxicity !== 'number' || toxicity < 0 || toxicity > 1) fields.push('toxicity');
  if (body.name !== undefined && body.name !== '' && !validName(body.name)) fields.push('name');
  const attributes = { ...(toxicKinds[kind] as Record<string, number>) };
  fields.push(...attributeProblems(kind, body.attributes, attributes));
  if (fields.length > 0) return { ok: false, fields };
  const name =
    body.name === undefined || body.name === '' ? `${kind}_${stream as string}` : (body.name as string);
  return {
    ok: true,
    toxic: { attributes, name, type: kind, stream: stream as string, toxicity: toxicity as number },
  };
}

/** Fields wrong in `given` attributes for `kind`; valid ones are merged into `into`. */
function attributeProblems(kind: string, given: unknown, into: Record<string, number>): string[] {
  if (given === undefined || given === null) return [];
  if (!isRecord(given)) return ['attributes'];
  const fields: string[] = [];
  const valid = toxicKinds[kind] as Record<string, number>;
  for (const [key, value] of Object.entries(given)) {
    const ok =
      Object.hasOwn(valid, key) &&
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= 0 &&
      (!integerAttributes.has(key) || Number.isInteger(value));
    if (ok) into[key] = value as number;
    else fields.push(`attributes.${key}`);
  }
  return fields;
}

/**
 * Why a proxy body (create, or a populate entry) is refused, undefined when it is valid: 400 with the
 * fields at fault, or 409 for two toxics of one name (the second is added to a proxy that has the first).
 */
function proxyProblems(body: unknown): { status: 400 | 409; fields: string[] } | undefined {
  if (!isRecord(body)) return { status: 400, fields: ['body', 'proxy'] };
  const fields: string[] = [];
  for (const key of ['name', 'listen', 'upstream'] as const) {
    if (body[key] === undefined || body[key] === '') fields.push(key);
  }
  if (!fields.includes('listen') && !validListen(body.listen)) fields.push('listen');
  if (!fields.includes('name') && !validName(body.name)) fields.push('name');
  if (!fields.includes('upstream') && !validUpstream(body.upstream)) fields.push('upstream');
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') fields.push('enabled');
  if (fields.length > 0) return { status: 400, fields };
  if (body.toxics === undefined) return undefined;
  if (!Array.isArray(body.toxics)) return { status: 400, fields: ['toxics'] };
  const names = new Set<string>();
  for (const [i, toxic] of body.toxics.entries()) {
    const checked = checkToxic(toxic);
    if (!checked.ok) {
      return {
        status: 400,
        fields: [...checked.fields.map((field) => `toxics[${i}].${field}`), `toxics[${i}]`],
      };
    }
    if (names.has(checked.toxic.name)) return { status: 409, fields: [`toxics[${i}].name`] };
    names.add(checked.toxic.name);
  }
  return undefined;
}

function newProxy(body: Record<string, unknown>): ProxyJson {
  const enabled = (body.enabled as boolean | undefined) ?? true;
  const listen = body.listen as string;
  const toxics = ((body.toxics as unknown[] | undefined) ?? []).map((toxic) => {
    const checked = checkToxic(toxic);
    assert.ok(checked.ok);
    return checked.toxic;
  });
  return {
    name: body.name as string,
    listen: enabled ? listenAfterBind(portOf(listen)) : listen,
    upstream: body.upstream as string,
    enabled,
    toxics,
  };
}

function refuse(table: Table, status: number, fields?: readonly string[]): Outcome {
  return fields === undefined ? { status, next: table } : { status, next: table, fields };
}

function withProxy(table: Table, proxy: ProxyJson): Table {
  const next = new Map(table);
  next.set(proxy.name, proxy);
  return next;
}

function predictCreate(table: Table, world: World, body: unknown): Outcome {
  const problems = proxyProblems(body);
  if (problems !== undefined) return refuse(table, problems.status, problems.fields);
  const input = body as Record<string, unknown>;
  if (table.has(input.name as string)) return refuse(table, 409, ['name']);
  const proxy = newProxy(input);
  const port = portOf(input.listen as string);
  if (proxy.enabled && port !== 0 && boundPorts(table, world).has(port))
    return refuse(table, 500, ['listen']);
  return { status: 201, next: withProxy(table, proxy), body: proxy };
}

function predictUpdate(table: Table, world: World, name: string, body: unknown): Outcome {
  const proxy = table.get(name);
  if (proxy === undefined) return refuse(table, 404, ['proxy']);
  if (body === parseError) return refuse(table, 400, ['body']);
  if (!isRecord(body)) return refuse(table, 400, ['proxy', 'body']);
  const fields: string[] = [];
  if (body.listen !== undefined && !validListen(body.listen)) fields.push('listen');
  if (body.upstream !== undefined && !validUpstream(body.upstream)) fields.push('upstream');
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') fields.push('enabled');
  if (fields.length > 0) return refuse(table, 400, fields);
  const listen = body.listen as string | undefined;
  const enabled = (body.enabled as boolean | undefined) ?? proxy.enabled;
  const move = listen !== undefined && !listenMatches(proxy.listen, listen);
  const upstream = (body.upstream as string | undefined) ?? proxy.upstream;
  const bind = enabled && (move || !proxy.enabled);
  const target = move ? portOf(listen as string) : portOf(proxy.listen);
  if (bind && target !== 0 && boundPorts(table, world).has(target)) return refuse(table, 500, ['listen']);
  const next: ProxyJson = {
    ...proxy,
    listen: bind ? listenAfterBind(target) : move ? (listen as string) : proxy.listen,
    upstream,
    enabled,
  };
  return { status: 200, next: withProxy(table, next), body: next };
}

function predictAddToxic(table: Table, name: string, body: unknown): Outcome {
  const proxy = table.get(name);
  if (proxy === undefined) return refuse(table, 404, ['proxy']);
  if (body === parseError) return refuse(table, 400, ['body']);
  const checked = checkToxic(body);
  if (!checked.ok) return refuse(table, 400, checked.fields);
  if (proxy.toxics.some((toxic) => toxic.name === checked.toxic.name)) return refuse(table, 409, ['name']);
  const next = withProxy(table, { ...proxy, toxics: [...proxy.toxics, checked.toxic] });
  return { status: 200, next, body: checked.toxic };
}

function predictUpdateToxic(table: Table, name: string, toxicName: string, body: unknown): Outcome {
  const proxy = table.get(name);
  if (proxy === undefined) return refuse(table, 404, ['proxy']);
  const index = proxy.toxics.findIndex((toxic) => toxic.name === toxicName);
  const toxic = proxy.toxics[index];
  if (toxic === undefined) return refuse(table, 404, ['toxic']);
  if (body === parseError) return refuse(table, 400, ['body']);
  if (!isRecord(body)) return refuse(table, 400, ['toxic', 'body']);
  const fields: string[] = [];
  for (const key of ['type', 'stream', 'name'] as const) {
    if (body[key] !== undefined && body[key] !== toxic[key]) fields.push(key);
  }
  const toxicity = body.toxicity ?? toxic.toxicity;
  if (typeof toxicity !== 'number' || toxicity < 0 || toxicity > 1) fields.push('toxicity');
  const attributes = { ...toxic.attributes };
  fields.push(...attributeProblems(toxic.type, body.attributes, attributes));
  if (fields.length > 0) return refuse(table, 400, fields);
  const updated: ToxicJson = { ...toxic, attributes, toxicity: toxicity as number };
  const toxics = proxy.toxics.map((each, i) => (i === index ? updated : each));
  return { status: 200, next: withProxy(table, { ...proxy, toxics }), body: updated };
}

function predictPopulate(table: Table, world: World, body: unknown): Outcome {
  if (body === parseError) return refuse(table, 400, ['body']);
  if (!Array.isArray(body)) return refuse(table, 400, ['proxies']);
  for (const [i, entry] of body.entries()) {
    const problems = proxyProblems(entry);
    if (problems !== undefined) {
      return refuse(
        table,
        problems.status,
        problems.fields.map((field) =>
          field === 'body' || field === 'proxy' ? `proxies[${i}]` : `proxies[${i}].${field}`,
        ),
      );
    }
  }
  const entries = body as Array<Record<string, unknown>>;
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    if (seen.has(entry.name as string)) return refuse(table, 400, [`proxies[${i}].name`]);
    seen.add(entry.name as string);
  }
  const plan = entries.map((entry, i) => {
    const old = table.get(entry.name as string);
    const keep =
      old !== undefined &&
      listenMatches(old.listen, entry.listen as string) &&
      old.upstream === entry.upstream;
    return { entry, old, keep, i };
  });
  const fresh = plan.filter((step) => !step.keep);
  const available = fresh.flatMap((step) => (step.old?.enabled ? [step.old] : []));
  const donors = new Map<number, ProxyJson>();
  for (const step of fresh) {
    const port = portOf(step.entry.listen as string);
    if (step.entry.enabled === false || port === 0) continue;
    const donor = available.find((old) => listenMatches(old.listen, step.entry.listen as string));
    if (donor === undefined) continue;
    donors.set(step.i, donor);
    available.splice(available.indexOf(donor), 1);
  }
  const bound = boundPorts(table, world);
  for (const step of fresh) {
    if (donors.has(step.i) || step.entry.enabled === false) continue;
    const port = portOf(step.entry.listen as string);
    if (port === 0) continue;
    if (bound.has(port)) return refuse(table, 500, [`proxies[${step.i}].listen`]);
    bound.add(port);
  }
  const next = new Map(table);
  const results: ProxyJson[] = [];
  for (const step of plan) {
    let proxy: ProxyJson;
    if (step.keep) {
      const old = step.old as ProxyJson;
      proxy = step.entry.toxics === undefined ? old : { ...old, toxics: newProxy(step.entry).toxics };
    } else {
      const donor = donors.get(step.i);
      proxy = newProxy(step.entry);
      if (donor !== undefined) proxy = { ...proxy, listen: donor.listen };
    }
    next.set(proxy.name, proxy);
    results.push(proxy);
  }
  return { status: 201, next, body: { proxies: results } };
}

function predictReset(table: Table, world: World): Outcome {
  const bound = boundPorts(table, world);
  for (const proxy of table.values()) {
    if (proxy.enabled) continue;
    const port = portOf(proxy.listen);
    if (port === 0) continue;
    if (bound.has(port)) return refuse(table, 500, ['listen']);
    bound.add(port);
  }
  const next = new Map<string, ProxyJson>();
  for (const [name, proxy] of table) {
    next.set(name, {
      ...proxy,
      enabled: true,
      listen: proxy.enabled ? proxy.listen : listenAfterBind(portOf(proxy.listen)),
      toxics: [],
    });
  }
  return { status: 204, next };
}

// ---------------------------------------------------------------------------------------------------
// Requests: what the generator makes (names by pool or by index into the live table) and how it is sent.

const parseError: unique symbol = Symbol('malformed JSON');

interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as raw bytes on a socket instead (for what an HTTP client will not send). */
  readonly raw?: string;
}

interface Call {
  readonly label: string;
  readonly http: HttpRequest;
  readonly predict: (table: Table, world: World) => Outcome;
}

/** `existing`: a proxy of the live table by index; `disabled`: a disabled one (else any); or a name. */
type NameChoice = { readonly existing: number } | { readonly disabled: number } | { readonly pool: unknown };
/** `portOf`: the port of an existing proxy; `squat`: the remembered port of a disabled one (free now). */
type ListenChoice =
  | string
  | number
  | { readonly portOf: number }
  | { readonly squat: number }
  | 'busy'
  | 'api';
type UpstreamChoice = string | number | { readonly upstream: number };

interface Resolver {
  readonly table: Table;
  readonly world: World;
}

function resolveName(choice: NameChoice, { table }: Resolver): unknown {
  if ('pool' in choice) return choice.pool;
  const all = [...table.values()];
  const disabled = all.filter((proxy) => !proxy.enabled);
  const [from, index] =
    'disabled' in choice && disabled.length > 0
      ? [disabled, choice.disabled]
      : [all, 'existing' in choice ? choice.existing : choice.disabled];
  return from.length === 0 ? 'a' : (from[index % from.length] as ProxyJson).name;
}

function resolveListen(choice: ListenChoice, { table, world }: Resolver): unknown {
  if (choice === 'busy') return `127.0.0.1:${world.busy}`;
  if (choice === 'api') return `127.0.0.1:${world.apiPort}`;
  if (typeof choice === 'object' && 'squat' in choice) {
    const ports = [...table.values()]
      .filter((proxy) => !proxy.enabled)
      .map((proxy) => portOf(proxy.listen))
      .filter((port) => port > 0);
    return `127.0.0.1:${ports.length === 0 ? 0 : ports[choice.squat % ports.length]}`;
  }
  if (typeof choice === 'object') {
    const proxies = [...table.values()];
    const port =
      proxies.length === 0 ? 0 : portOf((proxies[choice.portOf % proxies.length] as ProxyJson).listen);
    return `127.0.0.1:${Number.isNaN(port) ? 0 : port}`;
  }
  return choice;
}

function resolveUpstream(choice: UpstreamChoice, { world }: Resolver): unknown {
  if (typeof choice === 'object') return world.upstreams[choice.upstream % world.upstreams.length];
  return choice;
}

function proxyPath(name: unknown): string {
  return `/proxies/${encodeURIComponent(String(name))}`;
}

function json(body: unknown): string {
  return JSON.stringify(body);
}

/** The parsed body as the server will see it. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return parseError;
  }
}

// Generators.
const proxyNames = ['a', 'b', 'c', '__proto__', 'constructor', 'toString', 'odd name?#%', 'ü ✓'];
const nameArb: fc.Arbitrary<NameChoice> = fc.oneof(
  { weight: 5, arbitrary: fc.nat().map((existing) => ({ existing })) },
  { weight: 2, arbitrary: fc.constantFrom(...proxyNames).map((pool) => ({ pool })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'x/y', '..', 5, null).map((pool) => ({ pool })) },
);
const listenArb: fc.Arbitrary<ListenChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('127.0.0.1:0', 'localhost:0') },
  { weight: 3, arbitrary: fc.nat().map((portOf) => ({ portOf })) },
  { weight: 1, arbitrary: fc.constantFrom<ListenChoice>('busy', 'api') },
  {
    weight: 2,
    arbitrary: fc.constantFrom<ListenChoice>(
      '0.0.0.0:0',
      ':0',
      '127.0.0.1:80',
      '256.0.0.1:0',
      '127.1:0',
      'nowhere',
      '',
      5,
      '[::1]:1',
      '10.0.0.1:0',
    ),
  },
);
const upstreamArb: fc.Arbitrary<UpstreamChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((upstream) => ({ upstream })) },
  { weight: 1, arbitrary: fc.constantFrom<UpstreamChoice>('256.0.0.1:80', 'nowhere', '', 7, '[zz]:1') },
);
const enabledArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('yes', 1, null) },
);
const toxicNameArb = fc.constantFrom<unknown>(
  undefined,
  undefined,
  't1',
  '__proto__',
  'constructor',
  '',
  7,
  '..',
  'a/b',
);
const attributeValueArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 500 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 'abc', 1.5, null) },
);
const withoutUndefined = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

/** Well-formed toxics of the kinds above, with names that collide and look like Object.prototype's. */
const validToxicArb: fc.Arbitrary<Record<string, unknown>> = fc
  .constantFrom(...Object.keys(toxicKinds))
  .chain((type) =>
    fc.record({
      type: fc.constant(type),
      name: fc.constantFrom<unknown>(undefined, undefined, 't1', '__proto__', 'constructor'),
      stream: fc.constantFrom<unknown>(undefined, 'upstream', 'downstream', 'both'),
      toxicity: fc.constantFrom<unknown>(undefined, 0, 0.5, 1),
      attributes: fc.option(
        fc.dictionary(
          fc.constantFrom(...Object.keys(toxicKinds[type] as object), 'latency', 'constructor', 'toString'),
          fc.nat(1000),
          {
            maxKeys: 2,
          },
        ),
        { nil: undefined },
      ),
    }),
  )
  .map(withoutUndefined);

/** Anything in any field. */
const fuzzyToxicArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      type: fc.constantFrom<unknown>('latency', 'latency', 'noop', 'bandwidth', 'limit_data', 'nope', 5),
      name: toxicNameArb,
      stream: fc.constantFrom<unknown>(undefined, undefined, 'upstream', 'downstream', 'both', 'sideways'),
      toxicity: fc.constantFrom<unknown>(undefined, undefined, 0, 0.5, 1, 2, -0.1, 'x'),
      attributes: fc.option(
        fc.dictionary(fc.constantFrom('latency', 'jitter', 'rate', 'bytes', 'delay'), attributeValueArb, {
          maxKeys: 2,
        }),
        { nil: undefined },
      ),
    },
    { requiredKeys: [] },
  )
  .map(withoutUndefined);

const toxicArb = fc.oneof({ weight: 3, arbitrary: validToxicArb }, { weight: 1, arbitrary: fuzzyToxicArb });

interface ProxyChoice {
  readonly name: NameChoice;
  readonly listen: ListenChoice;
  readonly upstream: UpstreamChoice;
  readonly enabled: unknown;
  readonly omit: readonly string[];
  readonly toxics?: readonly Record<string, unknown>[];
}

/** Mostly well-formed proxies (so the table fills up), some with anything in any field. */
const proxyChoiceArb: fc.Arbitrary<ProxyChoice> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      name: fc.constantFrom(...proxyNames).map((pool): NameChoice => ({ pool })),
      listen: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<ListenChoice>('127.0.0.1:0', 'localhost:0') },
        { weight: 2, arbitrary: fc.nat().map((portOf): ListenChoice => ({ portOf })) },
        { weight: 2, arbitrary: fc.nat().map((squat): ListenChoice => ({ squat })) },
      ),
      upstream: fc.nat().map((upstream): UpstreamChoice => ({ upstream })),
      enabled: fc.constantFrom<unknown>(undefined, undefined, true, false),
      omit: fc.constant([]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      name: nameArb,
      listen: listenArb,
      upstream: upstreamArb,
      enabled: enabledArb,
      omit: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.subarray(['name', 'listen', 'upstream']) },
      ),
    }),
  },
);

function proxyBody(
  choice: ProxyChoice,
  resolver: Resolver,
  withToxics?: readonly Record<string, unknown>[],
): unknown {
  const body: Record<string, unknown> = {
    name: resolveName(choice.name, resolver),
    listen: resolveListen(choice.listen, resolver),
    upstream: resolveUpstream(choice.upstream, resolver),
  };
  if (choice.enabled !== undefined) body.enabled = choice.enabled;
  if (withToxics !== undefined) body.toxics = withToxics;
  for (const key of choice.omit) delete body[key];
  return body;
}

/** A generated call: resolved against the live table just before it is sent. */
type CallArb = fc.Arbitrary<(resolver: Resolver) => Call>;

const createArb: CallArb = proxyChoiceArb.map((choice) => (resolver) => {
  const body = proxyBody(choice, resolver);
  return {
    label: `create ${json(body)}`,
    http: { method: 'POST', path: '/proxies', body: json(body) },
    predict: (table, world) => predictCreate(table, world, body),
  };
});

const getArb: CallArb = nameArb.map((choice) => (resolver) => {
  const name = resolveName(choice, resolver);
  return {
    label: `get ${json(name)}`,
    http: { method: 'GET', path: proxyPath(name) },
    predict: (table) => {
      const proxy = validName(name) ? table.get(name) : undefined;
      return proxy === undefined
        ? refuse(table, 404, ['proxy', 'path'])
        : { status: 200, next: table, body: proxy };
    },
  };
});

/** Any mix of fields; or, as often, an existing proxy switched on or off, with a new upstream or listen. */
const updateArb: CallArb = fc
  .oneof(
    fc.record({
      name: nameArb,
      listen: listenArb,
      upstream: upstreamArb,
      enabled: enabledArb,
      method: fc.constantFrom('PATCH', 'POST'),
      keys: fc.subarray(['listen', 'upstream', 'enabled', 'name', 'bogus']),
    }),
    fc.record({
      name: fc.oneof(
        fc.nat().map((existing): NameChoice => ({ existing })),
        fc.nat().map((disabled): NameChoice => ({ disabled })),
      ),
      listen: fc.oneof(
        fc.constantFrom<ListenChoice>('127.0.0.1:0', 'busy'),
        fc.nat().map((portOf): ListenChoice => ({ portOf })),
      ),
      upstream: fc.nat().map((upstream): UpstreamChoice => ({ upstream })),
      enabled: fc.boolean(),
      method: fc.constant('PATCH'),
      keys: fc.constantFrom(
        ['enabled'],
        ['enabled', 'upstream'],
        ['upstream', 'enabled'],
        ['enabled', 'listen'],
        ['enabled', 'upstream', 'listen'],
      ),
    }),
  )
  .map((choice) => (resolver) => {
    const name = resolveName(choice.name, resolver);
    const all: Record<string, unknown> = {
      listen: resolveListen(choice.listen, resolver),
      upstream: resolveUpstream(choice.upstream, resolver),
      enabled: choice.enabled,
      name: 'ignored',
      bogus: 1,
    };
    const body = Object.fromEntries(
      choice.keys.map((key) => [key, all[key]]).filter(([, value]) => value !== undefined),
    );
    return {
      label: `${choice.method} ${json(name)} ${json(body)}`,
      http: { method: choice.method, path: proxyPath(name), body: json(body) },
      predict: (table, world) =>
        validName(name) ? predictUpdate(table, world, name, body) : refuse(table, 404, ['proxy', 'path']),
    };
  });

const deleteArb: CallArb = nameArb.map((choice) => (resolver) => {
  const name = resolveName(choice, resolver);
  return {
    label: `delete ${json(name)}`,
    http: { method: 'DELETE', path: proxyPath(name) },
    predict: (table) => {
      if (!validName(name) || !table.has(name)) return refuse(table, 404, ['proxy', 'path']);
      const next = new Map(table);
      next.delete(name);
      return { status: 204, next };
    },
  };
});

const addToxicArb: CallArb = fc.record({ proxy: nameArb, toxic: toxicArb }).map((choice) => (resolver) => {
  const name = resolveName(choice.proxy, resolver);
  return {
    label: `add toxic to ${json(name)} ${json(choice.toxic)}`,
    http: { method: 'POST', path: `${proxyPath(name)}/toxics`, body: json(choice.toxic) },
    predict: (table) =>
      validName(name) ? predictAddToxic(table, name, choice.toxic) : refuse(table, 404, ['proxy', 'path']),
  };
});

/** A toxic of the chosen proxy by index, or a name from the pool. */
function resolveToxic(proxy: unknown, index: number, table: Table): string {
  const toxics = validName(proxy) ? (table.get(proxy)?.toxics ?? []) : [];
  return toxics.length === 0 || index % 4 === 3
    ? 'latency_downstream'
    : (toxics[index % toxics.length] as ToxicJson).name;
}

const updateToxicArb: CallArb = fc
  .record({
    proxy: nameArb,
    toxic: fc.nat(),
    body: fc.record(
      {
        attributes: fc.dictionary(
          fc.constantFrom('latency', 'jitter', 'rate', 'bytes', 'delay'),
          attributeValueArb,
          {
            maxKeys: 2,
          },
        ),
        toxicity: fc.constantFrom<unknown>(0, 0.25, 1, 3),
        type: fc.constantFrom<unknown>('latency', 'noop'),
        name: fc.constantFrom<unknown>('renamed'),
      },
      { requiredKeys: [] },
    ),
  })
  .map((choice) => (resolver) => {
    const name = resolveName(choice.proxy, resolver);
    const toxic = resolveToxic(name, choice.toxic, resolver.table);
    return {
      label: `update toxic ${json(name)}/${json(toxic)} ${json(choice.body)}`,
      http: {
        method: 'PATCH',
        path: `${proxyPath(name)}/toxics/${encodeURIComponent(toxic)}`,
        body: json(choice.body),
      },
      predict: (table) =>
        validName(name)
          ? predictUpdateToxic(table, name, toxic, choice.body)
          : refuse(table, 404, ['proxy', 'path']),
    };
  });

const toxicReadArb: CallArb = fc
  .record({ proxy: nameArb, toxic: fc.nat(), remove: fc.boolean() })
  .map((choice) => (resolver) => {
    const name = resolveName(choice.proxy, resolver);
    const toxic = resolveToxic(name, choice.toxic, resolver.table);
    return {
      label: `${choice.remove ? 'remove' : 'get'} toxic ${json(name)}/${json(toxic)}`,
      http: {
        method: choice.remove ? 'DELETE' : 'GET',
        path: `${proxyPath(name)}/toxics/${encodeURIComponent(toxic)}`,
      },
      predict: (table) => {
        const proxy = validName(name) ? table.get(name) : undefined;
        if (proxy === undefined) return refuse(table, 404, ['proxy', 'path']);
        const found = proxy.toxics.find((each) => each.name === toxic);
        if (found === undefined) return refuse(table, 404, ['toxic']);
        if (!choice.remove) return { status: 200, next: table, body: found };
        const toxics = proxy.toxics.filter((each) => each !== found);
        return { status: 204, next: withProxy(table, { ...proxy, toxics }) };
      },
    };
  });

const populateArb: CallArb = fc
  .record({
    entries: fc.array(
      fc.record({
        proxy: proxyChoiceArb,
        toxics: fc.option(fc.array(toxicArb, { maxLength: 2 }), { nil: undefined, freq: 4 }),
      }),
      { maxLength: 3 },
    ),
    shape: fc.constantFrom('array', 'array', 'array', 'array', 'object'),
  })
  .map((choice) => (resolver) => {
    const entries = choice.entries.map((entry) => proxyBody(entry.proxy, resolver, entry.toxics));
    const body = choice.shape === 'array' ? entries : { proxies: entries };
    return {
      label: `populate ${json(body)}`,
      http: { method: 'POST', path: '/populate', body: json(body) },
      predict: (table, world) => predictPopulate(table, world, body),
    };
  });

const resetArb: CallArb = fc.constant((() => ({
  label: 'reset',
  http: { method: 'POST', path: '/reset' },
  predict: (table: Table, world: World) => predictReset(table, world),
})) as (resolver: Resolver) => Call);

/** Requests with one fixed answer that must change nothing. */
function fixed(
  label: string,
  http: HttpRequest,
  status: number,
  field: string,
): (resolver: Resolver) => Call {
  return () => ({ label, http, predict: (table) => refuse(table, status, [field]) });
}

const oddArb: CallArb = fc.oneof(
  fc.constant(
    fixed('huge URL', { method: 'GET', path: `/proxies/${'x'.repeat(17 * 1024)}` }, 431, 'headers'),
  ),
  fc.constant(
    fixed(
      'bad Host',
      {
        method: 'POST',
        path: '/proxies',
        headers: { Host: 'rebind.attacker.example:8474' },
        body: json({ name: 'evil', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }),
      },
      403,
      'host',
    ),
  ),
  fc.constant(
    fixed(
      'no token',
      { method: 'POST', path: '/reset', headers: { Authorization: '' } },
      401,
      'authorization',
    ),
  ),
  fc.constant(
    fixed(
      'wrong token',
      { method: 'DELETE', path: '/proxies/a', headers: { Authorization: 'Bearer nope' } },
      401,
      'authorization',
    ),
  ),
  fc.constant(
    fixed(
      'browser',
      { method: 'POST', path: '/reset', headers: { 'User-Agent': 'Mozilla/5.0 (X11)' } },
      403,
      'user-agent',
    ),
  ),
  fc.constant(fixed('unknown route', { method: 'GET', path: '/nope' }, 404, 'path')),
  fc.constant(fixed('wrong method', { method: 'PUT', path: '/proxies' }, 405, 'method')),
  fc.constant(fixed('bad percent-encoding', { method: 'GET', path: '/proxies/%E0%A4%A' }, 400, 'path')),
  fc.constant(fixed('garbage', { method: 'GARBAGE', path: '/', raw: 'GARBAGE\r\n\r\n' }, 400, 'method')),
  fc
    .constantFrom(
      '{bad',
      '[{',
      '',
      '{"name":',
      'nul',
      '"',
      '{"__proto__":{"name":"evil"},"listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}',
    )
    .chain((text) =>
      fc.constantFrom<(resolver: Resolver) => Call>(
        () => ({
          label: `create raw ${json(text)}`,
          http: { method: 'POST', path: '/proxies', body: text },
          predict: (table, world) =>
            text.trim() === '' || parsed(text) === parseError
              ? refuse(table, 400, ['body'])
              : predictCreate(table, world, parsed(text)),
        }),
        () => ({
          label: `populate raw ${json(text)}`,
          http: { method: 'POST', path: '/populate', body: text },
          predict: (table, world) =>
            text.trim() === '' ? refuse(table, 400, ['body']) : predictPopulate(table, world, parsed(text)),
        }),
        (resolver) => {
          const name = resolveName({ existing: 0 }, resolver);
          return {
            label: `update raw ${json(name)} ${json(text)}`,
            http: { method: 'PATCH', path: proxyPath(name), body: text },
            predict: (table, world) =>
              !validName(name) || !table.has(name)
                ? refuse(table, 404, ['proxy'])
                : text.trim() === ''
                  ? refuse(table, 400, ['body'])
                  : predictUpdate(table, world, name, parsed(text)),
          };
        },
      ),
    ),
);

// ---------------------------------------------------------------------------------------------------
// The real system and the checks.

interface Real {
  readonly server: ApiServer;
  readonly hub: ProxyHub;
  readonly world: World;
  readonly stats: Stats;
}

interface Stats {
  commands: number;
  requests: number;
  concurrentBatches: number;
  statuses: Map<number, number>;
  /** Binds refused because something outside the model held the port (another process's socket). */
  externalConflicts: number;
}

interface Reply {
  readonly status: number;
  readonly text: string;
}

function send(port: number, http: HttpRequest): Promise<Reply> {
  if (http.raw !== undefined) return sendRaw(port, http.raw);
  return new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...http.headers };
    if (headers.Authorization === '') delete headers.Authorization;
    const req = request(
      { host: '127.0.0.1', port, method: http.method, path: http.path, agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(http.body);
  });
}

async function sendRaw(port: number, raw: string): Promise<Reply> {
  const reply = await rawExchange(port, raw);
  return { status: reply.status, text: reply.body };
}

/** The proxy table as the server shows it, as a Map (own keys only, `__proto__` included). */
async function serverTable(port: number): Promise<Map<string, ProxyJson>> {
  const reply = await send(port, { method: 'GET', path: '/proxies' });
  assert.equal(reply.status, 200, reply.text);
  return new Map(Object.entries(JSON.parse(reply.text) as Record<string, ProxyJson>));
}

/** Whether `actual` is what `expected` predicts, a `*` port standing for any non-zero port. */
function matches(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'string' && expected.endsWith(':*')) {
    return (
      typeof actual === 'string' &&
      new RegExp(`^${expected.slice(0, -1).replace(/\./g, '\\.')}[1-9]\\d*$`).test(actual)
    );
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((each, i) => matches(each, actual[i]))
    );
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) return false;
    const keys = Object.keys(expected);
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((key) => Object.hasOwn(actual, key) && matches(expected[key], actual[key]))
    );
  }
  return Object.is(expected, actual);
}

function tableMatches(expected: Table, actual: ReadonlyMap<string, ProxyJson>): boolean {
  if (expected.size !== actual.size) return false;
  for (const [name, proxy] of expected) {
    if (!actual.has(name) || !matches(proxy, actual.get(name))) return false;
  }
  return true;
}

function show(table: ReadonlyMap<string, ProxyJson>): string {
  return json(
    Object.fromEntries(
      [...table].map(([name, proxy]) => [name, { ...proxy, toxics: proxy.toxics.map((t) => t.name) }]),
    ),
  );
}

/** The error-shape invariant for one reply. */
function checkReplyShape(call: Call, reply: Reply, fields: readonly string[] | undefined): void {
  const where = `${call.label} → ${reply.status} ${reply.text.slice(0, 300)}`;
  if (reply.status < 400) return;
  let body: { error?: unknown; status?: unknown; code?: unknown; field?: unknown };
  try {
    body = JSON.parse(reply.text) as typeof body;
  } catch {
    assert.fail(`not a JSON error: ${where}`);
  }
  assert.equal(typeof body.error, 'string', where);
  assert.equal(body.status, reply.status, where);
  assert.match(String(body.code), /^FL_ERR_[A-Z_]+$/, where);
  if (reply.status < 500) {
    assert.ok(typeof body.field === 'string' && body.field !== '', `4xx without a field: ${where}`);
    if (fields !== undefined)
      assert.ok(
        fields.includes(body.field as string),
        `field ${json(body.field)} not among ${json(fields)}: ${where}`,
      );
  } else {
    assert.equal(body.code, 'FL_ERR_ADDRESS_IN_USE', where);
    assert.match(String(body.field), /(^|\.)listen$/, where);
  }
}

/** Ports held by sockets of any process (from /proc), for telling an outside conflict from a bug. */
async function portInUseOutside(port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    // local_address is the second column; state 06 (TIME_WAIT) does not block a SO_REUSEADDR bind.
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[1]?.endsWith(hex.trim()) && columns[3] !== '06') return true;
    }
  }
  return false;
}

/** Whether `reply` is a bind refusal for a port some socket holds (see `portInUseOutside`). */
async function outsideConflict(reply: Reply): Promise<boolean> {
  if (reply.status !== 500) return false;
  const port = Number(/:(\d+): bind: address already in use/.exec(reply.text)?.[1]);
  return Number.isInteger(port) && (await portInUseOutside(port));
}

/** After each command: the table, the listener count and every proxy's port, against the model. */
async function checkListeners(table: Table, real: Real): Promise<void> {
  const enabled = [...table.values()].filter((proxy) => proxy.enabled);
  assert.equal(
    await listeningServers(),
    real.world.fixedPorts.length + enabled.length,
    `listeners for ${show(table)}`,
  );
  const bound = boundPorts(table, real.world);
  for (const proxy of table.values()) {
    const port = portOf(proxy.listen);
    if (proxy.enabled) {
      assert.equal(await tryConnect(port), 'connected', `enabled ${json(proxy.name)} on ${proxy.listen}`);
    } else if (port !== 0 && !bound.has(port)) {
      const result = await tryConnect(port);
      assert.ok(
        result === 'ECONNREFUSED' || (await portInUseOutside(port)),
        `disabled ${json(proxy.name)} on ${proxy.listen}: ${result}`,
      );
    }
  }
}

class Step implements fc.AsyncCommand<{ table: Table }, Real> {
  constructor(private readonly make: (resolver: Resolver) => Call) {}
  private text = 'step (not run)';

  check(): boolean {
    return true;
  }

  async run(model: { table: Table }, real: Real): Promise<void> {
    const call = this.make({ table: model.table, world: real.world });
    this.text = call.label;
    const predicted = call.predict(model.table, real.world);
    const reply = await send(real.world.apiPort, call.http);
    if (process.env.FAULTLINE_FUZZ_DEBUG)
      process.stderr.write(`${reply.status} ${call.label.slice(0, 160)}\n`);
    real.stats.commands++;
    real.stats.requests++;
    real.stats.statuses.set(reply.status, (real.stats.statuses.get(reply.status) ?? 0) + 1);
    const actual = await serverTable(real.world.apiPort);
    let expected = predicted;
    if (reply.status === 500 && predicted.status < 400) {
      // Allowed only when the port is held by something outside the model (another process, or a client
      // socket that took a disabled proxy's port): then it is a refusal like any other.
      assert.ok(await outsideConflict(reply), `${call.label}: unexpected 500 ${reply.text}`);
      real.stats.externalConflicts++;
      expected = refuse(model.table, 500);
    }
    assert.equal(
      reply.status,
      expected.status,
      `${call.label}: expected ${expected.status}, got ${reply.status} ${reply.text.slice(0, 300)}\nmodel ${show(model.table)}`,
    );
    checkReplyShape(call, reply, expected.fields);
    if (expected.body !== undefined) {
      assert.ok(
        matches(expected.body, JSON.parse(reply.text)),
        `${call.label}: body ${reply.text}\nexpected ${json(expected.body)}`,
      );
    }
    assert.ok(
      tableMatches(expected.next, actual),
      `${call.label}: table ${show(actual)}\nexpected ${show(expected.next)}`,
    );
    if (expected.status >= 400)
      assert.equal(show(actual), show(model.table), `${call.label}: a refusal changed the table`);
    model.table = actual;
    await checkListeners(actual, real);
  }

  toString(): string {
    return this.text;
  }
}

/** Two or three requests at once: the outcome must be that of some order of them. */
class Concurrent implements fc.AsyncCommand<{ table: Table }, Real> {
  constructor(private readonly makes: ReadonlyArray<(resolver: Resolver) => Call>) {}
  private text = 'concurrent (not run)';

  check(): boolean {
    return true;
  }

  async run(model: { table: Table }, real: Real): Promise<void> {
    const calls = this.makes.map((make) => make({ table: model.table, world: real.world }));
    this.text = `concurrently [${calls.map((call) => call.label).join(' | ')}]`;
    const replies = await Promise.all(calls.map((call) => send(real.world.apiPort, call.http)));
    real.stats.commands++;
    real.stats.concurrentBatches++;
    real.stats.requests += calls.length;
    for (const reply of replies)
      real.stats.statuses.set(reply.status, (real.stats.statuses.get(reply.status) ?? 0) + 1);
    const actual = await serverTable(real.world.apiPort);
    // As in Step: a 500 where success was predicted is a refusal like any other when something outside
    // the model holds the port (a released port taken by another process).
    const outside = await Promise.all(replies.map(outsideConflict));
    let conflicts = 0;
    const explained = permutations(calls.length).some((order) => {
      let table = model.table;
      conflicts = 0;
      for (const index of order) {
        const call = calls[index] as Call;
        let outcome = call.predict(table, real.world);
        const reply = replies[index] as Reply;
        if (reply.status === 500 && outcome.status < 400 && outside[index]) {
          outcome = refuse(table, 500);
          conflicts++;
        }
        if (outcome.status !== reply.status) return false;
        table = outcome.next;
      }
      return tableMatches(table, actual);
    });
    real.stats.externalConflicts += conflicts;
    assert.ok(
      explained,
      `${this.text}: no order explains ${json(replies.map((reply) => reply.status))} and ${show(actual)}\nmodel before ${show(model.table)}`,
    );
    for (const [i, call] of calls.entries()) checkReplyShape(call, replies[i] as Reply, undefined);
    model.table = actual;
    await checkListeners(actual, real);
  }

  toString(): string {
    return this.text;
  }
}

function permutations(n: number): number[][] {
  if (n <= 1) return [[0].slice(0, n)];
  return permutations(n - 1).flatMap((rest) =>
    Array.from({ length: n }, (_, i) => [...rest.slice(0, i), n - 1, ...rest.slice(i)]),
  );
}

const stepArbs: CallArb[] = [
  createArb,
  createArb,
  createArb,
  getArb,
  updateArb,
  updateArb,
  deleteArb,
  addToxicArb,
  addToxicArb,
  updateToxicArb,
  toxicReadArb,
  populateArb,
  populateArb,
  resetArb,
  oddArb,
];
const anyCall: CallArb = fc.oneof(...stepArbs);
const commandArbs = [
  ...stepArbs.map((arb) => arb.map((make) => new Step(make))),
  fc
    .array(fc.oneof(createArb, updateArb, deleteArb, populateArb, addToxicArb, resetArb, anyCall), {
      minLength: 2,
      maxLength: 3,
    })
    .map((makes) => new Concurrent(makes)),
];

test('API fuzzer: random request sequences keep the server, the model and the listeners in step', async (t) => {
  const echoes = [await startEcho(t), await startEcho(t)];
  const busy = await busyPort(t);
  const stats: Stats = {
    commands: 0,
    requests: 0,
    concurrentBatches: 0,
    statuses: new Map(),
    externalConflicts: 0,
  };
  t.diagnostic(
    `API fuzzer: seed ${seed}, ${runs} runs of up to ${maxCommands} commands (FAULTLINE_FUZZ_API_RUNS, FAULTLINE_FUZZ_COMMANDS, FAULTLINE_FUZZ_SEED, FAULTLINE_FUZZ_PATH)`,
  );
  const started = performance.now();
  const property = fc.asyncProperty(
    fc.commands(commandArbs, {
      maxCommands,
      size: 'max',
      ...(commandsReplay ? { replayPath: commandsReplay } : {}),
    }),
    async (commands) => {
      const hub = new ProxyHub({ seed: 1 });
      const server = await startApiServer({ hub, port: 0, token });
      try {
        const world: World = {
          apiPort: server.port,
          busy,
          fixedPorts: [server.port, busy, ...echoes.map((echo) => echo.port)],
          upstreams: [...echoes.map((echo) => echo.address), '127.0.0.1:1'],
        };
        await fc.asyncModelRun(
          () => ({ model: { table: new Map() as Table }, real: { server, hub, world, stats } }),
          commands,
        );
      } finally {
        await server.close();
        await hub.close();
      }
    },
  );
  try {
    await fc.assert(property, { seed, numRuns: runs, ...(replayPath ? { path: replayPath } : {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const path = /path: "?([\d:]+)"?/.exec(message)?.[1];
    const replay = /replayPath="([^"]+)"/.exec(message)?.[1];
    t.diagnostic(
      `replay: FAULTLINE_FUZZ_SEED=${seed}${path ? ` FAULTLINE_FUZZ_PATH=${path}` : ''}${
        replay ? ` FAULTLINE_FUZZ_REPLAY='${replay}'` : ''
      } node --test dist/test/api/fuzz.test.js`,
    );
    throw error;
  } finally {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const statuses = [...stats.statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    t.diagnostic(
      `API fuzzer: ${runs} runs, ${stats.commands} commands (${stats.concurrentBatches} concurrent batches), ${stats.requests} requests in ${seconds} s; statuses ${statuses}; outside port conflicts ${stats.externalConflicts}`,
    );
  }
  assert.equal(await listeningServers(), 3, 'only the echo servers and the busy port are left');
});
