import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from './run-cli.js';

let dir = '';
let echo: Server;
let echoPort = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-cli-'));
  echo = createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as AddressInfo).port;
});

after(async () => {
  echo.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function echoThrough(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    socket.setEncoding('utf8');
    await once(socket, 'connect');
    socket.write(text);
    let received = '';
    for await (const chunk of socket) {
      received += chunk;
      if (received.length >= text.length) break;
    }
    return received;
  } finally {
    socket.destroy();
  }
}

async function freePort(): Promise<{ port: number; server: Server }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, server };
}

describe('faultline server', () => {
  it('prints its seed first, serves the API, and exits cleanly on SIGTERM', async () => {
    const cli = startCli(['server', '--port', '0', '--seed', '1234', '--quiet']);
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      assert.match(cli.stdout().split('\n')[0] ?? '', /^faultline: seed 1234 \(replay with --seed 1234\)$/);
      const version = await fetch(`${url}/version`);
      assert.equal(version.status, 200);
      const created = await fetch(`${url}/proxies`, {
        method: 'POST',
        body: JSON.stringify({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` }),
      });
      assert.equal(created.status, 201);
      const { listen } = (await created.json()) as { listen: string };
      const proxyPort = Number(listen.split(':').at(-1));
      assert.equal(await echoThrough(proxyPort, 'hello'), 'hello');

      cli.process.kill('SIGTERM');
      const [code] = await once(cli.process, 'exit');
      assert.equal(code, 0);
      // The proxy's listener went with the process.
      await assert.rejects(echoThrough(proxyPort, 'x'), { code: 'ECONNREFUSED' });
    } finally {
      cli.kill();
    }
  });

  it('creates proxies and toxics from --config', async () => {
    const config = await writeConfig(
      'ok.json',
      JSON.stringify([
        {
          name: 'echo',
          listen: '127.0.0.1:0',
          upstream: `127.0.0.1:${echoPort}`,
          toxics: [{ type: 'latency', attributes: { latency: 50 } }],
        },
      ]),
    );
    const cli = startCli(['server', '--port', '0', '--config', config, '--quiet']);
    try {
      const [, proxyPort] = await cli.waitFor(/proxy echo 127\.0\.0\.1:(\d+) -> /);
      const [, url] = await cli.waitFor(/listening on (http:\/\/[\d.:]+)/);
      const toxics = (await (await fetch(`${url}/proxies/echo/toxics`)).json()) as { name: string }[];
      assert.deepEqual(
        toxics.map((t) => t.name),
        ['latency_downstream'],
      );
      const started = performance.now();
      assert.equal(await echoThrough(Number(proxyPort), 'ping'), 'ping');
      assert.ok(performance.now() - started >= 49, 'the latency toxic from the config applies');
    } finally {
      cli.kill();
    }
  });

  it('stops start-up on malformed JSON in --config, naming file, line and column', async () => {
    const config = await writeConfig('bad.json', '[\n  {"name": "a",\n   "listen": "127.0.0.1:0",,\n  }\n]');
    const result = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${config.replace(/[.]/g, '\\.')}:3:\\d+: invalid JSON`));
    assert.doesNotMatch(result.stdout, /listening/);
  });

  it('stops start-up on an invalid proxy in --config, naming the line and field', async () => {
    const config = await writeConfig(
      'invalid.json',
      `[
  {"name": "good", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:${echoPort}"},
  {"name": "bad", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:${echoPort}",
   "toxics": [{"type": "latency", "toxicity": 2}]}
]`,
    );
    const result = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /invalid\.json:3: proxies\[1\]\.toxics\[0\]\.toxicity: expected a number >= 0 and <= 1, got 2/,
    );
    assert.doesNotMatch(result.stdout, /listening/);
  });

  it('refuses a --config that is not an array', async () => {
    const config = await writeConfig('object.json', '{"proxies": []}');
    const result = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /object\.json:1:1: expected a JSON array of proxies/);
  });

  it('fails start-up when a --config proxy port is in use, leaving nothing listening', async () => {
    const taken = await freePort();
    try {
      const config = await writeConfig(
        'taken.json',
        JSON.stringify([
          { name: 'first', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` },
          { name: 'second', listen: `127.0.0.1:${taken.port}`, upstream: `127.0.0.1:${echoPort}` },
        ]),
      );
      const result = await runCli(['server', '--port', '0', '--config', config]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`listen tcp 127\\.0\\.0\\.1:${taken.port}: bind: address already in use`),
      );
    } finally {
      taken.server.close();
    }
  });

  it('fails start-up when the API port is in use', async () => {
    const taken = await freePort();
    try {
      const result = await runCli(['server', '--port', String(taken.port)]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /address already in use/);
    } finally {
      taken.server.close();
    }
  });

  it('refuses bad flags with exit code 2 and the usage', async () => {
    for (const args of [
      ['server', '--bogus'],
      ['server', '--port', 'abc'],
      ['server', '--port', '70000'],
      ['nope'],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /Usage: faultline/, args.join(' '));
    }
    const missing = await runCli(['server', '--port', '0', '--config', join(dir, 'missing.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing\.json: cannot read config file/);
  });

  it('prints its version and help', async () => {
    const version = await runCli(['version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = await runCli(['server', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--config <file>/);
  });
});
