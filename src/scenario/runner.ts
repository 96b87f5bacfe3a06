import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckResult, combineValidity, summariseAnomalies } from '../checker/index.js';
import { type Clock, realClock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { type EventOf, publish, type RunPhase, runPhases, subscribe } from '../core/events.js';
import type { FaultContext } from '../core/fault.js';
import { createFault } from '../core/fault-registry.js';
import { Ledger } from '../core/ledger.js';
import { Random } from '../core/random.js';
import type { History } from '../history/index.js';
import { checkProbe, type Probe, waitFor } from '../process/index.js';
import type { OtlpReceiver, SpanExpectations, SpanRecord } from '../telemetry/index.js';
import { type ProbeSample, runCheck } from './checks.js';
import { resolveFaultParams } from './fault-references.js';
import { methodLimitMs, type Scenario } from './format.js';
import { checkHermeticity, type HermeticitySnapshot, takeSnapshot } from './hermeticity.js';
import { type InjectionRecord, runSchedule } from './method.js';
import { type LiveTargets, liveParams, portNamesIn, resolveReferences } from './references.js';
import { resolveEntries } from './schedule.js';
import { probeOf, startTargets } from './targets.js';
import { type RunningWorkload, startWorkload } from './workloads.js';

/** The seed a run of `scenario` uses: the one given, else the file's, else `FAULTLINE_SEED` or a fresh one. */
export function scenarioSeed(scenario: Scenario, override?: number): number {
  return override ?? scenario.experiment.seed ?? Random.freshSeed();
}

export { type RunPhase, runPhases };

/** `pass`: everything held; `fail`: a check or the steady state after failed; `unknown`: a check could not
 * decide; `error`: the run could not do what the scenario asks (setup, steady state before); `interrupted`. */
export type RunVerdict = 'pass' | 'fail' | 'unknown' | 'error' | 'interrupted';

export interface RunOptions {
  /** Default: the scenario's `experiment.seed`, else `FAULTLINE_SEED`, else a fresh one. */
  readonly seed?: number;
  readonly clock?: Clock;
  /**
   * Aborting it interrupts the run: the method ends, everything is healed and cleaned up. A string reason
   * (`controller.abort('SIGINT')`) or an Error's message says by what, in the result's reason.
   */
  readonly signal?: AbortSignal;
  /** Progress lines for people. */
  readonly log?: (line: string) => void;
  /**
   * A tracer already following the run's events (a `RunTracer`): targets get its traceparent, and span
   * expectations are checked against its spans. Without it, a scenario with expectations traces itself.
   */
  readonly tracer?: SpanSource;
}

/** What span expectations read from a tracer: `RunTracer` is one. */
export interface SpanSource {
  traceparent(): string | undefined;
  /** The finished spans, and the run's root span as it is so far. */
  spansSoFar(): SpanRecord[];
}

export interface ProbeOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface RunResult {
  readonly verdict: RunVerdict;
  /** Why, in a sentence: the first failed check, the step that went wrong. */
  readonly reason: string;
  readonly seed: number;
  readonly steadyStateBefore: readonly ProbeOutcome[];
  readonly steadyStateAfter: readonly ProbeOutcome[];
  readonly injections: readonly InjectionRecord[];
  readonly samples: readonly ProbeSample[];
  readonly checks: readonly CheckResult[];
  readonly rollbacks: readonly {
    readonly argv: readonly string[];
    readonly ok: boolean;
    readonly error?: string;
  }[];
  /**
   * The `probe-success` checks that held with their probe degraded (below `degradedBelowPercent`): the
   * target degraded but kept serving. The verdict stays `pass`; its reason says `degraded`.
   */
  readonly degraded: readonly string[];
  /** Calls the workload made and saw end (ok, fail or info): each is two ops of its history. */
  readonly ops: number;
  readonly elapsedMs: number;
}

type SteadyState = NonNullable<Scenario['steadyState']>[number];

/**
 * Runs a validated scenario: setup → steady state before → method (the fault schedule on the clock while
 * the workload runs and continuous probes sample) → heal → steady state after → checks → rollbacks →
 * cleanup. Every injection and every target is recorded in one Ledger, so heals and cleanup run however the
 * run ends (a failed step, the time limit, the signal aborting); a SIGKILL leaves what the journal knows.
 * Each phase is published as `phase` events. The same seed gives the same schedule and draws.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const clock = options.clock ?? realClock;
  const seed = scenarioSeed(scenario, options.seed);
  const random = new Random(seed, 'run');
  const log = options.log ?? (() => {});
  const started = clock.now();
  // Span expectations need the run's spans: trace the run (OpenTelemetry loaded only then).
  const expect = hasExpectations(scenario) ? scenario.expect : undefined;
  const telemetry = expect === undefined ? undefined : await import('../telemetry/index.js');
  const ownTracer =
    telemetry === undefined || options.tracer !== undefined
      ? undefined
      : await telemetry.startRunTracer({ clock });
  const tracer = options.tracer ?? ownTracer;
  let receiver: OtlpReceiver | undefined;
  publish({ type: 'run', state: 'start', scenario: scenario.experiment.name, seed, atMs: started });
  const limit = new AbortController();
  const limitTimer = clock.setTimeout(() => limit.abort(), scenario.experiment.timeLimit);
  const signal = AbortSignal.any([limit.signal, ...(options.signal === undefined ? [] : [options.signal])]);
  const ledger = new Ledger({ clock });
  const context: FaultContext = { ledger, clock, random: random.fork('faults'), signal, log };
  const result = {
    verdict: 'pass' as RunVerdict,
    reason: '',
    seed,
    steadyStateBefore: [] as ProbeOutcome[],
    steadyStateAfter: [] as ProbeOutcome[],
    injections: [] as InjectionRecord[],
    samples: [] as ProbeSample[],
    checks: [] as CheckResult[],
    degraded: [] as string[],
    rollbacks: [] as RunResult['rollbacks'][number][],
    ops: 0,
    elapsedMs: 0,
  };
  const stopWith = (verdict: RunVerdict, reason: string): void => {
    if (result.verdict === 'pass' || verdict === 'interrupted') {
      result.verdict = verdict;
      result.reason = reason;
    }
  };
  let current: RunPhase = 'setup';
  /** A check's result is the run's and an event (the journal, spans and reports see it as it ends). */
  const recordCheck = (check: CheckResult): void => {
    result.checks.push(check);
    publish(checkEvent(check, clock.now()));
  };
  const phase = async <T>(name: RunPhase, body: () => Promise<T>): Promise<T> => {
    current = name;
    publish({ type: 'phase', name, state: 'start', atMs: clock.now() });
    log(`${name}`);
    try {
      return await body();
    } finally {
      publish({ type: 'phase', name, state: 'end', atMs: clock.now() });
    }
  };
  const interrupted = (): boolean => {
    if (!signal.aborted) return false;
    stopWith(
      limit.signal.aborted ? 'error' : 'interrupted',
      limit.signal.aborted
        ? `the time limit (${scenario.experiment.timeLimit} ms) ran out during the ${current} phase`
        : `interrupted${byWhat(options.signal?.reason)} during the ${current} phase`,
    );
    return true;
  };

  let runDir: string | undefined;
  let snapshot: HermeticitySnapshot | undefined;
  let live: LiveTargets | undefined;
  let workload: RunningWorkload | undefined;
  let schedule: ReturnType<typeof runSchedule> | undefined;
  const sampling = new AbortController();
  let stopCounting = (): void => {};
  /** Ends the method: no more injections, samples or calls; what is in force is healed. Idempotent. */
  const endMethod = async (): Promise<void> => {
    sampling.abort();
    stopCounting();
    await schedule?.end();
    await workload?.stop();
  };
  try {
    live = await phase('setup', async () => {
      // What already exists, so that what the run leaves behind can be told apart (hermeticity.ts).
      snapshot = await takeSnapshot();
      runDir = await mkdtemp(join(tmpdir(), 'faultline-run-'));
      const dir = runDir;
      // Asked once the run has started, so the tracer following its events can name its root span.
      const traceparent = tracer?.traceparent();
      if (telemetry !== undefined) {
        // Targets' own spans come back here; closed in cleanup after the targets have stopped (LIFO).
        const started = await telemetry.startOtlpReceiver();
        receiver = started;
        ledger.push('stop the OTLP receiver', () => started.close());
      }
      ledger.push('remove the run directory', () => rm(dir, { recursive: true, force: true }), {
        kind: 'file',
        path: dir,
        recursive: true,
        label: 'run directory',
      });
      return startTargets(scenario.targets, {
        ledger,
        clock,
        random: random.fork('targets'),
        runDir: dir,
        ports: portNamesIn(scenario),
        log,
        signal,
        ...(traceparent === undefined ? {} : { traceparent }),
        ...(receiver === undefined ? {} : { otlp: receiver }),
      });
    });
    const probes: { entry: SteadyState; probe: Probe }[] = [];
    for (const [index, entry] of (scenario.steadyState ?? []).entries()) {
      const field = `steadyState[${index}].probe`;
      const spec = resolveReferences(entry.probe, live, field) as Readonly<Record<string, unknown>>;
      const options = { clock, name: entry.name, timeoutMs: entry.timeout };
      probes.push({ entry, probe: await probeOf(spec, live, field, options) });
    }
    const before = probes.filter(({ entry }) => entry.when === 'before' || entry.when === 'before-and-after');
    result.steadyStateBefore = await phase('steady-state-before', () => checkOnce(before, clock, signal));
    const red = result.steadyStateBefore.find((outcome) => !outcome.ok);
    if (red !== undefined) {
      stopWith(
        'error',
        `the steady state did not hold before the method: ${red.name}: ${red.error ?? 'failed'}`,
      );
    } else if (!interrupted()) {
      await phase('method', async () => {
        const faults = scenario.faults ?? [];
        const planned = resolveEntries(faults, { seed, limitMs: methodLimitMs(scenario) });
        // The plan itself is evidence: the journal and the digest show what the seed scheduled.
        publish({ type: 'schedule', injections: planned.injections, atMs: clock.now() });
        const methodStart = clock.now();
        if (scenario.workload !== undefined) {
          const spec = resolveReferences(scenario.workload, live as LiveTargets, 'workload') as NonNullable<
            Scenario['workload']
          >;
          workload = startWorkload(spec, {
            clock,
            random: random.fork('workload'),
            signal,
            log,
          });
        }
        schedule = runSchedule(planned, {
          clock,
          signal,
          log,
          inject: (step) =>
            createFault(
              step.kind,
              liveParams(
                step.kind,
                resolveFaultParams(
                  step.kind,
                  step.params,
                  live as LiveTargets,
                  `faults[${step.entry}].params`,
                ),
                live as LiveTargets,
                `faults[${step.entry}].params`,
              ),
            ).inject(context),
        });
        const running = schedule;
        result.injections = running.records as InjectionRecord[];
        if (workload !== undefined && faults.some((fault) => fault.afterOps !== undefined))
          stopCounting = countOps(workload, running);
        const stopSampling = AbortSignal.any([sampling.signal, signal]);
        for (const { entry, probe } of probes) {
          if (entry.when !== 'continuous' && entry.when !== 'during-faults') continue;
          void sample(probe, entry, {
            clock,
            stop: stopSampling,
            since: methodStart,
            // A during-faults probe is also checked while an entry waits for it to pass (`whenGreen`).
            active: () =>
              entry.when === 'continuous' || running.inForce > 0 || running.awaitsProbe(entry.name),
            into: result.samples,
            onResult: (ok, startedAt) => running.noteProbe(entry.name, ok, startedAt),
          });
        }
        const duration = scenario.experiment.duration;
        const ends: Promise<unknown>[] =
          duration !== undefined
            ? [clock.sleep(duration, signal).catch(() => {})]
            : [running.scheduled, ...(workload === undefined ? [] : [workload.done])];
        await Promise.race([
          Promise.all(ends),
          new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
        ]);
        interrupted();
        await phase('heal', endMethod);
      });
    }
    if (result.verdict === 'pass' || result.verdict === 'fail') {
      const after = probes.filter(({ entry }) => entry.when === 'after' || entry.when === 'before-and-after');
      // After the heals a system may take a moment to recover: each probe has its timeout to pass.
      result.steadyStateAfter = await phase('steady-state-after', () => waitGreen(after, clock));
      const stillRed = result.steadyStateAfter.find((outcome) => !outcome.ok);
      if (stillRed !== undefined)
        stopWith(
          'fail',
          `the steady state did not hold after the method: ${stillRed.name}: ${stillRed.error ?? 'failed'}`,
        );
      const history = workload?.history();
      await phase('checks', async () => {
        for (const spec of scenario.checks ?? []) {
          recordCheck(
            withReadError(
              await runCheck(spec, {
                ...(history === undefined ? {} : { history }),
                samples: result.samples,
                injections: result.injections,
                clock,
                timeoutMs: 60_000,
                model: workload?.model,
              }),
              history,
            ),
          );
        }
      });
      const validity = combineValidity(result.checks.map((check) => check.valid));
      const failed = result.checks.find((check) => check.valid === false);
      if (failed !== undefined)
        stopWith('fail', `${failed.checker}: ${failed.anomalies[0]?.message ?? 'invalid'}`);
      else if (validity === 'unknown') {
        const undecided = result.checks.find((check) => check.valid === 'unknown');
        stopWith('unknown', `${undecided?.checker}: ${undecided?.reason ?? 'undecided'}`);
      }
    }
  } catch (error) {
    if (!interrupted()) stopWith('error', messageOf(error));
  } finally {
    // Whatever ended the run, the faults are healed before the rollbacks run.
    await endMethod().catch((error: unknown) => stopWith('error', `heal: ${messageOf(error)}`));
    // Counted whatever ended the run: an interrupted run's ops were made all the same.
    result.ops = workload?.history().filter((op) => op.type !== 'invoke').length ?? 0;
    result.rollbacks = await phase('rollbacks', () => runRollbacks(scenario, live));
    const cleanupStart = clock.now();
    await phase('cleanup', async () => {
      try {
        await ledger.close();
      } catch (error) {
        stopWith('error', `cleanup: ${messageOf(error)}`);
      }
    });
    clock.clearTimeout(limitTimer);
    if (snapshot !== undefined) {
      const owned = runDir === undefined ? [] : [runDir];
      const hermeticity = await checkHermeticity(snapshot, { owned, cleanupMs: clock.now() - cleanupStart });
      recordCheck(hermeticity);
      const { cleanupMs = 0, settleMs = 0 } = hermeticity.stats ?? {};
      log(
        hermeticity.valid === true
          ? `hermeticity: cleanup took ${cleanupMs} ms; nothing left ${settleMs} ms after it`
          : `hermeticity: cleanup took ${cleanupMs} ms; ${hermeticity.anomalies.length} item(s) left ${settleMs} ms after it`,
      );
      if (hermeticity.valid === false)
        stopWith('fail', `hermeticity: ${hermeticity.anomalies.map((leak) => leak.message).join('; ')}`);
    }
    if (expect !== undefined && telemetry !== undefined && tracer !== undefined) {
      // After cleanup, like the hermeticity check: every span but the root has ended by now.
      const sources = { run: tracer.spansSoFar(), targets: receiver?.spans() ?? [] };
      for (const check of telemetry.evaluateExpectations(
        // The shapes (attributes, nameMatches) were checked while validating: these are their values.
        expect as SpanExpectations,
        sources,
      )) {
        recordCheck(check);
        if (check.valid === false)
          stopWith('fail', `${check.checker}: ${check.anomalies[0]?.message ?? 'invalid'}`);
      }
    }
  }
  // A fault that could not be injected (or healed) means the experiment did not run as written.
  const notDone = result.injections.find((record) => record.error !== undefined);
  if (notDone !== undefined)
    stopWith('error', `faults[${notDone.step.entry}]: ${notDone.step.kind}: ${notDone.error}`);
  result.degraded = result.checks
    .filter((check) => check.valid === true && check.stats?.degraded === 1)
    .map((check) => `${check.checker} ${(check.stats?.percent ?? 0).toFixed(1)} %`);
  if (result.verdict === 'pass')
    result.reason =
      result.degraded.length === 0
        ? 'every check held'
        : `every check held; degraded: ${result.degraded.join(', ')}`;
  result.elapsedMs = clock.now() - started;
  const { verdict, reason, ops, elapsedMs } = result;
  const end = { scenario: scenario.experiment.name, seed, verdict, reason, ops, elapsedMs };
  publish({ type: 'run', state: 'end', ...end, atMs: clock.now() });
  await ownTracer?.close();
  return result;
}

