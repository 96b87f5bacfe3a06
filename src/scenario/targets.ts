import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalid } from '../core/assert.js';
import type { Clock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { Ledger, LedgerEntry } from '../core/ledger.js';
import type { Random } from '../core/random.js';
import { type NetProtocol, Network } from '../net/index.js';
import {
  type CgroupController,
  cgroupResidues,
  cgroupSupport,
  FaultCgroup,
  freeLoopbackPorts,
  limitFiles,
  nodeCgroupFs,
} from '../os/index.js';
import {
  commandProbe,
  functionProbe,
  httpProbe,
  type LogSource,
  logProbe,
  type Probe,
  type RestartPolicy,
  requireExitCodes,
  requireJsonCheck,
  requireRange,
  requireRegex,
  requireStatus,
  Supervisor,
  tcpProbe,
} from '../process/index.js';
import { parseHostPort, TcpProxy, UdpProxy } from '../proxy/index.js';
import type { Scenario } from './format.js';
import { type LiveTarget, LiveTargets, resolveReferences } from './references.js';

export interface StartTargetsOptions {
  /** Each target's stop is recorded here (and the run's Supervisor's): draining it takes all down. */
  readonly ledger: Ledger;
  readonly clock: Clock;
  /** Proxies and networks draw from `random.fork('targets/NAME')`. */
  readonly random: Random;
  /** The run's directory: what `${run.dir}` stands for. */
  readonly runDir: string;
  /** The names of the free loopback ports to reserve for `${ports.NAME}` (`portNamesIn` of the scenario). */
  readonly ports?: readonly string[];
  /** Told one line per target brought up. */
  log?(line: string): void;
  /** Stops bringing targets up (those up are taken down) when it aborts. */
  readonly signal?: AbortSignal;
  /** How long a process's `ready` probe may take to pass (default 10 s). */
  readonly readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL when a process target is stopped (default 2 s). */
  readonly stopGraceMs?: number;
  /** The run's W3C traceparent: process targets get it as TRACEPARENT, so their spans join the trace. */
  readonly traceparent?: string;
  /** The run's OTLP receiver: process targets export their spans to it (span expectations read them). */
  readonly otlp?: { readonly url: string; readonly tracesUrl: string };
}

type TargetSpecs = NonNullable<Scenario['targets']>;
type Fields = Readonly<Record<string, unknown>>;

/**
 * Brings every target up in declaration order, resolving `${…}` references against the ones before it,
 * and records each one's stop in `options.ledger`. A target that fails to start is FL_ERR_… naming
 * `targets.NAME[.field]`, and the targets started before it are taken down before it is thrown.
 */
export async function startTargets(
  targets: Scenario['targets'],
  options: StartTargetsOptions,
): Promise<LiveTargets> {
  const specs: TargetSpecs = targets ?? {};
  const live = new LiveTargets(options.runDir, Object.keys(specs), await freePorts(options.ports ?? []));
  const stops: LedgerEntry[] = [];
  const run: Run = { options, live, stops, supervisor: undefined };
  try {
    for (const [name, spec] of Object.entries(specs)) {
      throwIfAborted(options.signal, `targets.${name}: aborted before it was started`);
      try {
        const resolved = resolveReferences(spec, live, `targets.${name}`) as Fields & { type: string };
        live.add(name, await startOne(run, name, resolved));
      } catch (error) {
        throw targetError(name, error);
      }
      options.log?.(`target ${name} (${spec.type}) up${describeLive(live.get(name))}`);
    }
    throwIfAborted(options.signal, 'targets: aborted while they were started; they were taken down');
    // A process already gone by the end of setup, with no policy to bring it back, cannot be under test.
    for (const [name, spec] of Object.entries(specs)) {
      const target = live.get(name);
      if (target.type !== 'process' || target.object.running || spec.type !== 'process') continue;
      if ((spec.restart ?? 'never') !== 'never') continue; // an object given in code may leave it out
      const { exitCode, exitSignal } = target.object;
      throw targetError(
        name,
        new FaultlineError(
          codes.processFailed,
          `exited (${exitSignal ?? `code ${exitCode}`}) before the method started; a target must keep running (give it a ready probe, or restart = "on-failure")`,
        ),
      );
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop.heal().catch(() => {});
    throw error;
  }
  return live;
}

/** A free loopback port for each name, all distinct (see `freeLoopbackPorts`). */
async function freePorts(names: readonly string[]): Promise<Map<string, number>> {
  const ports = await freeLoopbackPorts(names.length);
  return new Map(names.map((name, i) => [name, ports[i] as number]));
}

/** The target's own `readyTimeout` (ms), else the run's default, else the Supervisor's (10 s). */
function readyTimeout(own: unknown, fallback: number | undefined): { readyTimeoutMs?: number } {
  const ms = typeof own === 'number' ? own : fallback;
  return ms === undefined ? {} : { readyTimeoutMs: ms };
}

function throwIfAborted(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) throw new FaultlineError(codes.aborted, message, { cause: signal.reason });
}

interface Run {
  readonly options: StartTargetsOptions;
  readonly live: LiveTargets;
  readonly stops: LedgerEntry[];
  supervisor: Supervisor | undefined;
}

async function startOne(run: Run, name: string, spec: Fields & { type: string }): Promise<LiveTarget> {
  const { options } = run;
  const record = (label: string, stop: () => Promise<unknown>): void => {
    run.stops.push(options.ledger.push(label, async () => void (await stop())));
  };
  switch (spec.type) {
    case 'process': {
      if (run.supervisor === undefined) {
        const supervisor = new Supervisor({ clock: options.clock, stopGraceMs: options.stopGraceMs ?? 2000 });
        record('targets: supervisor', () => supervisor.stopAll());
        run.supervisor = supervisor;
      }
      const ready = spec.ready as Fields | undefined;
      const readyField = `targets.${name}.ready`;
      // A module ready probe is imported before the process starts: a bad one starts nothing.
      const readyFunction = ready?.type === 'module' ? await loadProbeFunction(ready, readyField) : undefined;
      const limits = spec.limits as Limits | undefined;
      const group = limits === undefined ? undefined : await limitGroup(run, name, limits);
      const target = await run.supervisor.start({
        name,
        argv: spec.argv as string[],
        env: {
          ...process.env,
          ...(options.traceparent === undefined ? {} : { TRACEPARENT: options.traceparent }),
          ...(options.otlp === undefined
            ? {}
            : {
                OTEL_EXPORTER_OTLP_ENDPOINT: options.otlp.url,
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: options.otlp.tracesUrl,
              }),
          ...((spec.env as Record<string, string> | undefined) ?? {}),
        },
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd as string }),
        ...(ready === undefined
          ? {}
          : {
              ready: (self: LogSource) =>
                buildProbe(
                  ready,
                  run.live,
                  readyField,
                  { clock: options.clock, self, since: 'start' },
                  readyFunction,
                ),
            }),
        ...(group === undefined ? {} : { launchThrough: (argv) => group.argvInto(argv) }),
        ...readyTimeout(spec.readyTimeout, options.readyTimeoutMs),
        ...(options.signal === undefined ? {} : { readySignal: options.signal }),
        restart: restartPolicy(spec.restart),
      });
      record(`targets.${name}: stop process`, () => target.stop({ graceMs: options.stopGraceMs ?? 2000 }));
      return { type: 'process', object: target };
    }
    case 'tcp-proxy':
    case 'udp-proxy': {
      const settings = {
        name,
        listen: spec.listen as string,
        upstream: spec.upstream as string,
        random: options.random.fork(`targets/${name}`),
        clock: options.clock,
      };
      const proxy = spec.type === 'tcp-proxy' ? new TcpProxy(settings) : new UdpProxy(settings);
      await proxy.start();
      record(`targets.${name}: stop ${spec.type}`, () => proxy.stop());
      return proxy instanceof TcpProxy
        ? { type: 'tcp-proxy', object: proxy }
        : { type: 'udp-proxy', object: proxy };
    }
    case 'network': {
      const network = new Network({
        protocol: spec.protocol as NetProtocol,
        nodes: spec.nodes as Record<string, { address: string }>,
        ...(spec.clients === undefined ? {} : { clients: spec.clients as string[] }),
        random: options.random.fork(`targets/${name}`),
        clock: options.clock,
      });
      try {
        await network.start();
      } catch (error) {
        await network.stop().catch(() => {});
        throw error;
      }
      record(`targets.${name}: stop network`, () => network.stop());
      return { type: 'network', object: network };
    }
    default:
      throw invalid(
        'type',
        `unknown target type ${JSON.stringify(spec.type)}`,
        'process, tcp-proxy, udp-proxy, network',
      );
  }
}

