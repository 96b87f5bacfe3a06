import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
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
      /invalid\.json:4:\d+: proxies\[1\]\.toxics\[0\]\.toxicity: expected a number >= 0 and <= 1, got 2/,
    );
    assert.doesNotMatch(result.stdout, /listening/);
  });

  it('refuses a --config that is not an array', async () => {
    const config = await writeConfig('object.json', '{"proxies": []}');
    const result = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /object\.json:1:1: proxies: expected a JSON array of proxies/);
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
    for (const flag of ['--token', '--allow-host', '--allow-remote-listen', 'FAULTLINE_TOKEN']) {
      assert.ok(help.stdout.includes(flag), flag);
    }
  });

  it('with FAULTLINE_TOKEN (or --token) every request needs the bearer token', async () => {
    // The child inherits this process's environment at spawn time.
    process.env.FAULTLINE_TOKEN = 'from-env';
    let cli: ReturnType<typeof startCli>;
    try {
      cli = startCli(['server', '--port', '0', '--quiet']);
    } finally {
      delete process.env.FAULTLINE_TOKEN;
    }
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) \(token required\)/);
      const refused = await fetch(`${url}/version`);
      assert.equal(refused.status, 401);
      assert.deepEqual(
        ((await refused.json()) as { code: string; field: string }).code,
        'FL_ERR_UNAUTHORIZED',
      );
      const allowed = await fetch(`${url}/version`, { headers: { Authorization: 'Bearer from-env' } });
      assert.equal(allowed.status, 200);
      // A foreign Host is refused before anything else (DNS rebinding).
      // (fetch cannot set Host; node:http can.)
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(`${url}/version`, {
          agent: false,
          headers: { Authorization: 'Bearer from-env', Host: 'attacker.example' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(rebound, 403);
    } finally {
      cli.kill();
    }
    const empty = await runCli(['server', '--port', '0', '--token', '']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--token: expected a bearer token .*; got an empty string/);
  });

  it('refuses a token no request could carry, and an --allow-host no Host could match', async () => {
    // A token is taken as given (no trimming), by the CLI as by startApiServer.
    const spaced = await runCli(['server', '--port', '0', '--token', 'two words']);
    assert.equal(spaced.code, 2);
    assert.match(spaced.stderr, /--token: expected a bearer token .*character " " at position 4/);
    assert.doesNotMatch(spaced.stderr, /two words/, 'the secret is not echoed');
    process.env.FAULTLINE_TOKEN = 'secret\n';
    try {
      const fromEnv = await runCli(['server', '--port', '0']);
      assert.equal(fromEnv.code, 2);
      assert.match(fromEnv.stderr, /FAULTLINE_TOKEN: expected a bearer token/);
    } finally {
      delete process.env.FAULTLINE_TOKEN;
    }
    for (const [host, pattern] of [
      ['::1', /--allow-host: an IPv6 address goes in brackets.*"\[::1\]"/],
      ['fe80::1', /--allow-host: an IPv6 address goes in brackets/],
      ['a b', /--allow-host: "a b" is not a valid host name/],
    ] as const) {
      const refused = await runCli(['server', '--port', '0', '--allow-host', 'ok', '--allow-host', host]);
      assert.equal(refused.code, 2, host);
      assert.match(refused.stderr, pattern);
      assert.match(refused.stderr, /Usage: faultline server/);
    }
  });

  it('refuses proxies beyond loopback or on privileged ports unless --allow-remote-listen', async () => {
    const config = await writeConfig(
      'remote.json',
      `[\n  {"name": "wide", "listen": "0.0.0.0:0", "upstream": "127.0.0.1:${echoPort}"}\n]`,
    );
    const refused = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /remote\.json:2:30: proxies\[0\]\.listen: "0\.0\.0\.0:0" is not a loopback address/,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /);

    const cli = startCli(['server', '--port', '0', '--quiet', '--allow-remote-listen', '--config', config]);
    try {
      await cli.waitFor(/proxy wide 0\.0\.0\.0:\d+ -> /);
      await cli.waitFor(/listening on/);
      await cli.waitFor(/warning: --allow-remote-listen/, 15_000, 'stderr');
    } finally {
      cli.kill();
    }
  });

  it('names file:line:column, the field and the valid keys for a mistyped key in --config', async () => {
    const config = await writeConfig(
      'typo.json',
      `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:${echoPort}",\n   "ena}bled": false}\n]`,
    );
    const result = await runCli(['server', '--port', '0', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /typo\.json:3:4: proxies\[0\]\.ena}bled: unknown key "ena}bled" in a proxy; valid keys: name, listen, upstream, enabled, toxics/,
    );
    assert.doesNotMatch(result.stdout, /listening/);
  });
});