/** Whether the scenario expects anything of the run's spans. */
function hasExpectations(scenario: Scenario): boolean {
  return (scenario.expect?.spans?.length ?? 0) > 0 || scenario.expect?.faultsHealed === true;
}

/**
 * A check that found no successful read (`no successful scan`) says how the last one ended — the service
 * down, a timeout — since that is what a user needs to know.
 */
function withReadError(check: CheckResult, history: History | undefined): CheckResult {
  const f = check.valid === 'unknown' ? /^no successful (\w+)/.exec(check.reason ?? '')?.[1] : undefined;
  const last = f === undefined ? undefined : history?.findLast((op) => op.f === f && op.type !== 'invoke');
  if (last === undefined || last.type === 'ok') return check;
  return {
    ...check,
    reason: `${check.reason}; the last ${f} ended ${last.type}: ${last.error ?? 'no answer'}`,
  };
}

/** ` by SIGINT` for an abort reason that says what interrupted; '' for the default AbortError. */
function byWhat(reason: unknown): string {
  if (typeof reason === 'string' && reason !== '') return ` by ${reason}`;
  if (reason instanceof Error && reason.name !== 'AbortError') return ` by ${reason.message}`;
  return '';
}

/** A check's result as its event: the first anomalies only (a checker may find thousands), with the count. */
function checkEvent(check: CheckResult, atMs: number): EventOf<'check'> {
  return {
    type: 'check',
    checker: check.checker,
    valid: check.valid,
    ...(check.reason === undefined ? {} : { reason: check.reason }),
    anomalyCount: check.anomalies.length,
    anomalies: check.anomalies.slice(0, 20).map(({ type, message }) => ({ type, message })),
    ...(check.anomalies.length === 0 ? {} : { summaries: summariseAnomalies(check.anomalies) }),
    ...(check.stats === undefined ? {} : { stats: check.stats }),
    atMs,
  };
}

