// Builds the native addon behind batched UDP I/O (native/udp_batch.c → build/Release/udp_batch.node)
// with the node-gyp that npm bundles, against the headers installed next to this Node. Run by
// `npm install`; `--if-missing` skips the build when the addon is already there (npm run build).
// A failed build is not fatal: the UDP proxy then uses node:dgram, and this says so and why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where this Node is installed: npm (with its node-gyp) and the headers usually sit below it. */
const prefix = dirname(dirname(process.execPath));
const addon = join(root, 'build', 'Release', 'udp_batch.node');
const fallback = 'the UDP proxy will use node:dgram instead (slower; see docs/performance.md)';

if (process.platform !== 'linux') {
  console.log(`faultline: batched UDP I/O is Linux-only; ${fallback}`);
  process.exit(0);
}
if (process.argv.includes('--if-missing') && existsSync(addon)) process.exit(0);

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

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) {
  console.warn(
    `faultline: node-gyp not found (it comes with npm), so the native addon is not built; ${fallback}`,
  );
  process.exit(0);
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
} else {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
  console.warn(
    `faultline: could not build the native addon (node-gyp exit ${result.status}); ${fallback}\n${output}`,
  );
}
