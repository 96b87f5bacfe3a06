// Runs fuzz cases of `faultline check` in process (see check-fuzz.test.ts), in a worker so that the test's
// thread can stop a case that hangs. Posts `start` before and `done` after each case.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { checkCommand } from '../../src/cli/check-command.js';
import { fuzzCase } from './check-fuzz-cases.js';

export interface WorkerInput {
  readonly seed: number;
  readonly start: number;
  readonly count: number;
  readonly dir: string;
}

export type WorkerMessage =
  | { readonly type: 'start'; readonly index: number }
  | {
      readonly type: 'done';
      readonly index: number;
      readonly code: number | undefined;
      readonly stdout: string;
      readonly stderr: string;
      readonly thrown: string | undefined;
      readonly ms: number;
    };

const { seed, start, count, dir } = workerData as WorkerInput;
const port = parentPort;
if (port === null) throw new Error('check-fuzz-worker runs as a worker thread');
const post = (message: WorkerMessage): void => port.postMessage(message);

for (let index = start; index < start + count; index++) {
  const fuzz = fuzzCase(seed, index);
  const file = join(dir, `case-${index}`);
  writeFileSync(file, fuzz.bytes);
  post({ type: 'start', index });
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  let thrown: string | undefined;
  const started = performance.now();
  try {
    code = await checkCommand([file, ...fuzz.args], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
  } catch (error) {
    thrown = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  const ms = performance.now() - started;
  rmSync(file, { force: true });
  post({ type: 'done', index, code, stdout, stderr, thrown, ms });
}
