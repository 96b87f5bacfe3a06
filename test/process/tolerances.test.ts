// Probe tolerances against a real HTTP server on loopback and real commands: statuses as codes, classes and
// lists; body regexes; values at a JSON path that equal, lie in a range or match; exit codes other than 0;
// stdout regexes, JSON and numbers in a range. Each failure says what came back and what was expected.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { commandProbe, functionProbe, httpProbe } from '../../src/process/probes.js';
import {
  describeStatus,
  parseJsonPath,
  requireExitCodes,
  requireJsonCheck,
  requireRange,
  requireRegex,
  requireStatus,
} from '../../src/process/tolerances.js';

let server: Server;
let base = '';

before(async () => {
  server = createServer((request, response) => {
    const routes: Record<string, [number, string]> = {
      '/health': [
        200,
        JSON.stringify({ status: 'ok', queue: { depth: 512, name: 'jobs' }, items: [{ id: 7 }] }),
      ],
      '/empty': [204, ''],
      '/down': [503, 'down'],
      '/text': [200, 'not json at all'],
    };
    const [status, body] = routes[request.url ?? ''] ?? [404, 'no such route'];
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const node = (source: string): string[] => [process.execPath, '-e', source];

describe('probe tolerances', () => {
  it('http status: a code, a class, a list; the failure names what came back and what was expected', async () => {
    await httpProbe({ url: `${base}/health` }).check();
    await httpProbe({ url: `${base}/empty`, status: [200, 204] }).check();
    await httpProbe({ url: `${base}/down`, status: '5xx' }).check();
    await httpProbe({ url: `${base}/down`, status: ['2xx', 503] }).check();
    await assert.rejects(httpProbe({ url: `${base}/down` }).check(), /status 503, expected 200–299/);
    await assert.rejects(
      httpProbe({ url: `${base}/empty`, status: [200, 202] }).check(),
      /status 204, expected 200 or 202/,
    );
    assert.equal(describeStatus([200, '3xx', 404]), '200, 300–399 or 404');
  });

  it('http body regex and JSON path checks: equals, range, matches', async () => {
    const url = `${base}/health`;
    await httpProbe({ url, bodyMatches: /"status":"ok"/ }).check();
    await httpProbe({ url, json: requireJsonCheck({ path: '$.status', equals: 'ok' }, 'json') }).check();
    await httpProbe({
      url,
      json: requireJsonCheck({ path: '$.items[0].id', range: [1, 10] }, 'json'),
    }).check();
    await httpProbe({
      url,
      json: requireJsonCheck({ path: "$['queue'].name", matches: '^jo' }, 'json'),
    }).check();
    await httpProbe({
      url,
      json: requireJsonCheck({ path: '$.queue', equals: { depth: 512, name: 'jobs' } }, 'json'),
    }).check();
    await assert.rejects(
      httpProbe({ url, json: requireJsonCheck({ path: '$.queue.depth', range: [0, 100] }, 'json') }).check(),
      /\$\.queue\.depth = 512, expected 0\.\.100/,
    );
    await assert.rejects(
      httpProbe({ url, json: requireJsonCheck({ path: '$.status', equals: 'degraded' }, 'json') }).check(),
      /\$\.status = "ok", expected "degraded"/,
    );
    await assert.rejects(
      httpProbe({ url, json: requireJsonCheck({ path: '$.items[3].id', equals: 1 }, 'json') }).check(),
      /\$\.items\[3\] is not in the body/,
    );
    await assert.rejects(
      httpProbe({ url: `${base}/text`, json: requireJsonCheck({ path: '$.a', equals: 1 }, 'json') }).check(),
      /body is not JSON .*"not json at all"/,
    );
    await assert.rejects(
      httpProbe({ url, bodyMatches: /degraded/ }).check(),
      /body does not match \/degraded\//,
    );
  });

  it('command: accepted exit codes other than 0 (grep finding nothing passes), stdout regex, JSON, range', async () => {
    // grep exits 1 when it finds nothing: a probe that passes while no error is logged.
    await commandProbe({ argv: ['grep', '-q', 'ERROR', '/dev/null'], exitCode: 1 }).check();
    await commandProbe({ argv: node('process.exit(3)'), exitCode: [0, 3] }).check();
    await assert.rejects(
      commandProbe({ argv: node('process.exit(0)'), exitCode: 1 }).check(),
      /exited with code 0, expected exit code 1/,
    );
    await commandProbe({ argv: node('console.log("queue depth 12")'), stdoutMatches: /depth \d+/ }).check();
    await commandProbe({ argv: node('console.log(42)'), range: [0, 100] }).check();
    await assert.rejects(
      commandProbe({ argv: node('console.log(512)'), range: [0, 100] }).check(),
      /stdout = 512, expected 0\.\.100/,
    );
    await assert.rejects(
      commandProbe({ argv: node('console.log("lots")'), range: [0, 100] }).check(),
      /stdout = "lots\\n", expected a number in 0\.\.100/,
    );
    const json = requireJsonCheck({ path: '$.lag', range: [0, 5] }, 'json');
    await commandProbe({ argv: node('console.log(JSON.stringify({ lag: 2 }))'), json }).check();
    await assert.rejects(
      commandProbe({ argv: node('console.log(JSON.stringify({ lag: 9 }))'), json }).check(),
      /\$\.lag = 9, expected 0\.\.5/,
    );
    await assert.rejects(
      commandProbe({ argv: node('console.log("up")'), stdoutMatches: /^ready/ }).check(),
      /stdout does not match \/\^ready\/: "up\\n"/,
    );
  });

  it('function: returning false fails; anything else passes', async () => {
    await functionProbe('true', () => true).check();
    await functionProbe('void', async () => {}).check();
    await assert.rejects(functionProbe('false', async () => false).check(), /returned false/);
  });

  it('refuses bad tolerances naming the field and what is valid', () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => requireStatus(99, 's'),
        /^s: expected a status code \(100\.\.599\) or a class like "2xx", got 99/,
      ],
      [() => requireStatus('2XX', 's'), /^s: expected a status code/],
      [() => requireStatus([200, 'ok'], 's'), /^s\[1\]: expected a status code/],
      [() => requireStatus([], 's'), /^s: expected at least one status/],
      [() => requireExitCodes(256, 'e'), /^e: expected an exit code 0\.\.255, got 256/],
      [() => requireExitCodes([0, -1], 'e'), /^e\[1\]: expected an exit code/],
      [() => requireRange([5, 1], 'r'), /^r: min 5 is more than max 1/],
      [() => requireRange([1], 'r'), /^r: expected \[min, max\]/],
      [() => requireRegex('(', 'x'), /^x: not a valid regular expression/],
      [() => requireRegex(3, 'x'), /^x: expected a regular expression as a string/],
      [() => parseJsonPath('a.b', 'p'), /^p: bad JSON path "a\.b" at character 1: it must start with \$/],
      [
        () => parseJsonPath('$.a[x]', 'p'),
        /^p: bad JSON path "\$\.a\[x\]" at character 4: expected \[index\]/,
      ],
      [() => parseJsonPath('$.', 'p'), /^p: bad JSON path "\$\." at character 3: expected a name/],
      [() => parseJsonPath('$a', 'p'), /^p: bad JSON path "\$a" at character 2: unexpected "a"/],
      [() => requireJsonCheck({ equals: 1 }, 'j'), /^j\.path: is required/],
      [() => requireJsonCheck({ path: '$.a' }, 'j'), /^j: give one of equals, range, matches/],
      [
        () => requireJsonCheck({ path: '$.a', equals: 1, range: [0, 1] }, 'j'),
        /^j: give one of equals, range, not several/,
      ],
      [() => requireJsonCheck({ path: '$.a', within: 1 }, 'j'), /^j\.within: unknown parameter/],
      [
        () => requireJsonCheck({ path: '$.a', matches: '[' }, 'j'),
        /^j\.matches: not a valid regular expression/,
      ],
    ];
    for (const [run, pattern] of cases) assert.throws(run, { message: pattern });
    assert.deepEqual(parseJsonPath(`$.a["b c"][2]['d']`, 'p'), ['a', 'b c', 2, 'd']);
  });
});
