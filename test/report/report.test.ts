// `faultline report` and `faultline run --report-dir`: the reports of a real run of the demo scenario (the
// store SIGKILLed mid-run, writes lost): JUnit XML validated against the Jenkins xUnit junit-10.xsd with
// xmllint, the JSON summary, the HTML page self-contained and rendered by headless Chromium to a screenshot
// that must not be blank; a cut-short, a corrupt and an unfinished journal; and the size and speed of the
// reports of a 100,000-call journal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { demoScenarioPath, kvServicePath } from '../../src/demo/index.js';
import { readJournal, renderHtmlReport, renderJunit } from '../../src/report/index.js';
import { runCli } from '../cli/run-cli.js';
import { writeSyntheticJournal } from './synthetic-journal.js';

const xsd = fileURLToPath(new URL('../../../test/report/junit-10.xsd', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'faultline-report-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const onPath = (command: string): string | undefined => {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
};
const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map(onPath).find(Boolean);
const xmllint = onPath('xmllint');

/** Validates a JUnit file against junit-10.xsd (xmllint from libxml2-utils, which `npm test` installs). */
function assertJunitValid(t: TestContext, file: string): void {
  if (xmllint === undefined) {
    t.skip('xmllint is not installed (apt-get install libxml2-utils; scripts/ensure-test-deps.mjs does it)');
    return;
  }
  const result = spawnSync(xmllint, ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${file} is not valid JUnit XML:\n${result.stderr}`);
}

const journal = join(dir, 'demo.jsonl');
const reports = join(dir, 'reports');

describe('reports of a real run', () => {
  before(async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const env = { FAULTLINE_DEMO_SERVICE: kvServicePath, FAULTLINE_DEMO_VARIANT: 'buggy', TMPDIR: tmp };
    const args = ['run', '--seed', '7', '--journal', journal, '--report-dir', reports, demoScenarioPath];
    const run = await runCli(args, 60_000, { env, cwd: dir });
    assert.equal(run.code, 1, `the buggy store must fail the demo:\n${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /reports: .*demo\.html, .*demo\.junit\.xml, .*demo\.json/);
  });

  it('JUnit: a testcase per check, failures with their anomalies, seed and replay; valid by junit-10.xsd', (t) => {
    const file = join(reports, 'demo.junit.xml');
    const xml = readFileSync(file, 'utf8');
    assert.match(
      xml,
      /<testcase name="acked-writes"[^>]*><failure type="lost" message="[^"]+acknowledged at/,
    );
    assert.match(xml, /<testcase name="linearizability"[^>]*><failure type="non-linearizable"/);
    assert.match(xml, /<property name="seed" value="7"\/>/);
    assert.match(xml, /<property name="replay" value="faultline run --seed 7 [^"]+demo\.toml"\/>/);
    assert.match(
      xml,
      /<testsuite name="demo: acknowledged writes survive a crash" tests="2" failures="2" errors="0"/,
    );
    assertJunitValid(t, file);
  });

  it('JSON: verdict, checks, faults, recovery after the kill, seed', () => {
    const json = JSON.parse(readFileSync(join(reports, 'demo.json'), 'utf8'));
    assert.equal(json.verdict, 'fail');
    assert.equal(json.finished, true);
    assert.equal(json.seed, 7);
    assert.deepEqual(
      json.checks.map((c: { checker: string; valid: unknown }) => [c.checker, c.valid]),
      [
        ['acked-writes', false],
        ['linearizability', false],
      ],
    );
    assert.equal(json.faults[0].kind, 'process.kill');
    assert.ok(json.ops.ok > 100, `ops: ${JSON.stringify(json.ops)}`);
    // The store was down after the kill and its ready probe saw it come back.
    const recovered = json.recoveries[0].recovered as { what: string; greenMs?: number }[];
    assert.ok(
      recovered.some((r) => r.greenMs !== undefined && r.greenMs > 0),
      JSON.stringify(recovered),
    );
  });

  it('HTML: self-contained, with the timeline, checks, the failing window, recovery, seed and replay', async () => {
    const html = readFileSync(join(reports, 'demo.html'), 'utf8');
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i, 'nothing loaded');
    for (const part of ['Timeline', 'process.kill', 'acked-writes', 'Linearizability', 'Recovery', 'replay'])
      assert.ok(html.includes(part), `the page shows ${part}`);
    assert.match(html, /The history from [\d.]+ m?s to [\d.]+ m?s of run time: \d+ calls/);
    assert.ok(html.includes('faultline run --seed 7'), 'the replay command');
    // `faultline report` writes the same page from the same journal.
    const again = join(dir, 'again.html');
    const report = await runCli(['report', journal, '--html', again]);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(readFileSync(again, 'utf8'), html);
    // Without a flag: the JSON summary on stdout.
    const summary = await runCli(['report', journal]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.equal(JSON.parse(summary.stdout).verdict, 'fail');
  });

  it('HTML renders in headless Chromium to a screenshot that is not blank', async (t) => {
    if (chromium === undefined) {
      t.skip('chromium is not installed (apt-get install chromium; scripts/ensure-test-deps.mjs does it)');
      return;
    }
    const png = join(dir, 'report.png');
    await screenshot(chromium, join(reports, 'demo.html'), png);
    const { width, height, inked } = pngInk(readFileSync(png));
    assert.deepEqual([width, height], [1280, 2000]);
    assert.ok(statSync(png).size > 40_000, `a page of charts, not an empty one: ${statSync(png).size} bytes`);
    assert.ok(inked > 0.03, `share of non-white bytes: ${inked}`);
  });
});

