import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { basename } from 'node:path';
import type { RunPhase } from '../core/events.js';
import type { JournalRecord } from './journal.js';

/**
 * The canonical digest of a run: SHA-256 over canonical lines built from its journal, so two runs of the
 * same scenario and seed that came out the same give the same digest, and a changed fault or outcome
 * changes it. Left out: everything that differs between two such runs — ids, times, measured durations,
 * op counts and probe poll counts (they follow the machine's speed), error wording, and machine names
 * (pids, ports, temp paths, the host name), which become stable names (`pid#1`, `port#1`, `${run.dir}`)
 * numbered in the order they first appear. Where the journal's order is not meaningful (concurrent
 * injections, cleanup heals, probe samples), lines are sorted. docs/evidence.md ("Digest") lists it all.
 */
export const digestVersion = 1;

export interface JournalDigest {
  /** Hex SHA-256 of the canonical lines, each followed by `\n`. */
  readonly sha256: string;
  /** What went in: records read, and how many of each kind fed the lines. */
  readonly covered: DigestCounts;
  /** The canonical lines, when asked for (`{ canonical: true }`): what was hashed. */
  readonly canonical?: readonly string[];
}

export interface DigestCounts {
  readonly records: number;
  readonly phases: number;
  readonly injections: number;
  readonly heals: number;
  /** Probe results covered (those in the heal phase are not). */
  readonly probeResults: number;
  /** Op records read; only the set of their functions (`f`) is covered. */
  readonly ops: number;
  readonly checks: number;
  readonly cleanups: number;
  /** Records of a type this version does not know, left out. */
  readonly skipped: number;
  /** Whether the journal ends with its verdict (a run killed by SIGKILL has none). */
  readonly verdict: boolean;
}

export interface DigestOptions {
  /** Return the canonical lines too (for `faultline digest --explain` and for debugging). */
  readonly canonical?: boolean;
}

/**
 * Where the probe samples of a run fall: their statuses are covered per stage. During the heal phase the
 * run stops its samplers, and a check it cuts short is journalled as failing ("This operation was
 * aborted") or not, by a few microseconds: those results are left out (`heal`).
 */
type Stage = 'setup' | 'before' | 'during' | 'heal' | 'after';
const stageOf: Readonly<Record<RunPhase, Stage>> = {
  setup: 'setup',
  'steady-state-before': 'before',
  method: 'during',
  heal: 'heal',
  'steady-state-after': 'after',
  checks: 'after',
  rollbacks: 'after',
  cleanup: 'after',
};
const stages: readonly Stage[] = ['setup', 'before', 'during', 'after'];

/** Digests the records of one journal, as parsed from its lines (header, events, verdict). */
export function digestJournal(records: Iterable<JournalRecord>, options: DigestOptions = {}): JournalDigest {
  const names = new StableNames();
  const counts = {
    records: 0,
    phases: 0,
    injections: 0,
    heals: 0,
    probeResults: 0,
    ops: 0,
    checks: 0,
    cleanups: 0,
    skipped: 0,
    verdict: false,
  };
  const head: string[] = [`faultline-digest ${digestVersion}`];
  const phases: string[] = [];
  const injections = new Map<number, { line: string; heal: string }>();
  const setupHeals: string[] = [];
  /** Per stage and probe name: the statuses seen (setup: the last one only — readiness polls until it passes). */
  const probes = new Map<Stage, Map<string, Set<string>>>();
  const functions = new Set<string>();
  const checks: string[] = [];
  const planned: string[] = [];
  const cleanups: string[] = [];
  let verdict = 'verdict none (the journal has no verdict line: the run did not finish)';
  let stage: Stage = 'setup';
  for (const record of records) {
    counts.records++;
    switch (record.type) {
      case 'op': {
        counts.ops++;
        const f = (record.op as { f?: unknown }).f;
        if (typeof f === 'string') functions.add(f);
        break;
      }
      case 'probe': {
        if (stage === 'heal') break;
        counts.probeResults++;
        const byName = probes.get(stage) ?? new Map<string, Set<string>>();
        probes.set(stage, byName);
        const name = names.text(record.name);
        const seen = byName.get(name) ?? new Set<string>();
        byName.set(name, seen);
        if (stage === 'setup') seen.clear();
        seen.add(record.ok ? 'ok' : 'failing');
        break;
      }
      case 'journal':
        head.push(
          `journal version=${record.version}`,
          `scenario name=${canonicalJson(record.scenario.name)} file=${canonicalJson(basename(record.scenario.file))} tags=${canonicalJson(record.scenario.tags)}`,
          `seed ${record.seed}`,
        );
        break;
      case 'run':
        break; // its seed and verdict are the header's and the verdict record's
      case 'schedule':
        // The plan is the seed's, so it is covered whole: instants included (they are not measured).
        for (const step of record.injections) {
          planned.push(
            `planned entry=${step.entry} tick=${step.tick} at=${step.atMs} heal=${step.healAtMs ?? 'end'} kind=${canonicalJson(step.kind)} params=${canonicalJson(names.value(step.params))}${step.start === undefined ? '' : ` start=${canonicalJson(step.start)}`}`,
          );
        }
        break;
      case 'phase':
        counts.phases++;
        phases.push(`phase ${record.name} ${record.state}`);
        // The heal phase is inside the method: at its end, the method's stage resumes.
        if (record.state === 'start') stage = stageOf[record.name] ?? stage;
        else if (record.name === 'heal') stage = 'during';
        break;
      case 'fault.inject':
        counts.injections++;
        injections.set(record.id, {
          line: `inject kind=${canonicalJson(record.kind)} label=${canonicalJson(names.text(record.label))} params=${canonicalJson(names.value(record.params))}`,
          heal: 'none',
        });
        break;
      case 'fault.heal': {
        counts.heals++;
        const outcome = record.error === undefined ? 'ok' : 'failed';
        const injection = injections.get(record.id);
        if (injection !== undefined) injection.heal = outcome;
        else setupHeals.push(`undo label=${canonicalJson(names.text(record.label))} heal=${outcome}`);
        break;
      }
      case 'check':
        counts.checks++;
        checks.push(
          `check checker=${canonicalJson(record.checker)} valid=${canonicalJson(record.valid)} anomalies=${record.anomalyCount} types=${canonicalJson([...new Set(record.anomalies.map((anomaly) => anomaly.type))].sort())}`,
        );
        break;
      case 'cleanup':
        counts.cleanups++;
        cleanups.push(
          `cleanup residue=${canonicalJson(names.text(record.residue))} outcome=${record.outcome}`,
        );
        break;
      case 'verdict':
        counts.verdict = true;
        verdict = `verdict ${record.verdict}`;
        break;
      default:
        counts.skipped++;
    }
  }
  const lines = [...head, ...planned, ...phases];
  lines.push(...[...injections.values()].map(({ line, heal }) => `${line} heal=${heal}`).sort());
  lines.push(...setupHeals.sort());
  for (const at of stages) {
    const byName = probes.get(at);
    if (byName === undefined) continue;
    const probeLines = [...byName].map(
      ([name, seen]) =>
        `probe stage=${at} name=${canonicalJson(name)} ${at === 'setup' ? 'last' : 'seen'}=${['ok', 'failing'].filter((status) => seen.has(status)).join(',')}`,
    );
    lines.push(...probeLines.sort());
  }
  lines.push(`ops functions=${canonicalJson([...functions].sort())}`);
  lines.push(...checks, ...cleanups.sort(), verdict);
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return {
    sha256: hash.digest('hex'),
    covered: counts,
    ...(options.canonical === true ? { canonical: lines } : {}),
  };
}

