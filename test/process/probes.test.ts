import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commandProbe, functionProbe, httpProbe, logProbe, tcpProbe } from '../../src/process/probes.js';
import type { Target } from '../../src/process/supervisor.js';
import { fixtureDir, portOf, rig, script } from './helpers.js';

describe('probes', () => {
  it('tcp: passes against a listening server and fails once it is gone', async (t) => {
    const { start } = rig(t);
    const server = await start({ name: 'srv', argv: script('server.mjs'), ready: logProbeFor('srv') });
    const probe = tcpProbe({ port: portOf(server), timeoutMs: 1000 });
    await probe.check();
    await server.stop({ graceMs: 1000 });
    await assert.rejects(probe.check(), { code: 'FL_ERR_PROBE', message: /cannot connect: .*ECONNREFUSED/ });
  });

  it('http: checks status and body, and says why it failed', async (t) => {
    const { start } = rig(t);
    const server = await start({ name: 'web', argv: script('server.mjs'), ready: logProbeFor('web') });
    const base = `http://127.0.0.1:${portOf(server)}`;
    await httpProbe({ url: `${base}/`, bodyIncludes: 'healthy' }).check();
    await httpProbe({ url: `${base}/`, status: 200, bodyMatches: /ok \w+/ }).check();
    await httpProbe({ url: `${base}/fail`, status: 503 }).check();
    await assert.rejects(
      httpProbe({ url: `${base}/fail` }).check(),
      /status 503, expected 200–299; body "down"/,
    );
    await assert.rejects(
      httpProbe({ url: `${base}/`, bodyIncludes: 'nope' }).check(),
      /does not include "nope"/,
    );
    assert.throws(() => httpProbe({ url: base, bodyIncludes: 'a', bodyMatches: /a/ }), /not both/);
  });

  it('command: exit 0 passes; a failure names the exit code and stderr; argv only', async () => {
    await commandProbe({ argv: [process.execPath, '-e', 'process.exit(0)'] }).check();
    await assert.rejects(
      commandProbe({ argv: [process.execPath, '-e', 'console.error("sick"); process.exit(2)'] }).check(),
      /exited with code 2, expected exit code 0; stderr: sick/,
    );
    await assert.rejects(
      commandProbe({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], timeoutMs: 200 }).check(),
      /timed out after 200ms/,
    );
    await assert.rejects(commandProbe({ argv: ['/nonexistent/binary'] }).check(), /cannot run .*ENOENT/);
    assert.throws(() => commandProbe({ argv: 'true' as unknown as string[] }), /shell strings are not run/);
  });

  it('log: only lines after the probe was made count (since "now"), or all of them ("start")', async () => {
    const file = join(fixtureDir, 'app.log');
    writeFileSync(file, 'ready old\n');
    const fresh = logProbe({ file, pattern: /ready/ });
    await logProbe({ file, pattern: /ready/, since: 'start' }).check();
    await assert.rejects(fresh.check(), /no line matching \/ready\//);
    appendFileSync(file, 'ready new\n');
    await fresh.check();
    assert.throws(() => logProbe({ pattern: /x/ }), /exactly one of file or target/);
  });

  it('function: passes when the function resolves, fails with its error', async () => {
    await functionProbe('fine', () => {}).check();
    await assert.rejects(
      functionProbe('broken', async () => {
        throw new Error('disk full');
      }).check(),
      /disk full/,
    );
  });
});

function logProbeFor(_name: string) {
  return (target: Target) => logProbe({ target, pattern: /^ready \d+/, since: 'start' });
}