describe('bad and unfinished journals', () => {
  const lines = (): string[] => readFileSync(journal, 'utf8').trimEnd().split('\n');

  it('a cut-short line: an error naming the file and line', async () => {
    const all = lines();
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, `${all.slice(0, 40).join('\n')}\n${(all[40] as string).slice(0, 30)}`);
    const result = await runCli(['report', cut, '--junit', join(dir, 'cut.xml')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cut\.jsonl:41: not a JSON record .*cut short/);
  });

  it('a corrupt record: an error naming the line and the field', async () => {
    const bad = join(dir, 'bad.jsonl');
    const all = lines();
    all[2] = (all[2] as string).replace(/"atMs":[\d.]+/, '"atMs":"soon"');
    writeFileSync(bad, `${all.join('\n')}\n`);
    const result = await runCli(['report', bad, '--html', join(dir, 'bad.html')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bad\.jsonl:3: record\.atMs: expected a number, got "soon"/);
    const missing = await runCli(['report', join(dir, 'none.jsonl'), '--json', join(dir, 'none.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /none\.jsonl: cannot read the journal: ENOENT/);
  });

  it('no verdict line (the run was killed): still reported, marked unfinished', async (t) => {
    const unfinished = join(dir, 'unfinished.jsonl');
    // Cut mid-run: the first half of the lines (the demo's length varies with the machine's load).
    const all = lines();
    writeFileSync(unfinished, `${all.slice(0, Math.floor(all.length / 2)).join('\n')}\n`);
    const out = { junit: join(dir, 'u.xml'), json: join(dir, 'u.json'), html: join(dir, 'u.html') };
    const result = await runCli([
      'report',
      unfinished,
      '--junit',
      out.junit,
      '--json',
      out.json,
      '--html',
      out.html,
    ]);
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /unfinished/, output);
    const json = JSON.parse(readFileSync(out.json, 'utf8'));
    assert.equal(json.verdict, 'unfinished');
    assert.equal(json.finished, false);
    assert.match(readFileSync(out.junit, 'utf8'), /<testcase name="run"[^>]*><error type="unfinished"/);
    assert.match(readFileSync(out.html, 'utf8'), /UNFINISHED/);
    assertJunitValid(t, out.junit);
  });
});

describe('a 100,000-call journal', () => {
  it('HTML ≤ 5 MB in ≤ 5 s; JUnit ≤ 1 s (generous here: the machine is shared; bench:report measures)', async () => {
    const big = join(dir, 'big.jsonl');
    await writeSyntheticJournal(big, 100_000);
    // CPU time, not wall time: other work on a shared 2-core machine stretches the wall clock.
    const cpuMs = (since: NodeJS.CpuUsage): number => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    let started = process.cpuUsage();
    const junit = renderJunit(await readJournal(big));
    const junitMs = cpuMs(started);
    started = process.cpuUsage();
    const html = await renderHtmlReport(await readJournal(big));
    const htmlMs = cpuMs(started);
    assert.match(junit, /tests="2" failures="2"/);
    assert.ok(Buffer.byteLength(html) <= 5e6, `HTML of ${Buffer.byteLength(html)} bytes`);
    assert.match(html, /The history from [\d.]+ s to [\d.]+ s of run time: \d{4} calls on 8 processes/);
    // Targets 1 s and 5 s (bench:report: about 0.5 s and 1.3 s); a test allows three times as much.
    assert.ok(junitMs < 3_000, `JUnit took ${junitMs} ms of CPU`);
    assert.ok(htmlMs < 15_000, `HTML took ${htmlMs} ms of CPU`);
  });
});

/** Headless Chromium renders `html` to a 1280 × 2000 PNG; its process group is killed when done. */
async function screenshot(binary: string, html: string, png: string): Promise<void> {
  const profile = mkdtempSync(join(dir, 'chromium-'));
  const child = spawn(
    binary,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-crash-reporter',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--window-size=1280,2000',
      `--screenshot=${png}`,
      `file://${html}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, `chromium failed:\n${stderr}`);
  } finally {
    clearTimeout(timer);
    try {
      process.kill(-(child.pid as number), 'SIGKILL'); // its helpers (zygote, utility processes)
    } catch {
      // the group is gone already
    }
  }
}

/** A PNG's size and the share of its (filtered) pixel bytes that are not white. */
function pngInk(png: Buffer): { width: number; height: number; inked: number } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += length + 12;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  let inked = 0;
  // Sampled: every 7th byte is plenty to tell a page of charts from an empty one.
  for (let i = 0; i < pixels.length; i += 7) if (pixels[i] !== 0xff && pixels[i] !== 0) inked++;
  return { width, height, inked: inked / (pixels.length / 7) };
}
