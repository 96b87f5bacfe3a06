// Runs the code of README.md and docs/*.md the way a user of the package would: `npm pack` the
// repository (built), install the tarball into a scratch project in a temp dir (../support/
// scratch-project.ts, shared with test/package, which tests the installs themselves), write every
// example there, compile the TypeScript ones in one strict `tsc` run against the installed package's
// types, and run each with `node` (two at a time, each within a time bound), checking the exit
// status and the output the page states. Shell blocks run in bash against a real `faultline server`
// (the installed bin). How a page groups blocks or exempts one is in ./markdown.ts: every ts, js and
// shell block runs unless the page marks it `not-run` with a reason, so a fragment added to a page
// fails here until it is completed, grouped with the blocks it needs, or marked.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  compileInProject,
  createScratchProject,
  killRunning,
  packRepository,
  procPids,
  repositoryRoot as root,
  run as runIn,
  type ScratchProject,
  type Started,
  start,
  stop,
  waitForOutput,
} from '../support/scratch-project.js';
import {
  assemble,
  type Block,
  blockOutputs,
  buildPrograms,
  commentOutputs,
  docPorts,
  type Expected,
  findInOrder,
  outputMatches,
  type Problem,
  type Program,
  parseMarkdown,
  rewritePorts,
  type Skipped,
  type Source,
  shellCommands,
} from './markdown.js';

const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];

/** Time bound of one program (a shell session counts as one). */
const programTimeoutMs = 60_000;
/** Ports the docs use for `faultline server`'s API. */
const apiPort = 8474;

/**
 * Stand-ins for what an example says is the reader's own, provided next to the program when the
 * page marks it `<!-- needs: FILE -->`.
 */
const fixtures: Record<string, string> = {
  // docs/failure-modes.md supervises "your service", `node dist/server.js --port <port>`: this one
  // says "listening", answers GET /health with 200, and stops on SIGTERM.
  'dist/server.js': `import { createServer } from 'node:http';
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const server = createServer((request, response) => {
  response.statusCode = request.url === '/health' ? 200 : 404;
  response.end('ok');
});
server.listen(port, '127.0.0.1', () => console.log(\`listening on \${port}\`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
`,
};

// ---- what the pages contain

const problems: Problem[] = [];
const programs: Program[] = [];
const skipped: Skipped[] = [];
for (const page of pages) {
  const blocks = parseMarkdown(page, readFileSync(join(root, page), 'utf8'), problems);
  const built = buildPrograms(blocks, problems);
  programs.push(...built.programs);
  skipped.push(...built.skipped);
}

const slug = (page: string): string =>
  page
    .replace(/^docs\//, '')
    .replace(/\.md$/, '')
    .toLowerCase();

/** The program's file in the scratch project (relative), for programs with a ts/js part. */
function fileOf(program: Program): string | undefined {
  const first = program.code[0];
  if (!first) return undefined;
  const ext = first.lang === 'ts' ? '.ts' : '.mjs';
  const base = /\.(ts|mjs|js)$/.test(program.name)
    ? basename(program.name).replace(/\.(ts|mjs|js)$/, ext)
    : `${program.name}${ext}`;
  return join('examples', slug(program.page), base);
}

const titleOf = (program: Program): string => {
  const lines = [...program.code, ...program.shell].map((block) => block.line).sort((a, b) => a - b);
  return `${program.page}: ${program.name} (line${lines.length > 1 ? 's' : ''} ${lines.join(', ')})`;
};

const codeText = (program: Program): string => program.code.map((block) => block.code).join('\n');

/** A faultline server is started for shell-only programs, and for code that talks to one on 8474. */
const needsApiServer = (program: Program): boolean =>
  program.code.length === 0 ||
  (program.shell.length === 0 &&
    new RegExp(`\\b${apiPort}\\b`).test(codeText(program)) &&
    !codeText(program).includes('startApiServer'));

// ---- the scratch project

let project: ScratchProject | undefined;
let scratch = '';
/** Per program: its file in the scratch project and its source (absent for shell-only programs). */
const prepared = new Map<Program, { source?: Source; file?: string }>();
/** Compiler messages per program file, already pointing into the docs. */
const diagnostics = new Map<string, string[]>();
const globalDiagnostics: string[] = [];

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  assert.ok(project, 'the scratch project is installed');
  return project.env(extra);
}

