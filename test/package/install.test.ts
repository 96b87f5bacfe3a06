// faultline installed as a user installs it, into fresh projects (../support/scratch-project.ts):
// from the tarball of `npm pack`, and from a git URL of a clean clone of this repository (npm clones
// it, installs its dev dependencies, runs `prepare`, which builds dist/ and the prebuilt addon, and packs
// it). Each install must hold dist/ and the prebuilt addon, need no compiling (its install script finds
// the prebuild and does nothing), run the `faultline` bin and give batched UDP I/O. On the tarball's
// install, a consumer's strict TypeScript compiles against every entry point; and with the prebuild gone,
// the fallback to node:dgram is said once, and the command the error names brings batched I/O back.
// The git install takes HEAD: commit before running this on changes.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  compileInProject,
  createScratchProject,
  killRunning,
  packRepository,
  repositoryRoot,
  run,
  type ScratchProject,
} from '../support/scratch-project.js';

const sources = ['tarball', 'git'] as const;
type Source = (typeof sources)[number];

/** The prebuild node-gyp-build picks on this machine (Linux, x64 or another architecture, glibc). */
const prebuild = `prebuilds/linux-${process.arch}/node.napi.glibc.node`;

/** Prints the `io` of two UDP proxies given `io` (or none), or the error's code and message. */
const udpScript = `import { UdpProxy } from 'faultline/proxy';
const io = process.argv[2] || undefined;
try {
  const make = (name) => new UdpProxy({ name, listen: '127.0.0.1:0', upstream: '127.0.0.1:9', ...(io ? { io } : {}) });
  console.log(make('a').io, make('b').io);
} catch (error) {
  console.log(error.code, error.message);
}
`;

const work = mkdtempSync(join(tmpdir(), 'faultline-package-'));
const projects = new Map<Source, ScratchProject>();
let shipped: string[] = [];

function project(source: Source): ScratchProject {
  const found = projects.get(source);
  assert.ok(found, `the ${source} install`);
  return found;
}

async function runUdpScript(source: Source, io?: string): Promise<{ stdout: string; stderr: string }> {
  const { dir, env } = project(source);
  const script = join(dir, 'udp-io.mjs');
  writeFileSync(script, udpScript);
  const result = await run(process.execPath, [script, ...(io ? [io] : [])], { cwd: dir, env: env() });
  assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  return { stdout: result.stdout.trim(), stderr: result.stderr };
}

