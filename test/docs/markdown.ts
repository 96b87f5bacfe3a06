// Reads the code blocks of the Markdown docs and turns them into the programs that
// examples.test.ts runs. Pure: no I/O here. What a page can say about its blocks, in HTML
// comments on the lines directly above a block's opening fence:
//
//   <!-- example: NAME -->     the block is part of program NAME of this page (see assemble())
//   <!-- not-run: REASON -->   the block is not run, for the reason given (a type listing, an excerpt…)
//   <!-- output -->            the block is what the program of the preceding run block prints
//   <!-- output-unchecked: REASON -->  the block runs, but the output its comments state is not compared
//   <!-- needs: FILE -->       the program runs next to a stand-in FILE the test provides (see fixtures)
//
// A ts/js/sh block without a marker is a complete program by itself, except shell blocks: a page's
// unmarked shell blocks run in page order as one session against one `faultline server`.

export type Lang = 'ts' | 'js' | 'sh' | 'other';

export const markerKinds = ['example', 'not-run', 'output', 'output-unchecked', 'needs'] as const;
export type MarkerKind = (typeof markerKinds)[number];

export interface Marker {
  readonly kind: MarkerKind;
  readonly value: string;
  readonly line: number;
}

export interface Block {
  readonly page: string;
  /** 1-based line of the opening fence; the code starts on the next line. */
  readonly line: number;
  readonly info: string;
  readonly lang: Lang;
  readonly code: string;
  readonly markers: readonly Marker[];
}

export interface Program {
  readonly page: string;
  readonly name: string;
  /** ts/js parts, in page order (all of one language). */
  readonly code: Block[];
  /** shell parts, in page order: run against the code part (a server) or a `faultline server`. */
  readonly shell: Block[];
  /** Output blocks, each with the run block it follows. */
  readonly outputs: { readonly after: Block; readonly block: Block }[];
  readonly needs: string[];
  /** Blocks whose stated outputs are not compared. */
  readonly unchecked: Set<Block>;
}

export interface Skipped {
  readonly block: Block;
  readonly reason: string;
}

/** `at` is "page:line". */
export interface Problem {
  readonly at: string;
  readonly message: string;
}

const langs: Record<string, Lang> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  console: 'sh',
};

const markerPattern = /^<!--\s*([a-z-]+)\s*(?::\s*([\s\S]*?))?\s*-->\s*$/;

/** Every fenced block of a page, with the markers directly above it; `problems` gets stray markers. */
export function parseMarkdown(page: string, text: string, problems: Problem[]): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  const attached = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    if (end >= lines.length) {
      problems.push({ at: `${page}:${i + 1}`, message: 'unterminated code block' });
      break;
    }
    const markers: Marker[] = [];
    for (let m = i - 1; m >= 0; m--) {
      const comment = markerPattern.exec(lines[m] ?? '');
      if (!comment) break;
      attached.add(m);
      const kind = comment[1] as MarkerKind;
      if (!markerKinds.includes(kind)) {
        problems.push({
          at: `${page}:${m + 1}`,
          message: `unknown marker "${comment[1]}"; valid: ${markerKinds.join(', ')}`,
        });
        continue;
      }
      markers.unshift({ kind, value: (comment[2] ?? '').trim(), line: m + 1 });
    }
    const info = open[1] ?? '';
    blocks.push({
      page,
      line: i + 1,
      info,
      lang: langs[info.toLowerCase()] ?? 'other',
      code: lines.slice(i + 1, end).join('\n'),
      markers,
    });
    i = end;
  }
  for (const [index, line] of lines.entries()) {
    const comment = markerPattern.exec(line);
    if (comment && markerKinds.includes(comment[1] as MarkerKind) && !attached.has(index)) {
      problems.push({
        at: `${page}:${index + 1}`,
        message: `marker "${comment[1]}" is not directly above a code block`,
      });
    }
  }
  return blocks;
}

function marker(block: Block, kind: MarkerKind): Marker | undefined {
  return block.markers.find((m) => m.kind === kind);
}