/** A process target's `limits`, in the resource fault kinds' names and units. */
interface Limits {
  readonly memoryMiB?: number;
  readonly percentOfOneCore?: number;
  readonly maxTasks?: number;
}

const limitControllers = [
  ['memoryMiB', 'memory'],
  ['percentOfOneCore', 'cpu'],
  ['maxTasks', 'pids'],
] as const;

/**
 * The cgroup a limited target runs in — the resource faults' own mechanism (os/cgroups.ts), made beside
 * faultline's own group: journalled as residue before it is created (so `faultline cleanup` removes it after a
 * crash), its removal recorded in the ledger before the process is started, so it goes after the process
 * stops. Unavailable cgroups are an error naming `limits`, before anything is made.
 */
async function limitGroup(run: Run, name: string, limits: Limits): Promise<FaultCgroup> {
  const { options } = run;
  const given = limitControllers.filter(([field]) => limits[field] !== undefined);
  const controllers = given.map(([, controller]) => controller);
  const support = await cgroupSupport();
  let group: FaultCgroup;
  const files: Partial<Record<CgroupController, (readonly [string, string])[]>> = {};
  try {
    for (const [field, controller] of given) {
      const status = support.controllers[controller];
      const rootHas = (file: string): Promise<boolean> =>
        status.mountPoint === undefined
          ? Promise.resolve(false)
          : nodeCgroupFs.exists(join(status.mountPoint, file));
      files[controller] = await limitFiles(controller, limits[field] as number, status.version ?? 1, rootHas);
    }
    group = await FaultCgroup.plan({
      controllers,
      pids: [],
      besidePid: process.pid,
      limits: files,
      clock: options.clock,
      support,
    });
  } catch (error) {
    throw limitsError(
      error,
      given.map(([field]) => field),
    );
  }
  const label = `targets.${name}: limits cgroup (${group.name})`;
  run.stops.push(
    options.ledger.push(label, () => group.remove(), cgroupResidues(group, `target ${name} limits`)),
  );
  try {
    await group.apply();
  } catch (error) {
    throw limitsError(
      error,
      given.map(([field]) => field),
    );
  }
  options.log?.(
    `target ${name}: runs in cgroup ${group.name} (${given.map(([field]) => `${field} ${limits[field]}`).join(', ')})`,
  );
  return group;
}

