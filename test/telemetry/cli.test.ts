// `faultline run` with the standard OTEL_* variables: the run's spans reach an OTLP receiver; a bad
// variable is a clear error before anything runs; and commands that do not trace never load the SDK.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOtlpReceiver } from '../../src/telemetry/index.js';
import { runCli } from '../cli/run-cli.js';

const scenario = `
[experiment]
name = "cli traced"
seed = 7
timeLimit = "30s"
duration = "200ms"

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:9"

[[faults]]
kind = "tcp.latency"
at = "50ms"
for = "100ms"
params = { proxy = "front", latencyMs = 10 }
`;

async function scenarioDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-spans-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'traced.toml'), scenario);
  return dir;
}

describe('faultline run with OTEL_* set', () => {
  it('exports the run as spans to OTEL_EXPORTER_OTLP_ENDPOINT', async (t) => {
    const dir = await scenarioDir(t);
    const receiver = await startOtlpReceiver();
    t.after(() => receiver.close());
    const result = await runCli(['run', '--no-journal', 'traced.toml'], 30_000, {
      cwd: dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'chaos-ci' },
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.equal(result.stderr, '');
    const spans = receiver.spans();
    const root = spans.find((span) => span.name === 'faultline.run');
    assert.equal(root?.attributes['faultline.run.verdict'], 'pass');
    assert.equal(root?.serviceName, 'chaos-ci');
    const fault = spans.find((span) => span.name === 'faultline.fault');
    assert.equal(fault?.attributes['faultline.fault.kind'], 'tcp.latency');
    assert.equal(fault?.traceId, root?.traceId);
    assert.equal(receiver.requests.protobuf, 1, 'one batch, flushed at the end');
  });

  it('a bad variable is an error naming it, before anything runs', async (t) => {
    const dir = await scenarioDir(t);
    const result = await runCli(['run', '--no-journal', 'traced.toml'], 30_000, {
      cwd: dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported .*: use http\/protobuf or http\/json/,
    );
    assert.doesNotMatch(result.stdout, /seed 7/);
  });

  it('the package root and `faultline validate` do not load the OpenTelemetry SDK', async (t) => {
    const dir = await scenarioDir(t);
    const root = fileURLToPath(new URL('../../src/public/index.js', import.meta.url));
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    // The OTel packages are CommonJS: whatever loaded them is in the CommonJS module cache.
    const probe = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@opentelemetry'));
      await import(${JSON.stringify(root)});
      const afterRoot = loaded().length;
      process.argv = [process.argv[0], ${JSON.stringify(cli)}, 'validate', 'traced.toml'];
      process.exitCode = 0;
      await import(${JSON.stringify(cli)});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const afterValidate = loaded().length;
      // The control: a tracer does load it, and the probe sees that.
      const { startRunTracer } = await import(${JSON.stringify(root)});
      await (await startRunTracer({ env: {} })).close();
      console.log(JSON.stringify({ afterRoot, afterValidate, tracing: loaded().length > 0 }));
    `;
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', probe],
        { cwd: dir },
        (error, stdout, stderr) =>
          error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stdout}\n${stderr}`)),
      ),
    );
    const last = output.trim().split('\n').at(-1) as string;
    assert.deepEqual(JSON.parse(last), { afterRoot: 0, afterValidate: 0, tracing: true }, output);
  });
});