/** Groups a page's blocks into programs (see the top of this file). */
export function buildPrograms(
  blocks: readonly Block[],
  problems: Problem[],
): { programs: Program[]; skipped: Skipped[] } {
  const programs = new Map<string, Program>();
  const skipped: Skipped[] = [];
  let lastRun: { block: Block; program: Program } | undefined;
  const programFor = (block: Block, name: string): Program => {
    const key = `${block.page}#${name}`;
    let program = programs.get(key);
    if (!program) {
      program = { page: block.page, name, code: [], shell: [], outputs: [], needs: [], unchecked: new Set() };
      programs.set(key, program);
    }
    return program;
  };
  for (const block of blocks) {
    const at = `${block.page}:${block.line}`;
    const notRun = marker(block, 'not-run');
    const example = marker(block, 'example');
    const output = marker(block, 'output');
    if (output) {
      if (block.markers.length > 1) problems.push({ at, message: 'an output block takes no other marker' });
      if (!lastRun) problems.push({ at, message: 'an output block must follow a block that runs' });
      else lastRun.program.outputs.push({ after: lastRun.block, block });
      continue;
    }
    if (block.lang === 'other') {
      if (block.markers.length > 0) {
        problems.push({ at, message: `markers on a "${block.info}" block, which is never run` });
      }
      continue;
    }
    if (notRun) {
      if (notRun.value === '')
        problems.push({ at, message: 'not-run needs a reason: <!-- not-run: why -->' });
      if (block.markers.length > 1) problems.push({ at, message: 'a not-run block takes no other marker' });
      skipped.push({ block, reason: notRun.value });
      lastRun = undefined;
      continue;
    }
    if (example && example.value === '') {
      problems.push({ at, message: 'example needs a name: <!-- example: name -->' });
    }
    const name = example?.value || (block.lang === 'sh' ? 'shell' : `line-${block.line}`);
    const program = programFor(block, name);
    if (block.lang === 'sh') program.shell.push(block);
    else {
      const first = program.code[0];
      if (first && first.lang !== block.lang) {
        problems.push({ at, message: `program "${name}" mixes ${first.lang} and ${block.lang}` });
      }
      program.code.push(block);
    }
    for (const needs of block.markers.filter((m) => m.kind === 'needs')) program.needs.push(needs.value);
    if (marker(block, 'output-unchecked')) program.unchecked.add(block);
    lastRun = { block, program };
  }
  return { programs: [...programs.values()], skipped };
}

/** A program's source, and for each of its lines where it came from ("page:line"), or null. */
export interface Source {
  readonly text: string;
  readonly origins: (string | null)[];
}

/**
 * Puts a program's ts/js parts together. The first part is the setup, as written. Each later part
 * runs after it in its own block scope (so that examples may each declare `const result`), with its
 * imports moved to the top; the later parts go where the setup has a line `// … (text)` — the place
 * the page says the examples go — or else after it.
 */
export function assemble(program: Program): Source {
  const imports: [string, string | null][] = [];
  const seen = new Set<string>();
  const lineOf = (block: Block, index: number): string => `${block.page}:${block.line + 1 + index}`;
  const [first, ...rest] = program.code;
  if (!first) return { text: '', origins: [] };
  const body: [string, string | null][] = [];
  for (const part of rest) {
    const lines = part.code.split('\n');
    body.push(['{', null]);
    for (let i = 0; i < lines.length; i++) {
      if (/^import\b/.test(lines[i] ?? '')) {
        const start = i;
        while (
          i < lines.length &&
          !/(\bfrom\s*|^import\s*)['"][^'"]+['"];?\s*(\/\/.*)?$/.test(lines[i] ?? '')
        )
          i++;
        const statement = lines.slice(start, i + 1);
        const key = statement.join('\n');
        if (seen.has(key)) continue;
        seen.add(key);
        statement.forEach((line, k) => {
          imports.push([line, lineOf(part, start + k)]);
        });
        continue;
      }
      body.push([`  ${lines[i]}`, lineOf(part, i)]);
    }
    body.push(['}', null]);
  }
  const setup = first.code.split('\n').map((line, i): [string, string | null] => [line, lineOf(first, i)]);
  const hole = setup.findIndex(([line]) => /^\s*\/\/ …/.test(line));
  const at = rest.length > 0 && hole >= 0 ? hole : setup.length;
  const all = [...imports, ...setup.slice(0, at), ...body, ...setup.slice(at)];
  return { text: `${all.map(([line]) => line).join('\n')}\n`, origins: all.map(([, origin]) => origin) };
}

// ---- ports

