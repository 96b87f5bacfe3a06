import { readFile, writeFile } from 'node:fs/promises';
import { checkLinearizability } from '../check-driver/index.js';
import type { CheckResult, LinearizabilityCounterexample } from '../checker/index.js';
import {
  builtInModel,
  checkAckedWrites,
  checkConvergence,
  checkCounter,
  checkMonotonicReads,
  checkNoDuplicates,
  checkQueue,
  checkSet,
  checkTotalQueue,
  modelNames,
} from '../checker/index.js';
import { codes } from '../core/codes.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { Op } from '../history/index.js';
import { decodeHistory, type HistoryFormat, historyFormats } from '../history/index.js';
import { renderLinearizabilityHtml } from '../report/index.js';
import { parseCommandLine, usageError } from './usage.js';

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

type SafetyChecker = (history: Op[], deadlineMs: number | undefined) => CheckResult;

const safetyCheckers: Record<string, SafetyChecker> = {
  set: (h) => checkSet(h),
  counter: (h) => checkCounter(h),
  queue: (h) => checkQueue(h),
  'total-queue': (h) => checkTotalQueue(h),
  'acked-writes': (h) => checkAckedWrites(h),
  duplicates: (h) => checkNoDuplicates(h),
  'monotonic-reads': (h) => checkMonotonicReads(h),
  convergence: (h, deadlineMs) => {
    if (deadlineMs === undefined)
      throw usageError('--checker convergence needs --deadline (e.g. 10s)', checkUsage);
    return checkConvergence(h, { deadlineNs: deadlineMs * 1e6 });
  },
};

export const checkUsage = `Usage: faultline check <history> (--model <name> | --checker <name>) [options]

Checks a history (JSON lines, Jepsen EDN or Jepsen log lines; detected from the content).
Exit code: 0 valid, 1 invalid, 2 unknown (budget ran out), 3 bad input: a bad command line, or a file
that is not a history (not UTF-8 text, not the format, no ops, a malformed op, nesting deeper than 512
levels, calls that do not pair up); the message names the file, line and column. 70: an internal error
(a bug in faultline).

  --model <name>     linearizability against a model: ${modelNames.join(', ')}
  --checker <name>   a safety checker instead: ${Object.keys(safetyCheckers).join(', ')}
  --timeout <dur>    time budget of the linearizability search (default 30s); past it the verdict is unknown
  --html <file>      write a self-contained HTML timeline explaining a non-linearizable verdict
  --format <f>       jsonl, edn or jepsen-log, when detection is not wanted
  --deadline <dur>   for --checker convergence: how long after healing replicas may take to agree
  --no-partition     check the whole history at once instead of per key (P-compositionality off)
  --json             print the full result as JSON
  -h, --help         show this help
`;

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
    if (typeof refusal.details.usage === 'string') output.stderr(`\n${refusal.details.usage}`);
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
  const model = values.model === undefined ? undefined : builtInModel(values.model);
  if (values.model !== undefined && model === undefined) {
    throw usageError(
      `--model: unknown model ${JSON.stringify(values.model)}; valid: ${modelNames.join(', ')}`,
      checkUsage,
    );
  }
  const checker = values.checker === undefined ? undefined : safetyCheckers[values.checker];
  if (values.checker !== undefined && checker === undefined) {
    const valid = Object.keys(safetyCheckers).join(', ');
    throw usageError(
      `--checker: unknown checker ${JSON.stringify(values.checker)}; valid: ${valid}`,
      checkUsage,
    );
  }
  const timeoutMs = parseDuration(values.timeout ?? '30s', '--timeout');
  const deadlineMs = values.deadline === undefined ? undefined : parseDuration(values.deadline, '--deadline');

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
  const ops = parsedHistory.ops;
  const skipped = parsedHistory.skippedLines ? `, ${parsedHistory.skippedLines} non-op lines skipped` : '';
  output.stdout(`faultline check: ${file} (${parsedHistory.format}, ${ops.length} ops${skipped})\n`);

  const check = (history: Op[]): Promise<CheckResult> | CheckResult =>
    model === undefined
      ? (checker as SafetyChecker)(history, deadlineMs)
      : checkLinearizability(history, model, { timeoutMs, partition: !values['no-partition'] });
  const started = performance.now();
  let result: CheckResult;
  try {
    result = await check(ops);
  } catch (error) {
    throw inFile(file, error);
  }
  const elapsed = formatDuration(performance.now() - started);

  if (values.json) output.stdout(`${JSON.stringify(result, jsonSafe, 2)}\n`);
  output.stdout(`${describeVerdict(result, values.model ?? (values.checker as string))} (${elapsed})\n`);
  for (const anomaly of result.anomalies.slice(0, 10)) output.stdout(`  - ${anomaly.message}\n`);
  if (result.anomalies.length > 10)
    output.stdout(`  … and ${result.anomalies.length - 10} more (--json shows all)\n`);

  if (values.html !== undefined) {
    if (
      result.valid === false &&
      result.checker === 'linearizability' &&
      result.counterexample !== undefined
    ) {
      const html = renderLinearizabilityHtml(result.counterexample as LinearizabilityCounterexample, {
        source: file,
      });
      const htmlFile = values.html;
      await writeFile(htmlFile, html).catch((error: unknown) => {
        throw new FaultlineError(
          codes.invalidArgument,
          `--html ${htmlFile}: cannot write: ${messageOf(error)}`,
          {
            cause: error,
            details: { file: htmlFile },
          },
        );
      });
      output.stdout(`timeline: ${values.html}\n`);
    } else {
      output.stdout(
        `timeline: not written (${result.valid === false ? 'only for linearizability' : 'nothing to explain'})\n`,
      );
    }
  }
  return result.valid === true
    ? checkExit.valid
    : result.valid === false
      ? checkExit.invalid
      : checkExit.unknown;
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