function limitsError(error: unknown, fields: readonly string[]): FaultlineError {
  const code = error instanceof FaultlineError ? error.code : codes.unavailable;
  return new FaultlineError(
    code,
    `limits: cannot run the target in a cgroup with ${fields.join(', ')}: ${messageOf(error)}`,
    {
      cause: error,
      details: { field: 'limits', expected: 'root and cgroup controllers for the limits (or no limits)' },
    },
  );
}

function restartPolicy(restart: unknown): RestartPolicy {
  return restart === 'on-failure' || restart === 'always' ? { policy: restart } : 'never';
}

export interface ProbeOfOptions {
  readonly clock: Clock;
  /** The process a log probe of its own name reads (a `ready` probe runs before it is in `live`). */
  readonly self?: LogSource;
  /** Log probes: the whole log (`start`) or only lines after the probe was made (`now`, the default). */
  readonly since?: 'start' | 'now';
  /** The probe's name in events and output (a steady-state entry's `name`); default: the probe's own. */
  readonly name?: string;
  /** How long one check may take (a steady-state entry's `timeout`); default: the probe's own. */
  readonly timeoutMs?: number;
}

/**
 * A Probe from the format's probe spec (`{ type: 'tcp' | 'http' | 'command' | 'log' | 'module', … }`,
 * references already resolved); `field` names it in errors (`steadyState[0].probe`). A `module` probe's
 * module is imported here: one that cannot be imported or exports no function is FL_ERR_CONFIG naming
 * `field.path`.
 */
export async function probeOf(
  spec: Fields,
  live: LiveTargets,
  field: string,
  options: ProbeOfOptions,
): Promise<Probe> {
  const fn = spec.type === 'module' ? await loadProbeFunction(spec, field) : undefined;
  return buildProbe(spec, live, field, options, fn);
}

/** What a `module` probe's function gets. */
export interface ProbeFunctionContext {
  /** Aborts when the check times out or the run ends. */
  readonly signal: AbortSignal | undefined;
  /** The scenario's targets started so far (`targets.get('api', 'process').object.pid`). */
  readonly targets: LiveTargets;
}

type ProbeFunction = (context: ProbeFunctionContext) => unknown;

