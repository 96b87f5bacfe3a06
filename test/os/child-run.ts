import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts `node script ...args` and resolves once it prints a line `<word> <json>`, with that JSON — what the
 * run made, for a test that kills it and checks what is left. Rejects with the run's output if it exits
 * first or prints nothing in `timeoutMs`.
 */
export async function startChildRun<T>(
  script: string,
  args: readonly string[],
  word: string,
  timeoutMs = 30_000,
): Promise<{ run: ChildProcess; printed: T }> {
  const run = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  run.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  const line = new RegExp(`^${word} (.*)$`, 'm');
  try {
    const printed = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`run printed no "${word}" line: ${out}${err}`)),
        timeoutMs,
      );
      run.stdout?.setEncoding('utf8').on('data', (text: string) => {
        out += text;
        const match = line.exec(out);
        if (match?.[1] === undefined) return;
        clearTimeout(timer);
        resolve(JSON.parse(match[1]) as T);
      });
      run.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`run exited (${code ?? signal}) early: ${out}${err}`));
      });
    });
    return { run, printed };
  } catch (error) {
    if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
    throw error;
  }
}