/** JSON with object keys sorted, so two equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What the run directory (a temp dir of a random name) is called: the scenario's own name for it. */
const runDirName = '\u0024{run.dir}';

/** Characters a path in a message ends before. */
const pathChars = String.raw`[^\s"'()\[\]{},;]`;

/**
 * Machine-dependent values, replaced by names numbered in the order they first appear in the journal:
 * the same run on another machine (or a second time here) reads the same.
 */
class StableNames {
  private readonly ports = new Map<string, string>();
  private readonly pids = new Map<string, string>();
  private readonly temps = new Map<string, string>();
  private readonly runDir = new RegExp(
    `(?:${pathChars}*/)?faultline-run-[A-Za-z0-9]{6}(?![A-Za-z0-9-])`,
    'g',
  );
  private readonly tempPath: RegExp;
  private readonly hostPort: RegExp;
  private readonly pid = /\bpid[ :=#]?(\d+)/gi;
  private readonly host: string | undefined;

  constructor() {
    const roots = [...new Set([tmpdir(), '/tmp', '/var/tmp'])].map(escapeRegExp);
    this.tempPath = new RegExp(`(?:${roots.join('|')})/${pathChars}+`, 'g');
    const name = hostname();
    // A short or common host name would replace ordinary words: only a distinctive one is named.
    this.host = name.length >= 4 && name !== 'localhost' ? name : undefined;
    const hosts = [String.raw`\d{1,3}(?:\.\d{1,3}){3}`, 'localhost', String.raw`\[[0-9a-fA-F:.]+\]`];
    if (this.host !== undefined) hosts.push(escapeRegExp(this.host));
    this.hostPort = new RegExp(String.raw`\b(${hosts.join('|')}):(\d{1,5})\b`, 'g');
  }

  text(text: string): string {
    let out = text;
    if (out.includes('faultline-run-')) out = out.replace(this.runDir, () => runDirName);
    out = out.replace(this.tempPath, (path) => this.named(this.temps, path, 'tmp'));
    out = out.replace(this.hostPort, (_, host: string, port: string) => {
      return `${host === this.host ? 'host#1' : host}:${this.named(this.ports, port, 'port')}`;
    });
    out = out.replace(this.pid, (_, pid: string) => this.named(this.pids, pid, 'pid'));
    if (this.host !== undefined && out.includes(this.host)) out = out.replaceAll(this.host, 'host#1');
    return out;
  }

  /** A value with its strings named, and numbers under a `pid` / `port` key (`pid`, `targetPid`, `port` …). */
  value(value: unknown, key = ''): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number' && Number.isInteger(value)) {
      if (/^pid$|Pid$/.test(key)) return this.named(this.pids, String(value), 'pid');
      if (/^port$|Port$/.test(key)) return this.named(this.ports, String(value), 'port');
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => this.value(item, key));
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(
        Object.entries(value).map(([field, item]) => [field, this.value(item, field)]),
      );
    return value;
  }

  private named(names: Map<string, string>, value: string, prefix: string): string {
    const known = names.get(value);
    if (known !== undefined) return known;
    const name = `${prefix}#${names.size + 1}`;
    names.set(value, name);
    return name;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
