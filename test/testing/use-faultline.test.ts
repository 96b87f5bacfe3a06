// useFaultline on node:test: however a test ends, its faults are healed and what it owns is stopped,
// and its seed is printed with the command that replays it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UdpProxy } from '../../src/proxy/udp/udp-proxy.js';
import type { ScenarioInput } from '../../src/scenario/index.js';
import { runScenarioIn, useFaultline } from '../../src/testing/index.js';
import { cleanEnv } from '../support/scratch-project.js';

const testing = new URL('../../src/testing/index.js', import.meta.url).href;
const tcpFaults = new URL('../../src/proxy/tcp-faults.js', import.meta.url).href;
const tcpProxy = new URL('../../src/proxy/tcp-proxy.js', import.meta.url).href;

test('a failing test still heals its faults and stops what it owns; the seed and replay are printed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-use-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'failing.test.mjs');
  writeFileSync(
    file,
    `import { test } from 'node:test';
import { useFaultline } from ${JSON.stringify(testing)};
import { tcp } from ${JSON.stringify(tcpFaults)};
import { TcpProxy } from ${JSON.stringify(tcpProxy)};
const proxy = new TcpProxy({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' });
await proxy.start();
test('breaks', async (t) => {
  const fl = useFaultline(t, { seed: 7 });
  fl.own({ [Symbol.asyncDispose]: async () => console.log('OWNED STOPPED with toxics=' + proxy.toxics.length) });
  await tcp.latency({ proxy, latencyMs: 100 }).inject(fl.context);
  throw new Error('the system under test misbehaved');
});
test('after', async () => {
  console.log('TOXICS AFTER ' + proxy.toxics.length);
  await proxy.stop();
});
`,
  );
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv(), // the child is a test run of its own, not a part of this one
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 1, output);
  assert.match(output, /OWNED STOPPED with toxics=0/, output);
  assert.match(output, /TOXICS AFTER 0/, output);
  assert.match(
    output,
    /faultline seed 7; replay: FAULTLINE_SEED=7 node --test --test-name-pattern='breaks' '.*failing\.test\.mjs'/,
    output,
  );
});

test('own() takes what can be stopped, and stops it when the test ends', async (t) => {
  let port = 0;
  await t.test('inner', async (inner) => {
    const fl = useFaultline(inner, { seed: 1 });
    assert.throws(() => fl.own({} as AsyncDisposable), { code: 'FL_ERR_INVALID_ARGUMENT' });
    const proxy = fl.own(
      new UdpProxy({ name: 'u', listen: '127.0.0.1:0', upstream: '127.0.0.1:9', io: 'dgram' }),
    );
    await proxy.start();
    port = proxy.port;
  });
  // The inner test's end stopped the proxy: its port is free again.
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
});

test('runScenarioIn runs an inline scenario; a failing one fails the test with its reason and replay', async (t) => {
  const passing = {
    experiment: { name: 'inline', seed: 4 },
    targets: { front: { type: 'tcp-proxy', upstream: '127.0.0.1:9' } },
    faults: [{ kind: 'tcp.noop', at: '10ms', for: '20ms', params: { proxy: 'front' } }],
  } satisfies ScenarioInput;
  const result = await runScenarioIn(t, passing);
  assert.equal(result.verdict, 'pass');
  assert.equal(result.injections[0]?.healedAtMs !== undefined, true);
  const failing = {
    experiment: { name: 'unreachable', seed: 8, duration: '300ms' },
    steadyState: [
      {
        name: 'nothing',
        probe: { type: 'tcp', address: '127.0.0.1:9' },
        when: 'continuous',
        every: '50ms',
        timeout: '100ms',
      },
    ],
    checks: [{ check: 'probe-success', probe: 'nothing', minPercent: 50 }],
  } satisfies ScenarioInput;
  await assert.rejects(runScenarioIn(t, failing), (error: Error) => {
    assert.match(
      error.message,
      /^scenario "unreachable" \(<inline scenario>\): FAIL — probe-success nothing: nothing passed 0 of \d+ checks/,
    );
    assert.match(
      error.message,
      /seed 8; replay: FAULTLINE_SEED=8 node --test --test-name-pattern='runScenarioIn runs/,
    );
    return true;
  });
  await assert.rejects(
    // A JavaScript caller's typo: TypeScript refuses it, validation names it.
    runScenarioIn(t, { experiment: { name: 'x', seeds: 1 } } as unknown as ScenarioInput),
    /<inline scenario>: experiment\.seeds: unknown parameter/,
  );
});