// Where a number is a port: an address, `port: n`, `'--port', 'n'`, `.listen(n` / `.bind(n`.
const portPatterns = [
  /((?:127\.0\.0\.\d{1,3}|localhost|\[::1\]):)(\d{4,5})\b/g,
  /(\bport['"]?\s*[:=,]\s*['"]?)(\d{4,5})\b/gi,
  /(\.(?:listen|bind)\()(\d{4,5})\b/g,
  /(--port[ =])(\d{4,5})\b/g,
];

/** The fixed ports (≥ 1024) a text uses. */
export function docPorts(text: string): number[] {
  const ports = new Set<number>();
  for (const pattern of portPatterns) {
    for (const match of text.matchAll(pattern)) {
      const port = Number(match[2]);
      if (port >= 1024 && port <= 65535) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Rewrites the ports of `map` where they appear as ports (never other numbers). */
export function rewritePorts(text: string, map: ReadonlyMap<number, number>): string {
  let out = text;
  for (const pattern of portPatterns) {
    out = out.replace(pattern, (whole, prefix: string, port: string) => {
      const to = map.get(Number(port));
      return to === undefined ? whole : `${prefix}${to}`;
    });
  }
  return out;
}

// ---- expected output

/** One stated line of output, and where the page states it. */
export interface Expected {
  readonly text: string;
  readonly at: string;
}

/**
 * Output lines a ts/js part states in comments: `console.log(…); // text`. Only exact statements
 * count: a comment with an ellipsis or an approximation (…, ~, ±, ≈, —) describes rather than states.
 */
export function commentOutputs(block: Block): Expected[] {
  const out: Expected[] = [];
  block.code.split('\n').forEach((line, i) => {
    const match = /^\s*console\.log\(.*\);?\s*\/\/ (.+)$/.exec(line);
    if (match?.[1] && !/[…~±≈—]/.test(match[1])) {
      out.push({ text: match[1].trim(), at: `${block.page}:${block.line + 1 + i}` });
    }
  });
  return out;
}

/** The non-blank lines of an output block. */
export function blockOutputs(block: Block): Expected[] {
  return block.code
    .split('\n')
    .map((text, i) => ({ text: text.trimEnd(), at: `${block.page}:${block.line + 1 + i}` }))
    .filter((expected) => expected.text.trim() !== '');
}

/** Whether `actual` is `expected`, where … in `expected` stands for anything and a loopback port for any port. */
export function outputMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((piece) =>
      piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/(127\\\.0\\\.0\\\.1|localhost):\d+/g, '$1:\\d+'),
    )
    .join('[\\s\\S]*?');
  return new RegExp(`^${pattern}$`).test(actual);
}

/**
 * Finds `expected` in order among `lines`: each expected line must match a later line than the one
 * before it. Returns the first expected line that was not found, or undefined.
 */
export function findInOrder(expected: readonly Expected[], lines: readonly string[]): Expected | undefined {
  let from = 0;
  for (const item of expected) {
    let found = -1;
    for (let i = from; i < lines.length; i++) {
      if (outputMatches(item.text, lines[i] ?? '')) {
        found = i;
        break;
      }
    }
    if (found < 0) return item;
    from = found + 1;
  }
  return undefined;
}

// ---- shell

export interface ShellCommand {
  readonly text: string;
  readonly at: string;
  /** What the first comment line after the command states: `# 201 {…}`, `# {…}`, `# 400 …`. */
  readonly status?: number;
  readonly body?: string;
  readonly expectedAt?: string;
}

/** The commands of a shell block, each with the status and body the comment after it states. */
export function shellCommands(block: Block): ShellCommand[] {
  const commands: { text: string[]; at: string; status?: number; body?: string; expectedAt?: string }[] = [];
  let open: { text: string[]; at: string } | undefined;
  let commented = false;
  block.code.split('\n').forEach((line, i) => {
    const at = `${block.page}:${block.line + 1 + i}`;
    if (open) {
      open.text.push(line);
      const text = open.text.join('\n');
      if (!line.endsWith('\\') && (text.match(/'/g) ?? []).length % 2 === 0) open = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const last = commands.at(-1);
      if (last && !commented) {
        commented = true;
        const stated = /^#\s?(\d{3})?\s*([{["].*)?$/.exec(trimmed);
        if (stated && (stated[1] || stated[2])) {
          if (stated[1]) last.status = Number(stated[1]);
          if (stated[2]) last.body = stated[2];
          last.expectedAt = at;
        }
      }
      return;
    }
    commented = false;
    const command = { text: [line], at };
    commands.push(command);
    if (line.endsWith('\\') || (line.match(/'/g) ?? []).length % 2 === 1) open = command;
  });
  return commands.map(({ text, ...rest }) => ({ ...rest, text: text.join('\n') }));
}