/** Each probe checked once, within its timeout. */
async function checkOnce(
  probes: readonly { entry: SteadyState; probe: Probe }[],
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  for (const { entry, probe } of probes) {
    const outcome = await checkProbe(probe, {
      clock,
      timeoutMs: entry.timeout,
      ...(signal ? { signal } : {}),
    });
    outcomes.push(
      outcome.ok
        ? { name: entry.name, ok: true }
        : { name: entry.name, ok: false, error: messageOf(outcome.error) },
    );
  }
  return outcomes;
}

/** Each probe checked until it passes, for at most its timeout (every 100 ms); `waitFor` publishes the checks. */
async function waitGreen(
  probes: readonly { entry: SteadyState; probe: Probe }[],
  clock: Clock,
): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  for (const { entry, probe } of probes) {
    try {
      await waitFor(probe, { timeoutMs: entry.timeout, intervalMs: 100, clock });
      outcomes.push({ name: entry.name, ok: true });
    } catch (error) {
      outcomes.push({ name: entry.name, ok: false, error: messageOf(error) });
    }
  }
  return outcomes;
}

/** Samples a probe every `entry.every` ms while `active()`, into `into` (times from `since`), until `stop` aborts. */
async function sample(
  probe: Probe,
  entry: SteadyState,
  options: {
    clock: Clock;
    stop: AbortSignal;
    since: number;
    active: () => boolean;
    into: ProbeSample[];
    onResult?: (ok: boolean, startedAt: number) => void;
  },
): Promise<void> {
  const { clock, stop } = options;
  while (!stop.aborted) {
    if (options.active()) {
      const startedAt = clock.now();
      const outcome = await checkProbe(probe, { clock, timeoutMs: entry.timeout, signal: stop });
      if (stop.aborted) return;
      options.into.push({
        probe: entry.name,
        atMs: startedAt - options.since,
        ok: outcome.ok,
        ...(outcome.ok ? {} : { error: messageOf(outcome.error) }),
      });
      options.onResult?.(outcome.ok, startedAt);
    }
    await clock.sleep(entry.every, stop).catch(() => {});
  }
}

