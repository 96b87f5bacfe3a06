import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { storeTargets } from '../support/store-targets.js';

/**
 * A temp dir (removed after the test) holding `store.toml`: the demo's key-value store (fixed variant) on
 * `port` behind a TCP proxy, a 100-op register workload, 200 ms of latency, a linearizability check.
 * `extra` is appended to `[experiment]`; `tail` after the whole file (more sections).
 */
export async function storeScenario(
  t: TestContext,
  port: number,
  extra = '',
  tail = '',
): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-run-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'store.toml');
  await writeFile(
    file,
    `[experiment]
name = "store"
seed = 5
${extra}

${storeTargets(port)}
[workload]
type = "register"
url = "http://\${targets.front.listen}"
clients = 2
ops = 100

[[faults]]
kind = "tcp.latency"
at = "50ms"
for = "200ms"
params = { proxy = "front", latencyMs = 10 }

[[checks]]
check = "linearizability"
model = "register"
${tail}`,
  );
  return { dir, file };
}