/** Imports a `module` probe's module (its path already absolute, see format.ts) and finds its function. */
async function loadProbeFunction(spec: Fields, field: string): Promise<ProbeFunction> {
  const path = spec.path as string;
  const name = (spec.export as string | undefined) ?? 'probe';
  const refuse = (message: string, cause?: unknown): FaultlineError =>
    new FaultlineError(codes.config, `${field}.path: ${path}: ${message}`, {
      ...(cause === undefined ? {} : { cause }),
      details: {
        field: `${field}.path`,
        expected: `an ES module exporting a function named ${name} (see export)`,
      },
    });
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw refuse(`cannot import it: ${messageOf(error)}`, error);
  }
  const fn = module[name];
  if (typeof fn !== 'function') {
    const exported = Object.keys(module).join(', ') || 'nothing';
    throw refuse(`it exports no function named ${JSON.stringify(name)} (it exports: ${exported})`);
  }
  return fn as ProbeFunction;
}

function buildProbe(
  spec: Fields,
  live: LiveTargets,
  field: string,
  options: ProbeOfOptions,
  fn: ProbeFunction | undefined,
): Probe {
  const { clock } = options;
  const common = {
    clock,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  const at = (key: string): string => `${field}.${key}`;
  switch (spec.type) {
    case 'tcp': {
      const { host, port } = parseHostPort(spec.address, at('address'));
      return tcpProbe({ host, port, ...common });
    }
    case 'http':
      return httpProbe({
        url: spec.url as string,
        status: requireStatus(spec.status ?? '2xx', at('status')),
        ...(spec.body === undefined ? {} : { bodyMatches: requireRegex(spec.body, at('body')) }),
        ...(spec.json === undefined ? {} : { json: requireJsonCheck(spec.json, at('json')) }),
        ...common,
      });
    case 'command':
      return commandProbe({
        argv: spec.argv as string[],
        exitCode: requireExitCodes(spec.exitCode ?? 0, at('exitCode')),
        ...(spec.stdout === undefined ? {} : { stdoutMatches: requireRegex(spec.stdout, at('stdout')) }),
        ...(spec.json === undefined ? {} : { json: requireJsonCheck(spec.json, at('json')) }),
        ...(spec.range === undefined ? {} : { range: requireRange(spec.range, at('range')) }),
        ...common,
      });
    case 'log': {
      const name = spec.target as string;
      let target: LogSource;
      if (options.self !== undefined && options.self.name === name) target = options.self;
      else {
        try {
          target = live.get(name, 'process').object;
        } catch (error) {
          throw invalid(at('target'), messageOf(error), 'a process target declared before');
        }
      }
      return logProbe({
        target,
        pattern: requireRegex(spec.pattern, at('pattern')),
        since: options.since ?? 'now',
        ...(options.name === undefined ? {} : { name: options.name }),
      });
    }
    case 'module': {
      const call = fn as ProbeFunction;
      return functionProbe(
        options.name ?? `module ${String(spec.path)}#${String(spec.export ?? 'probe')}`,
        (signal) => call({ signal, targets: live }),
      );
    }
    default:
      throw invalid(
        at('type'),
        `unknown probe type ${JSON.stringify(spec.type)}`,
        'tcp, http, command, log, module',
      );
  }
}

/** The failure of target `name` as `targets.NAME[.field]: what failed`, its code and cause kept. */
function targetError(name: string, error: unknown): FaultlineError {
  const prefix = `targets.${name}`;
  if (!(error instanceof FaultlineError)) {
    return new FaultlineError(codes.internal, `${prefix}: ${messageOf(error)}`, {
      cause: error,
      details: { field: prefix, target: name },
    });
  }
  const inner = error.details.field;
  // Reference errors already name the full field; a component's own field is put under the target's.
  const within = inner !== undefined && (inner === prefix || /^[.[]/.test(inner.slice(prefix.length)));
  const field =
    inner === undefined ? prefix : within && inner.startsWith(prefix) ? inner : `${prefix}.${inner}`;
  let message = error.message;
  if (inner !== undefined && message.startsWith(`${inner}: `)) message = message.slice(inner.length + 2);
  return new FaultlineError(error.code, `${field}: ${message}`, {
    cause: error,
    details: { ...error.details, field, target: name },
  });
}

function describeLive(live: LiveTarget): string {
  switch (live.type) {
    case 'process':
      return ` pid ${live.object.pid}`;
    case 'tcp-proxy':
    case 'udp-proxy':
      return ` on ${live.object.listen} → ${live.object.upstream}`;
    case 'network':
      return `: ${live.object.nodes.length} node(s), ${live.object.clients.length} client(s)`;
  }
}
