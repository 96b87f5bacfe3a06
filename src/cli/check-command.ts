import { readFile, writeFile } from 'node:fs/promises';
import { checkLinearizability } from '../check-driver/index.js';
import type { CheckResult, LinearizabilityCounterexample, ModelFactory } from '../checker/index.js';
import {
  createModel,
  formatAnomalySummary,
  isModelName,
  type ModelName,
  modelFactories,
  modelNames,
  summariseAnomalies,
} from '../checker/index.js';
import { codes } from '../core/codes.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { parseSize } from '../core/size.js';
import type { Op } from '../history/index.js';
import { decodeHistory, type HistoryFormat, historyFormats } from '../history/index.js';
import { renderCheckSummaryHtml, renderLinearizabilityHtml } from '../report/index.js';
import {
  checkInitial,
  parseInitial,
  parseRoleMap,
  renameOps,
  safetyCheckerNames,
  safetyCheckers,
  takesInitial,
} from './check-targets.js';
import { parseCommandLine, usageError, usageReminder } from './usage.js';

/**
 * Exit codes of `faultline check`. `badInput` covers a bad command line and a history file that is not a
 * well-formed history (unreadable, not UTF-8 text, not the format, no ops, a malformed op or value, an
 * invoke/complete mismatch, values the model cannot take); the message names the file, line and column.
 */
export const checkExit = { valid: 0, invalid: 1, unknown: 2, badInput: 3, internalError: 70 } as const;

/** Where `faultline check` prints: the process's stdout and stderr, or a test's buffers. */
export interface CheckOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CheckOutput = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
};

export const checkUsage = `Usage: faultline check <history> (--model <name> | --checker <name>) [options]

Checks a history (JSON lines, Jepsen EDN or Jepsen log lines; detected from the content).
Exit code: 0 valid, 1 invalid, 2 unknown (budget ran out), 3 bad input: a bad command line, or a file
that is not a history (not UTF-8 text, not the format, no ops, a malformed op, nesting deeper than 512
levels, calls that do not pair up); the message names the file, line and column. 70: an internal error
(a bug in faultline).

  --model <name>     linearizability against a model: ${modelNames.join(', ')}
  --checker <name>   a safety checker instead: ${safetyCheckerNames.join(', ')}
  --initial <value>  the initial value, as JSON (0, '"x"', '[1,2]'; a bare word that is not JSON is a
                     string): ${takesInitial()}
  --f <from>=<role>  map the history's op names onto the roles the checker or model knows
                     (e.g. --f add=write; repeat it or separate pairs with commas); roles:
${roleLines()}
  --timeout <dur>    time budget of the linearizability search (default 30s); past it the verdict is unknown
  --memory <size>    memory budget of the search, per partition: 512MiB, 2GiB, or bytes (default
                     a quarter of the available memory, at most 4 GiB); past it the verdict is unknown
  --html <file>      write a self-contained HTML page: the timeline of a non-linearizable verdict, or
                     a safety checker's anomalies summarised
  --format <f>       jsonl, edn or jepsen-log, when detection is not wanted
  --deadline <dur>   for --checker convergence: how long after healing replicas may take to agree
  --no-partition     check the whole history at once instead of per key (P-compositionality off)
  --json             print the full result (every anomaly) as JSON, and nothing else, to stdout
  -h, --help         show this help

Anomalies of one kind are summarised (count, first and last with their time from the history's
start, a sample); --json lists them all.
`;

function roleLines(): string {
  const lines = [
    ...modelNames.map((name) => `model ${name}: ${modelFactories[name].roles.join(', ')}`),
    ...safetyCheckerNames.map((name) => `checker ${name}: ${safetyCheckers[name]?.roles.join(', ')}`),
  ];
  return lines.map((line) => `                       ${line}`).join('\n');
}

/**
 * The error codes that mean bad input — a bad command line, a bad history file — and exit with
 * `checkExit.badInput`. Any other error, a FaultlineError with another code included, is a defect of
 * faultline's own and exits with `checkExit.internalError`.
 */
const badInputCodes: ReadonlySet<string> = new Set([
  codes.invalidArgument,
  codes.usage,
  codes.invalidDuration,
  codes.config,
]);

/** The exit code of `faultline check` for an error it caught. */
export function checkExitFor(error: unknown): number {
  return error instanceof FaultlineError && badInputCodes.has(error.code)
    ? checkExit.badInput
    : checkExit.internalError;
}