describe('faultline installs from a tarball and from a git URL', { concurrency: false }, () => {
  before(
    async () => {
      const packed = await packRepository(work);
      shipped = packed.files;
      const clone = join(work, 'repo');
      const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: repositoryRoot })).stdout.trim();
      const cloned = await run('git', ['clone', '--quiet', repositoryRoot, clone], { cwd: work });
      assert.equal(cloned.code, 0, cloned.stderr);
      const installs = await Promise.allSettled([
        createScratchProject('package-tarball', [packed.tarball]),
        // npm clones this clone, installs its dev dependencies and runs `prepare` there.
        createScratchProject('package-git', [`git+file://${clone}#${head}`], { timeoutMs: 400_000 }),
      ]);
      installs.forEach((install, i) => {
        if (install.status === 'fulfilled') projects.set(sources[i] as Source, install.value);
      });
      for (const install of installs) if (install.status === 'rejected') throw install.reason;
    },
    { timeout: 480_000 },
  );

  after(() => {
    killRunning();
    for (const installed of projects.values()) installed.remove();
    rmSync(work, { recursive: true, force: true });
  });

  test('the tarball ships dist/, the prebuilt addon and what compiles it, and no tests or sources', () => {
    // scenarios/demo.toml and the demo service: what `faultline demo` runs.
    const demo = ['scenarios/demo.toml', 'dist/src/demo/kv-service.js'];
    for (const path of ['dist/src/public/index.js', prebuild, 'native/udp_batch.c', 'binding.gyp', ...demo]) {
      assert.ok(shipped.includes(path), `${path} is in the tarball`);
    }
    const stray = shipped.filter((path) => /^(dist\/(test|bench|examples)\/|src\/|build\/)/.test(path));
    assert.deepEqual(stray, [], 'no tests, benchmarks, TypeScript sources or local builds');
  });

  for (const source of sources) {
    describe(`installed from the ${source === 'git' ? 'git URL' : 'tarball'}`, () => {
      test('has its exports, bin and prebuilt addon, and compiled nothing', () => {
        const { installed, installLog } = project(source);
        assert.doesNotMatch(installLog, /npm (error|ERR!)/);
        const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
          bin: Record<string, string>;
          exports: Record<string, string | Record<string, string>>;
        };
        for (const [subpath, target] of Object.entries(manifest.exports)) {
          for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
            assert.ok(existsSync(join(installed, path)), `exports["${subpath}"] → ${path} is in the package`);
          }
        }
        for (const path of Object.values(manifest.bin)) {
          assert.ok(existsSync(join(installed, path)), `bin ${path}`);
        }
        assert.ok(existsSync(join(installed, prebuild)), `${prebuild} is installed`);
        if (source === 'git') {
          // npm ran `prepare` in its clone, which built dist/ and the prebuild.
          assert.match(installLog, /> faultline@\S+ prepare\n/);
          assert.match(installLog, /faultline: prebuild prebuilds\/linux-/);
        }
        // The install script found the prebuild, so it neither compiled nor printed anything.
        assert.ok(!existsSync(join(installed, 'build')), `no build/ (compiled at install):\n${installLog}`);
        assert.doesNotMatch(installLog, /faultline: (built|could not build)/);
      });

      test('`npx faultline --version` prints the version', async () => {
        const { dir, installed, env } = project(source);
        const { version } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
          version: string;
        };
        const result = await run('npx', ['--offline', 'faultline', '--version'], { cwd: dir, env: env() });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), version);
      });

      test("a UdpProxy with io: 'batch' gets batched I/O, and auto chooses it without a warning", async () => {
        assert.equal((await runUdpScript(source, 'batch')).stdout, 'batch batch');
        const auto = await runUdpScript(source);
        assert.equal(auto.stdout, 'batch batch');
        assert.doesNotMatch(auto.stderr, /Warning/);
      });
    });
  }

  test("a consumer's strict TypeScript compiles against every entry point", async () => {
    const { dir, installed } = project('tarball');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const entries = Object.keys(manifest.exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => subpath.replace(/^\./, 'faultline'));
    assert.ok(entries.length > 1, 'the package has subpath exports');
    const file = 'consumer.ts';
    writeFileSync(
      join(dir, file),
      [
        ...entries.map((entry, i) => `import * as entry${i} from '${entry}';`),
        "import { FaultlineError, RealClock, Random } from 'faultline';",
        "import { UdpProxy, type UdpProxyOptions } from 'faultline/proxy';",
        '',
        `export const entries: readonly object[] = [${entries.map((_, i) => `entry${i}`).join(', ')}];`,
        "const options: UdpProxyOptions = { name: 'u', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' };",
        "export const io: 'batch' | 'dgram' = new UdpProxy(options).io;",
        'export const now: number = new RealClock().now();',
        'export const draw: number = new Random(1).next();',
        'export const isError = (error: unknown): boolean => error instanceof FaultlineError;',
        '// The types are real, not any: a wrong option is an error.',
        "// @ts-expect-error io is 'auto', 'batch' or 'dgram'",
        "export const wrong: UdpProxyOptions = { ...options, io: 'fast' };",
        '',
      ].join('\n'),
    );
    const tsc = await compileInProject(dir, [file]);
    assert.equal(tsc.code, 0, `${tsc.stdout}${tsc.stderr}`);
  });

  test('without a prebuild for this machine: one warning, a clear error, and its command fixes it', async () => {
    const { dir, installed, env } = project('tarball');
    rmSync(join(installed, 'prebuilds'), { recursive: true, force: true });
    // auto falls back to node:dgram, saying so once per process (two proxies here) and why.
    const auto = await runUdpScript('tarball');
    assert.equal(auto.stdout, 'dgram dgram');
    const warnings = auto.stderr.match(/\[FL_WARN_UDP_DGRAM_FALLBACK\][^\n]*/g) ?? [];
    assert.equal(warnings.length, 1, auto.stderr);
    assert.match(warnings[0] ?? '', /node:dgram .*No native build was found/);
    // io: 'batch' is refused with the command that compiles the addon in this project; it works.
    const refused = await runUdpScript('tarball', 'batch');
    assert.match(refused.stdout, /^FL_ERR_UNAVAILABLE /);
    const command = /"(npm rebuild faultline[^"]*)"/.exec(refused.stdout)?.[1];
    assert.ok(command, `the error names an npm rebuild command: ${refused.stdout}`);
    const rebuilt = await run('sh', ['-c', command], { cwd: dir, env: env(), timeoutMs: 120_000 });
    assert.equal(rebuilt.code, 0, `${rebuilt.stdout}${rebuilt.stderr}`);
    assert.match(rebuilt.stdout, /faultline: built the batched UDP I\/O addon/);
    assert.equal((await runUdpScript('tarball', 'batch')).stdout, 'batch batch');
  });
});