/** Runs a process to its end, in the scratch project's environment unless told otherwise. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): ReturnType<typeof runIn> {
  return runIn(command, args, {
    cwd: options.cwd,
    env: options.env ?? childEnv(),
    timeoutMs: options.timeoutMs ?? programTimeoutMs,
  });
}

/** Processes started by the examples (their environment carries `FAULTLINE_DOCS_RUN=<tag>`) still alive. */
function leftovers(tag: string): number[] {
  const found: number[] = [];
  for (const entry of procPids()) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (state !== 'Z' && environ.some((v) => v.startsWith(`FAULTLINE_DOCS_RUN=${tag}`))) {
        found.push(Number(entry));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function killLeftovers(tag: string): number[] {
  const found = leftovers(tag);
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return found;
}

const usedPorts = new Set<number>();

/** A port nobody listens on now, never handed out twice in this run. */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    server.close();
    await once(server, 'close');
    const port = typeof address === 'object' && address ? address.port : 0;
    if (port > 0 && !usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
}

const runTag = `fl-docs-${process.pid}-${Date.now()}`;

/** Compiler output lines, mapped from the scratch files back to the page lines they came from. */
function mapDiagnostics(output: string): void {
  const byFile = new Map<string, Source>();
  for (const [, entry] of prepared) if (entry.file && entry.source) byFile.set(entry.file, entry.source);
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/.exec(line);
    if (!match) {
      if (current && line.trim() !== '') current.push(`  ${line.trim()}`);
      continue;
    }
    const [, file = '', row = '0', column = '0', , code, message] = match;
    const source = byFile.get(file);
    const origin = source?.origins[Number(row) - 1];
    const text = `${origin ?? `${file}:${row}`}:${column}: ${code}: ${message}`;
    current = source ? (diagnostics.get(file) ?? []) : globalDiagnostics;
    current.push(text);
    if (source) diagnostics.set(file, current);
  }
}

describe('the docs examples run against the installed package', { concurrency: 2 }, () => {
  before(
    async () => {
      scratch = mkdtempSync(join(tmpdir(), 'faultline-docs-'));
      // 1. Pack the repository as `npm publish` would, and install the tarball. The README's
      // Toxiproxy-client example needs toxiproxy-node-client (a dev dependency here), linked from this
      // repository's node_modules.
      const { tarball } = await packRepository(scratch);
      const client = join(root, 'node_modules', 'toxiproxy-node-client');
      project = await createScratchProject('docs', [tarball, client], { dir: scratch });

      // 2. Write every program, with the ports the page gives (each run gets free ones instead).
      for (const program of programs) {
        const file = fileOf(program);
        if (!file) {
          prepared.set(program, {});
          continue;
        }
        const source = assemble(program);
        mkdirSync(join(scratch, dirname(file)), { recursive: true });
        writeFileSync(join(scratch, file), source.text);
        prepared.set(program, { source, file });
      }

      // 3. Compile every TypeScript example at once: strict, as this repository compiles itself.
      // tsc reports no type errors at all while any file has a syntax error, so files with syntax
      // errors are left out of a second run.
      const files = [...prepared.values()].flatMap((entry) =>
        entry.file?.endsWith('.ts') ? [entry.file] : [],
      );
      let left = files;
      for (let attempt = 0; attempt < 3 && left.length > 0; attempt++) {
        const tsc = await compileInProject(scratch, left);
        const output = `${tsc.stdout}${tsc.stderr}`;
        const broken = new Set([...output.matchAll(/^(.+?)\(\d+,\d+\): error TS1\d{3}:/gm)].map((m) => m[1]));
        mapDiagnostics(output);
        if (broken.size === 0) break;
        left = left.filter((file) => !broken.has(file));
      }
    },
    { timeout: 120_000 },
  );

  after(() => {
    killRunning();
    killLeftovers(runTag);
    // FAULTLINE_SCRATCH_KEEP=1 keeps the scratch project to look into (its path is printed).
    if (project) project.remove();
    else if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  test('every ts, js and shell block is run or marked not-run with a reason; markers are well-formed', () => {
    // An unmarked block is a program of its own, so every block is run unless marked not-run; what
    // is checked here is that the markers make sense.
    assert.deepEqual(problems, [], 'marker problems');
    const run = programs.reduce((n, program) => n + program.code.length + program.shell.length, 0);
    const grouped = programs.filter((program) => program.code.length + program.shell.length > 1).length;
    console.log(
      `docs: ${run} blocks run as ${programs.length} programs (${grouped} of several blocks); ` +
        `${skipped.length} marked not-run:\n${skipped
          .map(({ block, reason }) => `  ${block.page}:${block.line} (${block.lang}): ${reason}`)
          .join('\n')}`,
    );
  });

  test('the examples compile with no messages outside their own files', () => {
    // The installed package's own types, for one (test/package checks them on their own too).
    assert.deepEqual(globalDiagnostics, []);
  });

  // FAULTLINE_DOCS_ONLY=failure-modes runs only the programs whose title contains that text.
  const only = process.env.FAULTLINE_DOCS_ONLY;
  for (const program of programs.filter((p) => only === undefined || titleOf(p).includes(only))) {
    test(titleOf(program), { timeout: programTimeoutMs + 20_000 }, async (t) => {
      const entry = prepared.get(program);
      assert.ok(entry, 'prepared');
      if (entry.file) {
        const messages = diagnostics.get(entry.file) ?? [];
        assert.deepEqual(messages, [], `does not compile:\n${messages.join('\n')}`);
      }
      const checked = await runProgram(program, entry);
      t.diagnostic(`${checked} stated output line(s) or answer(s) compared`);
    });
  }
});

/** Runs one program; returns how many stated outputs it compared. */
async function runProgram(program: Program, entry: { file?: string }): Promise<number> {
  let checked = 0;
  // Every fixed port the page uses becomes a free one, just before the run (in the compiled program,
  // the shell blocks and the stated outputs alike), so that examples never collide.
  const ports = new Map<number, number>();
  const text = `${codeText(program)}\n${program.shell.map((block) => block.code).join('\n')}`;
  for (const port of docPorts(text)) ports.set(port, await freePort());
  if (needsApiServer(program) && !ports.has(apiPort)) ports.set(apiPort, await freePort());
  const name = `${slug(program.page)}-${program.name.replace(/[^a-zA-Z0-9.-]+/g, '_')}`;
  const cwd = join(scratch, 'cwd', name);
  mkdirSync(cwd, { recursive: true });
  for (const needs of program.needs) {
    const path = needs.split(/\s/)[0] ?? '';
    const source = fixtures[path];
    assert.ok(source !== undefined, `no stand-in for "${path}" in fixtures`);
    mkdirSync(join(cwd, dirname(path)), { recursive: true });
    writeFileSync(join(cwd, path), source);
  }
  const tag = `${runTag}-${name}`;
  const env = childEnv({ FAULTLINE_DOCS_RUN: tag });
  const rewritten = (block: Block): Block => ({ ...block, code: rewritePorts(block.code, ports) });
  let server: Started | undefined;
  let serverIsFaultline = false;
  let failure: unknown;
  try {
    if (needsApiServer(program)) {
      server = start(
        process.execPath,
        [
          join(scratch, 'node_modules', '.bin', 'faultline'),
          'server',
          '--port',
          String(ports.get(apiPort)),
          '--seed',
          '1',
          '--quiet',
        ],
        { cwd, env, timeoutMs: programTimeoutMs },
      );
      serverIsFaultline = true;
      await waitForOutput(server, /listening on http:\/\/127\.0\.0\.1:\d+/, 'faultline server');
    }
    const script = entry.file ? join(scratch, entry.file.replace(/\.ts$/, '.js')) : undefined;
    if (script) writeFileSync(script, rewritePorts(readFileSync(script, 'utf8'), ports));
    if (script && program.shell.length > 0) {
      // The code is a server the shell blocks talk to: wait for its first line.
      server = start(process.execPath, [script], { cwd, env, timeoutMs: programTimeoutMs });
      await waitForOutput(server, /\S/, titleOf(program));
    } else if (script) {
      const result = await run(process.execPath, [script], { cwd, env });
      const output = `${result.stdout}${result.stderr}`;
      assert.ok(!result.timedOut, `did not end within ${programTimeoutMs} ms:\n${output}`);
      assert.equal(result.code, 0, `exit ${result.code ?? result.signal}:\n${output}`);
      const expected: Expected[] = program.code.flatMap((part) =>
        program.unchecked.has(part)
          ? []
          : [
              ...commentOutputs(rewritten(part)),
              ...program.outputs
                .filter((o) => o.after === part)
                .flatMap((o) => blockOutputs(rewritten(o.block))),
            ],
      );
      const missing = findInOrder(expected, result.stdout.split('\n'));
      checked += expected.length;
      assert.equal(
        missing,
        undefined,
        `${missing?.at} states the output "${missing?.text}", not printed (in that order):\n${result.stdout}`,
      );
    }
    if (program.shell.length > 0) checked += await runShell(program, ports, cwd, env);
  } catch (error) {
    failure = error;
  }
  // Clean up whatever happened; report what cleaning up found only when nothing failed before.
  const found: string[] = [];
  if (server) {
    const result = await stop(server);
    if (serverIsFaultline && result.code !== 0) {
      found.push(`faultline server ended with ${result.code ?? result.signal}: ${result.stderr}`);
    }
  }
  const left = killLeftovers(tag);
  if (left.length > 0) found.push(`processes the example left running (killed now): ${left.join(', ')}`);
  if (failure !== undefined) throw failure;
  assert.deepEqual(found, []);
  return checked;
}

const curlPrelude = `set -euo pipefail
# Each curl prints a record: RS, the body, a newline and the HTTP status.
curl() {
  local out
  out=$(command curl --silent --show-error --max-time 10 "$@" --write-out '\\n%{http_code}')
  printf '\\036%s\\n' "$out"
}
`;

async function runShell(
  program: Program,
  ports: Map<number, number>,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  let checked = 0;
  const blocks = program.shell.map((block) => ({ block, code: rewritePorts(block.code, ports) }));
  const script = [
    curlPrelude,
    ...blocks.map(
      ({ block, code }) =>
        `# ${block.page}:${block.line}\n${code.replace(/\bnpx faultline\b/g, 'faultline')}`,
    ),
  ].join('\n');
  const path = join(cwd, 'session.sh');
  writeFileSync(path, script);
  const result = await run('bash', [path], { cwd, env });
  const output = `${result.stdout}${result.stderr}`;
  assert.ok(!result.timedOut, `did not end within ${programTimeoutMs} ms:\n${output}`);
  assert.equal(result.code, 0, `exit ${result.code ?? result.signal}:\n${output}`);
  const records = result.stdout
    .split('\x1e')
    .slice(1)
    .map((record) => {
      const text = record.replace(/\n$/, '');
      const cut = text.lastIndexOf('\n');
      return { body: text.slice(0, cut).trim(), status: Number(text.slice(cut + 1)) };
    });
  let index = 0;
  for (const { block, code } of blocks) {
    for (const command of shellCommands({ ...block, code })) {
      if (!/^curl\b/.test(command.text)) continue;
      const record = records[index++];
      assert.ok(record, `${command.at}: no answer recorded for ${command.text}`);
      if (program.unchecked.has(block)) continue;
      checked++;
      if (command.status !== undefined) {
        assert.equal(
          record.status,
          command.status,
          `${command.expectedAt}: status of ${command.text}\n${record.body}`,
        );
      } else {
        assert.ok(
          record.status < 400,
          `${command.at}: ${command.text} answered ${record.status} ${record.body}`,
        );
      }
      if (command.body !== undefined) {
        assert.ok(
          outputMatches(command.body, record.body),
          `${command.expectedAt}: the page states ${command.body}\nthe server answered ${record.body}`,
        );
      }
    }
  }
  assert.equal(index, records.length, 'one answer per curl command');
  return checked;
}
