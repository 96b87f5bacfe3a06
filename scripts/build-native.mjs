// The native addon behind batched UDP I/O (native/udp_batch.c). The package ships it prebuilt, in
// prebuilds/<platform>-<arch>/ where node-gyp-build (which loads it at run time) looks; this compiles it
// with the node-gyp that npm bundles, against the headers installed next to this Node (no download), only
// when needed:
//
//   node scripts/build-native.mjs              the `install` script: nothing when an addon loads here (the
//                                              prebuild, or an earlier build); else compiles it. `npm rebuild
//                                              faultline` runs it again; --build-from-source (or npm's
//                                              flag of that name) compiles anyway: `npm run build:native`
//   node scripts/build-native.mjs --if-missing `npm run build`: compiles unless build/Release has an addon
//                                              newer than its sources
//   node scripts/build-native.mjs --prebuild   `prepack`: as --if-missing, then copies the addon into
//                                              prebuilds/ for the tarball; fails when it cannot
//
// A failed build is not fatal at install: the UDP proxy then uses node:dgram, and says so and why.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where this Node is installed: npm (with its node-gyp) and the headers usually sit below it. */
const prefix = dirname(dirname(process.execPath));
const addon = join(root, 'build', 'Release', 'udp_batch.node');
const sources = ['native/udp_batch.c', 'binding.gyp'].map((file) => join(root, file));
const fallback = 'the UDP proxy will use node:dgram instead (slower; see docs/udp.md#io)';
const mode = process.argv.includes('--prebuild')
  ? 'prebuild'
  : process.argv.includes('--if-missing')
    ? 'if-missing'
    : 'install';

if (process.platform !== 'linux') {
  console.log(`faultline: batched UDP I/O is Linux-only, so there is no addon to build; ${fallback}`);
  process.exit(0);
}

if (mode === 'install') {
  const fromSource =
    process.argv.includes('--build-from-source') || process.env.npm_config_build_from_source === 'true';
  if (!fromSource && loadableAddon() !== undefined) process.exit(0);
  build();
} else {
  const ok = upToDate(addon) || build();
  if (mode === 'prebuild') {
    if (!ok) {
      console.error('faultline: prepack: the addon did not build, so the package would ship without it');
      process.exit(1);
    }
    copyPrebuild();
  }
}

/** The addon node-gyp-build would load here (a prebuild or a build), if it loads; else undefined. */
function loadableAddon() {
  try {
    const require = createRequire(join(root, 'package.json'));
    const path = require('node-gyp-build').resolve(root);
    require(path);
    return path;
  } catch {
    return undefined;
  }
}

function upToDate(file) {
  if (!existsSync(file)) return false;
  const built = statSync(file).mtimeMs;
  return sources.every((source) => !existsSync(source) || statSync(source).mtimeMs <= built);
}

/** npm's own node-gyp: npm names it in the environment of its scripts; else it sits beside npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath &&
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path && existsSync(path));
}

/** Compiles build/Release/udp_batch.node; true when it did, else says why (once) and returns false. */
function build() {
  const nodeGyp = findNodeGyp();
  if (nodeGyp === undefined) {
    console.warn(
      `faultline: node-gyp not found (it comes with npm), so the native addon is not built; ${fallback}`,
    );
    return false;
  }
  const args = [nodeGyp, 'rebuild'];
  // Offline machines cannot download headers: use the ones installed with this Node when there are some.
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${prefix}`);
  }
  const started = Date.now();
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (result.status === 0 && existsSync(addon)) {
    console.log(
      `faultline: built the batched UDP I/O addon in ${Date.now() - started} ms (build/Release/udp_batch.node)`,
    );
    return true;
  }
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
  console.warn(
    `faultline: could not build the native addon (node-gyp exit ${result.status}); ${fallback}\n${output}`,
  );
  return false;
}

/**
 * build/Release/udp_batch.node → prebuilds/linux-<arch>/node.napi.<libc>.node, the name node-gyp-build
 * matches on any Node with N-API (the addon asks for N-API 8) and the same C library. Written in build/ and
 * renamed, so a concurrent pack never sees half a file.
 */
function copyPrebuild() {
  const glibc = Boolean(process.report?.getReport().header.glibcVersionRuntime);
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const target = join(dir, `node.napi.${glibc ? 'glibc' : 'musl'}.node`);
  mkdirSync(dir, { recursive: true });
  const partial = join(root, 'build', `prebuild.${process.pid}.partial`);
  copyFileSync(addon, partial);
  renameSync(partial, target);
  console.log(`faultline: prebuild ${relative(root, target)}`);
}