/**
 * Tells the schedule how many ops the workload has completed (`afterOps`), and when it will complete no
 * more. The Recorder's `op` events say when to look; the count is the workload's own, so another run's ops
 * in the same process are not counted. Returns the function that stops it.
 */
function countOps(workload: RunningWorkload, schedule: ReturnType<typeof runSchedule>): () => void {
  let looking = false;
  let stopped = false;
  // The workload counts a call once its completion op is recorded and the call has returned: look a
  // moment later, once per burst of ops.
  const unsubscribe = subscribe(
    (event) => {
      if (event.type !== 'op' || (event.op as { type?: unknown }).type === 'invoke' || looking) return;
      looking = true;
      setImmediate(() => {
        looking = false;
        if (!stopped) schedule.noteOps(workload.opsSoFar);
      });
    },
    ['op'],
  );
  const end = (): void => {
    stopped = true;
    unsubscribe();
  };
  const finish = (): void => {
    if (stopped) return;
    end();
    schedule.noteOps(workload.opsSoFar);
    schedule.noteOpsDone();
  };
  workload.done.then(finish, finish);
  return end;
}

/** Runs each rollback command (references resolved), bounded to 30 s each; failures are recorded. */
async function runRollbacks(
  scenario: Scenario,
  live: LiveTargets | undefined,
): Promise<RunResult['rollbacks'][number][]> {
  const outcomes: RunResult['rollbacks'][number][] = [];
  for (const [index, rollback] of (scenario.rollbacks ?? []).entries()) {
    let argv = rollback.argv;
    try {
      if (live !== undefined)
        argv = resolveReferences(argv, live, `rollbacks[${index}].argv`) as readonly string[];
      await new Promise<void>((resolve, reject) => {
        const [file, ...args] = argv as [string, ...string[]];
        execFile(file, args, { timeout: 30_000 }, (error) => (error === null ? resolve() : reject(error)));
      });
      outcomes.push({ argv, ok: true });
    } catch (error) {
      outcomes.push({ argv, ok: false, error: messageOf(error) });
    }
  }
  return outcomes;
}
