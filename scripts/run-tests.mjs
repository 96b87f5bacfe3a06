// Runs node's test runner over the compiled tests. Optional args filter test files by substring:
//   node scripts/run-tests.mjs proxy/latency

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['dist/test', 'dist/examples'];
const filters = process.argv.slice(2);
const files = roots
  .filter((root) => existsSync(root))
  .flatMap((root) => readdirSync(root, { recursive: true }).map((file) => join(root, String(file))))
  .filter((file) => file.endsWith('.test.js'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(
    `no test files under ${roots.join(', ')}${filters.length ? ` matching ${filters.join(', ')}` : ''}`,
  );
  process.exit(1);
}
// Two files at a time: most tests wait on sockets, child processes and timers rather than the CPU, so on a
// 2-core machine this halves the run (about 4 minutes to 2) with every test still passing. Timing tests keep
// honest tolerances for it; FAULTLINE_TEST_CONCURRENCY=1 runs one file at a time, to rule load out.
const concurrency = process.env.FAULTLINE_TEST_CONCURRENCY ?? '2';
if (!/^[1-9]\d*$/.test(concurrency)) {
  console.error(
    `FAULTLINE_TEST_CONCURRENCY: expected a whole number >= 1, got ${JSON.stringify(concurrency)}`,
  );
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=120000', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
