// Steady-state probes from scenario files: every tolerance field refused with its position when wrong or
// missing; `module` probes imported from beside the scenario file, passing, failing and refused at setup;
// an HTTP probe with tolerances through a whole run against a real server.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario references are written `${…}` in plain strings
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import { readDocument } from '../../src/scenario/document.js';
import { scenarioJsonSchema, validateScenario } from '../../src/scenario/format.js';
import { loadScenario, runScenario } from '../../src/scenario/index.js';
import { seenPids } from '../process/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-probes-test-'));
let server: Server;
let port = 0;
before(async () => {
  server = createServer((request, response) => {
    const ok = request.url === '/health';
    response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: ok ? 'ok' : 'down', queue: { depth: ok ? 3 : 900 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const validate = (text: string, file = 's.toml') => validateScenario(readDocument(file, text));

/** The refusal of `text` as `line:column: message`, the file name cut. */
function refusal(text: string): string {
  try {
    validate(text);
  } catch (error) {
    assert.equal((error as { code?: string }).code, codes.config, String(error));
    return (error as Error).message.slice('s.toml:'.length);
  }
  assert.fail(`expected the scenario to be refused:\n${text}`);
}

const head = '[experiment]\nname = "x"\n';
const withProbe = (probe: string): string => `${head}[[steadyState]]\nname = "p"\nprobe = ${probe}\n`;
const withLimits = (limits: string): string =>
  `${head}[targets.app]\ntype = "process"\nargv = ["sleep", "1"]\nlimits = ${limits}\n`;

describe('probe fields in scenario files', () => {
  it('accepts every tolerance form, and fills the module export', () => {
    const scenario = validate(`${head}
[[steadyState]]
name = "a"
probe = { type = "http", url = "http://x", status = [200, "3xx"], body = "ok", json = { path = "$.a[0]", range = [0, 9] } }
[[steadyState]]
name = "b"
probe = { type = "command", argv = ["grep", "-q", "ERROR", "log"], exitCode = 1, stdout = "", range = [0, 100] }
[[steadyState]]
name = "c"
probe = { type = "module", path = "checks/health.mjs" }
`);
    assert.deepEqual(scenario.steadyState?.[0]?.probe.status, [200, '3xx']);
    assert.equal(scenario.steadyState?.[1]?.probe.exitCode, 1);
    assert.deepEqual(scenario.steadyState?.[2]?.probe, {
      type: 'module',
      path: join(process.cwd(), 'checks/health.mjs'),
      export: 'probe',
    });
    // Against the scenario file's folder, wherever the run starts.
    const beside = validate(
      withProbe('{ type = "module", path = "./h.mjs", export = "healthy" }'),
      '/srv/chaos/s.toml',
    );
    assert.deepEqual(beside.steadyState?.[0]?.probe, {
      type: 'module',
      path: '/srv/chaos/h.mjs',
      export: 'healthy',
    });
    const limited = validate(withLimits('{ memoryMiB = 256, percentOfOneCore = 50, maxTasks = 64 }'));
    assert.deepEqual(limited.targets?.app?.limits, { memoryMiB: 256, percentOfOneCore: 50, maxTasks: 64 });
  });

  it('refuses a wrong value or a missing required field with file:line:column and the field', () => {
    const p = (probe: string, pattern: RegExp): [string, RegExp] => [withProbe(probe), pattern];
    const cases: [string, RegExp][] = [
      p(
        '{ type = "http", url = "http://x", status = 99 }',
        /^5:53: steadyState\[0\]\.probe\.status: expected a status code/,
      ),
      p(
        '{ type = "http", url = "http://x", status = ["2XX"] }',
        /^5:54: steadyState\[0\]\.probe\.status\[0\]: expected a status code .*"2xx"/,
      ),
      p(
        '{ type = "http", url = "http://x", body = "(" }',
        /^5:51: steadyState\[0\]\.probe\.body: not a valid regular expression/,
      ),
      p('{ type = "http", status = 200 }', /^5:9: steadyState\[0\]\.probe\.url: is required/),
      p(
        '{ type = "http", url = "http://x", json = { equals = 1 } }',
        /^5:51: steadyState\[0\]\.probe\.json\.path: is required/,
      ),
      p(
        '{ type = "http", url = "http://x", json = { path = "a.b", equals = 1 } }',
        /^5:60: steadyState\[0\]\.probe\.json\.path: bad JSON path "a\.b" at character 1/,
      ),
      p(
        '{ type = "http", url = "http://x", json = { path = "$.a" } }',
        /^5:51: steadyState\[0\]\.probe\.json: give one of equals, range, matches/,
      ),
      p(
        '{ type = "http", url = "http://x", json = { path = "$.a", range = [1] } }',
        /^5:75: steadyState\[0\]\.probe\.json\.range: expected \[min, max\]/,
      ),
      p(
        '{ type = "http", url = "http://x", json = { path = "$.a", matches = "[" } }',
        /^5:77: steadyState\[0\]\.probe\.json\.matches: not a valid regular expression/,
      ),
      p(
        '{ type = "command", argv = ["true"], exitCode = 256 }',
        /^5:57: steadyState\[0\]\.probe\.exitCode: expected an exit code 0\.\.255, got 256/,
      ),
      p(
        '{ type = "command", argv = ["true"], exitCode = [] }',
        /^5:57: steadyState\[0\]\.probe\.exitCode: expected at least one exit code/,
      ),
      p(
        '{ type = "command", argv = ["true"], stdout = "*" }',
        /^5:55: steadyState\[0\]\.probe\.stdout: not a valid regular expression/,
      ),
      p(
        '{ type = "command", argv = ["true"], range = [5, 1] }',
        /^5:54: steadyState\[0\]\.probe\.range: min 5 is more than max 1/,
      ),
      p('{ type = "command", exitCode = 1 }', /^5:9: steadyState\[0\]\.probe\.argv: is required/),
      p(
        '{ type = "log", target = "app", pattern = "(?<" }',
        /^5:51: steadyState\[0\]\.probe\.pattern: not a valid regular expression/,
      ),
      p('{ type = "module" }', /^5:9: steadyState\[0\]\.probe\.path: is required/),
      p(
        '{ type = "module", path = "h.mjs", export = 3 }',
        /^5:53: steadyState\[0\]\.probe\.export: expected a string, got 3/,
      ),
      p(
        '{ type = "function", path = "h.mjs" }',
        /^5:18: steadyState\[0\]\.probe\.type: expected one of .*"module"/,
      ),
      [
        withLimits('{ memoryMiB = 0 }'),
        /^6:24: targets\.app\.limits\.memoryMiB: expected a number >= 1, got 0/,
      ],
      [withLimits('{ maxTasks = 1.5 }'), /^6:23: targets\.app\.limits\.maxTasks: expected an integer >= 1/],
      [
        withLimits('{ percentOfOneCore = "half" }'),
        /^6:31: targets\.app\.limits\.percentOfOneCore: expected a number/,
      ],
      [
        withLimits('{ memory = "256MiB" }'),
        /^6:12: targets\.app\.limits\.memory: unknown parameter; valid: memoryMiB, percentOfOneCore, maxTasks/,
      ],
      [withLimits('{}'), /^6:10: targets\.app\.limits: gives no limit/],
    ];
    for (const [text, pattern] of cases) assert.match(refusal(text), pattern);
  });

  it('publishes the new fields in the JSON Schema', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    for (const name of [
      '"module"',
      '"export"',
      '"memoryMiB"',
      '"percentOfOneCore"',
      '"maxTasks"',
      '"stdout"',
      '"json"',
    ])
      assert.ok(text.includes(name), `${name} in the schema`);
  });
});

/** Writes `files` into a fresh folder and the scenario beside them; returns the scenario's path. */
function scenarioIn(name: string, scenario: string, files: Record<string, string>): string {
  const folder = mkdtempSync(join(dir, `${name}-`));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  const path = join(folder, 'scenario.toml');
  writeFileSync(path, scenario);
  return path;
}

const app = `[targets.app]
type = "process"
argv = ["${process.execPath}", "-e", "console.log('up'); setInterval(() => {}, 1000)"]
ready = { type = "log", target = "app", pattern = "^up$" }
`;

function probeScenario(probe: string): string {
  return `${head}duration = "50ms"\n${app}[[steadyState]]\nname = "check"\nprobe = ${probe}\ntimeout = "2s"\n`;
}

/** Runs the scenario, noting the app's pid so the file's `after` proves it did not outlive the test. */
async function run(file: string) {
  const logged: string[] = [];
  const result = await runScenario(await loadScenario(file), { seed: 1, log: (line) => logged.push(line) });
  for (const line of logged) {
    const pid = /^target app .* pid (\d+)/.exec(line)?.[1];
    if (pid !== undefined) seenPids.add(Number(pid));
  }
  return result;
}

describe('module probes', () => {
  it('import the module beside the scenario file and call its function with the signal and the targets', async () => {
    const file = scenarioIn('pass', probeScenario('{ type = "module", path = "./health.mjs" }'), {
      'health.mjs': `export async function probe({ signal, targets }) {
        if (!(signal instanceof AbortSignal)) throw new Error('no signal');
        return targets.get('app', 'process').object.pid > 0;
      }`,
    });
    const result = await run(file);
    assert.equal(result.verdict, 'pass', result.reason);
    assert.deepEqual(result.steadyStateBefore, [{ name: 'check', ok: true }]);

    const named = scenarioIn(
      'named',
      probeScenario('{ type = "module", path = "h.mjs", export = "healthy" }'),
      {
        'h.mjs': 'export const healthy = () => undefined;',
      },
    );
    assert.equal((await run(named)).verdict, 'pass');
  });

  it('fail when the function returns false or throws, saying why', async () => {
    const file = scenarioIn('fail', probeScenario('{ type = "module", path = "h.mjs" }'), {
      'h.mjs': 'export const probe = () => false;',
    });
    const result = await run(file);
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /the steady state did not hold before the method: check: .*returned false/);
    const throws = scenarioIn('throws', probeScenario('{ type = "module", path = "h.mjs" }'), {
      'h.mjs': 'export async function probe() { throw new Error("replica lag 9 s"); }',
    });
    assert.match((await run(throws)).reason, /check: .*replica lag 9 s/);
  });

  it('a module that cannot be imported or exports no function is an error at setup naming the field; nothing runs on', async () => {
    const missing = scenarioIn('missing', probeScenario('{ type = "module", path = "nope.mjs" }'), {});
    const result = await run(missing);
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /^steadyState\[0\]\.probe\.path: \/.*\/nope\.mjs: cannot import it/);
    assert.deepEqual(result.steadyStateBefore, []);
    const broken = scenarioIn('broken', probeScenario('{ type = "module", path = "h.mjs" }'), {
      'h.mjs': 'export const probe = 3; export const other = () => true;',
    });
    assert.match(
      (await run(broken)).reason,
      /^steadyState\[0\]\.probe\.path: .*h\.mjs: it exports no function named "probe" \(it exports: other, probe\)/,
    );
    const syntax = scenarioIn('syntax', probeScenario('{ type = "module", path = "h.mjs" }'), {
      'h.mjs': 'export const probe = (;',
    });
    assert.match(
      (await run(syntax)).reason,
      /^steadyState\[0\]\.probe\.path: .*h\.mjs: cannot import it: .*SyntaxError|Unexpected token/,
    );
  });

  it('as a ready probe: imported before the process starts, so a bad one starts nothing', async () => {
    const scenario = `${head}duration = "50ms"
[targets.app]
type = "process"
argv = ["${process.execPath}", "-e", "setInterval(() => {}, 1000)"]
ready = { type = "module", path = "ready.mjs" }
`;
    const good = scenarioIn('ready', scenario, { 'ready.mjs': 'export const probe = () => true;' });
    assert.equal((await run(good)).verdict, 'pass');
    const bad = scenarioIn('ready-bad', scenario, {});
    const logged: string[] = [];
    const result = await runScenario(await loadScenario(bad), { seed: 1, log: (line) => logged.push(line) });
    assert.match(result.reason, /^targets\.app\.ready\.path: .*ready\.mjs: cannot import it/);
    assert.equal(
      logged.filter((line) => line.startsWith('target app')).length,
      0,
      'the process never started',
    );
  });
});

describe('http probe tolerances in a run', () => {
  it('a JSON path out of range turns the steady state red with what came back and what was expected', async () => {
    const http = (path: string, extra: string): string =>
      probeScenario(`{ type = "http", url = "http://127.0.0.1:${port}${path}", ${extra} }`);
    const green = scenarioIn(
      'green',
      http('/health', 'json = { path = "$.queue.depth", range = [0, 100] }'),
      {},
    );
    assert.equal((await run(green)).verdict, 'pass');
    const red = scenarioIn(
      'red',
      http('/busy', 'status = [200, "5xx"], json = { path = "$.queue.depth", range = [0, 100] }'),
      {},
    );
    const result = await run(red);
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /check: probe "check": \$\.queue\.depth = 900, expected 0\.\.100/);
    const status = scenarioIn('status', http('/busy', 'body = "down"'), {});
    assert.match((await run(status)).reason, /status 503, expected 200–299/);
  });
});