/** `faultline check …`: prints to `output` (default the process's) and returns the exit code. */
export async function checkCommand(argv: string[], output: CheckOutput = processOutput): Promise<number> {
  try {
    return await runCheck(argv, output);
  } catch (error) {
    const exit = checkExitFor(error);
    if (exit === checkExit.internalError) {
      // Not a refusal of the input but a defect of faultline's own: say so, with what a report needs.
      const code = error instanceof FaultlineError ? `${error.code}: ` : '';
      output.stderr(
        `faultline check: internal error (a bug in faultline; please report it): ${code}${messageOf(error)}\n`,
      );
      if (error instanceof Error && error.stack) output.stderr(`${error.stack}\n`);
      return exit;
    }
    const refusal = error as FaultlineError;
    output.stderr(`faultline check: ${messageOf(refusal)}\n`);
    if (typeof refusal.details.usage === 'string') output.stderr(`\n${usageReminder(refusal.details.usage)}`);
    return exit;
  }
}

async function runCheck(argv: string[], output: CheckOutput): Promise<number> {
  const { values, positionals } = parseCheckArgs(argv);
  if (values.help) {
    output.stdout(checkUsage);
    return checkExit.valid;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw usageError('give exactly one history file', checkUsage);
  if ((values.model === undefined) === (values.checker === undefined)) {
    throw usageError('give either --model (linearizability) or --checker', checkUsage);
  }
  const format = values.format;
  if (format !== undefined && !(historyFormats as readonly string[]).includes(format)) {
    throw usageError(
      `--format: expected jsonl, edn or jepsen-log, got ${JSON.stringify(format)}`,
      checkUsage,
    );
  }
  if (values.model !== undefined && !isModelName(values.model)) {
    throw usageError(
      `--model: unknown model ${JSON.stringify(values.model)}; valid: ${modelNames.join(', ')}`,
      checkUsage,
    );
  }
  const checker = values.checker === undefined ? undefined : safetyCheckers[values.checker];
  if (values.checker !== undefined && checker === undefined) {
    const valid = safetyCheckerNames.join(', ');
    throw usageError(
      `--checker: unknown checker ${JSON.stringify(values.checker)}; valid: ${valid}`,
      checkUsage,
    );
  }
  const target =
    values.model !== undefined
      ? { kind: 'model' as const, name: values.model, ...pick(modelFactories[values.model as ModelName]) }
      : { kind: 'checker' as const, name: values.checker as string, ...pick(checker as SafetyTarget) };
  const initial = values.initial === undefined ? undefined : parseInitial(values.initial, checkUsage);
  if (values.initial !== undefined) checkInitial(initial, target, checkUsage);
  const roles = parseRoleMap(values.f, target, checkUsage);
  const timeoutMs = parseDuration(values.timeout ?? '30s', '--timeout');
  const deadlineMs = values.deadline === undefined ? undefined : parseDuration(values.deadline, '--deadline');
  const maxMemoryBytes = values.memory === undefined ? undefined : parseMemory(values.memory);
  // Flags of the other kind of check would be ignored silently: refuse them instead.
  const modelOnly = (['timeout', 'memory', 'no-partition'] as const).filter((flag) => values[flag]);
  if (target.kind === 'checker' && modelOnly.length > 0)
    throw usageError(`--${modelOnly[0]} applies to --model (linearizability) only`, checkUsage);
  if (target.kind === 'model' && values.deadline !== undefined)
    throw usageError('--deadline applies to --checker convergence only', checkUsage);
  const model =
    values.model === undefined
      ? undefined
      : createModel(values.model, initial === undefined ? {} : { initial });

  const data = await readFile(file).catch((error: unknown) => {
    throw new FaultlineError(codes.invalidArgument, `${file}: cannot read: ${messageOf(error)}`, {
      cause: error,
      details: { file },
    });
  });
  const parsedHistory = decodeHistory(data, {
    file,
    ...(format ? { format: format as HistoryFormat } : {}),
  });
  const ops = renameOps(parsedHistory.ops, roles, checkUsage);
  const skipped = parsedHistory.skippedLines ? `, ${parsedHistory.skippedLines} non-op lines skipped` : '';
  // With --json, stdout is the JSON alone (for `| jq`): the header goes to stderr.
  const note = values.json ? output.stderr : output.stdout;
  note(`faultline check: ${file} (${parsedHistory.format}, ${ops.length} ops${skipped})\n`);

  const check = (history: Op[]): Promise<CheckResult> | CheckResult =>
    model === undefined
      ? (checker as SafetyTarget).run(history, { deadlineMs, initial, usage: checkUsage })
      : checkLinearizability(history, model, {
          timeoutMs,
          partition: !values['no-partition'],
          ...(maxMemoryBytes === undefined ? {} : { maxMemoryBytes }),
        });
  const started = performance.now();
  let result: CheckResult;
  try {
    result = await check(ops);
  } catch (error) {
    throw inFile(file, error);
  }
  const elapsed = formatDuration(performance.now() - started);
  const startNs = ops.reduce((min, op) => Math.min(min, op.time), Number.POSITIVE_INFINITY);
  const summaries = summariseAnomalies(result.anomalies);
  const against = values.model ?? (values.checker as string);

  if (values.json) output.stdout(`${JSON.stringify(result, jsonSafe, 2)}\n`);
  else {
    output.stdout(`${describeVerdict(result, against)} (${elapsed})\n`);
    if (result.decidedBy !== undefined && result.valid !== 'unknown')
      output.stdout(`  decided by ${result.decidedBy}\n`);
    for (const summary of summaries) {
      for (const line of formatAnomalySummary(summary, startNs)) output.stdout(`  ${line}\n`);
    }
    if (summaries.some((summary) => summary.count > 1)) output.stdout('  (--json lists every anomaly)\n');
  }

  if (values.html !== undefined) {
    const page =
      result.valid === false && result.checker === 'linearizability' && result.counterexample !== undefined
        ? renderLinearizabilityHtml(result.counterexample as LinearizabilityCounterexample, { source: file })
        : model === undefined && result.anomalies.length > 0
          ? renderCheckSummaryHtml({
              source: file,
              checker: against,
              valid: result.valid,
              ...(result.reason === undefined ? {} : { reason: result.reason }),
              summaries,
              startNs,
            })
          : undefined;
    if (page !== undefined) {
      const htmlFile = values.html;
      await writeFile(htmlFile, page).catch((error: unknown) => {
        throw new FaultlineError(
          codes.invalidArgument,
          `--html ${htmlFile}: cannot write: ${messageOf(error)}`,
          { cause: error, details: { file: htmlFile } },
        );
      });
      note(`${model === undefined ? 'summary' : 'timeline'}: ${values.html}\n`);
    } else {
      note(`${model === undefined ? 'summary' : 'timeline'}: not written (nothing to explain)\n`);
    }
  }
  return result.valid === true
    ? checkExit.valid
    : result.valid === false
      ? checkExit.invalid
      : checkExit.unknown;
}

type SafetyTarget = (typeof safetyCheckers)[string] & {};

/** The roles and initial-value rule of a model factory or safety checker. */
function pick(from: {
  readonly roles: readonly string[];
  readonly initial?: ModelFactory['initial'] | undefined;
}): Pick<ModelFactory, 'roles' | 'initial'> {
  return { roles: from.roles, ...(from.initial === undefined ? {} : { initial: from.initial }) };
}

function parseCheckArgs(argv: string[]) {
  return parseCommandLine(
    {
      args: argv,
      options: {
        model: { type: 'string' },
        checker: { type: 'string' },
        timeout: { type: 'string' },
        html: { type: 'string' },
        format: { type: 'string' },
        deadline: { type: 'string' },
        initial: { type: 'string' },
        f: { type: 'string', multiple: true, default: [] },
        memory: { type: 'string' },
        'no-partition': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    },
    checkUsage,
  );
}

function describeVerdict(result: CheckResult, against: string): string {
  if (result.valid === true) return `valid: ${result.checker} holds (${against})`;
  if (result.valid === 'unknown')
    return `unknown: ${result.reason ?? 'the checker could not decide'} (${against})`;
  return `INVALID: ${result.checker} violated (${against}), ${result.anomalies.length} anomal${result.anomalies.length === 1 ? 'y' : 'ies'}`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  return value;
}

/**
 * Names the history file in an error about one of its lines (`history.edn: line 8: …`), unless the error
 * names a file already (`details.file`).
 */
function inFile(file: string, error: unknown): unknown {
  if (!(error instanceof FaultlineError) || error.details.file !== undefined) return error;
  return new FaultlineError(error.code, `${file}: ${error.message}`, {
    cause: error,
    details: { ...error.details, file },
  });
}

/** Smallest `--memory`: below it no search of any size gets anywhere. */
const minMemoryBytes = 1024 * 1024;

/** `--memory`: a size from 1 MiB up to what a number holds exactly. */
function parseMemory(text: string): number {
  const bytes = parseSize(text, '--memory');
  if (bytes < minMemoryBytes || bytes > Number.MAX_SAFE_INTEGER) {
    throw usageError(
      `--memory: expected at least 1MiB and at most ${Number.MAX_SAFE_INTEGER} bytes, got ${JSON.stringify(text)}`,
      checkUsage,
    );
  }
  return bytes;
}
