import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import { isFaultlineError } from '../../src/core/errors.js';
import { type CgroupFs, cgroupSupport, nodeCgroupFs } from '../../src/os/index.js';
import {
  cpuQuotaFault,
  memoryLimitFault,
  pidsLimitFault,
  withCgroupEnvironment,
} from '../../src/resource/faults.js';
import { assertNothingLeft, newContext, startTarget } from './helpers.js';

const temps: string[] = [];
after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-cg-test-'));
  temps.push(dir);
  return dir;
}

/** A cgroup v2 layout in a temp dir; cgroup.procs lives in memory so moves behave like the kernel's. */
async function fakeV2(): Promise<{
  root: string;
  procRoot: string;
  mountinfoPath: string;
  fs: CgroupFs;
  writes: [string, string][];
  procs: Map<string, Set<number>>;
}> {
  const base = await temp();
  const root = join(base, 'cg');
  const procRoot = join(base, 'proc');
  await mkdir(join(root, 'app'), { recursive: true });
  await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  await writeFile(join(root, 'app', 'cgroup.subtree_control'), '');
  await mkdir(join(procRoot, '4242'), { recursive: true });
  await writeFile(join(procRoot, '4242', 'cgroup'), '0::/app\n');
  const mountinfoPath = join(base, 'mountinfo');
  await writeFile(
    mountinfoPath,
    `22 1 253:1 / / rw,relatime - ext4 /dev/vda rw\n30 22 0:26 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`,
  );
  const procs = new Map<string, Set<number>>([[join(root, 'app'), new Set([4242])]]);
  const writes: [string, string][] = [];
  const fs: CgroupFs = {
    ...nodeCgroupFs,
    readFile: async (path) =>
      path.endsWith('/cgroup.procs')
        ? [...(procs.get(dirname(path)) ?? [])].join('\n')
        : nodeCgroupFs.readFile(path),
    writeFile: async (path, data) => {
      writes.push([path.slice(root.length), data]);
      if (!path.endsWith('/cgroup.procs')) return nodeCgroupFs.writeFile(path, data);
      for (const set of procs.values()) set.delete(Number(data));
      const set = procs.get(dirname(path)) ?? new Set<number>();
      set.add(Number(data));
      procs.set(dirname(path), set);
    },
    // A real cgroup directory vanishes with its interface files; a temp one needs them removed.
    rmdir: (path) => rm(path, { recursive: true }),
  };
  return { root, procRoot, mountinfoPath, fs, writes, procs };
}

describe('cgroup detection', () => {
  it('finds the v1 memory, cpu and pids controllers of this machine, writable as root', async (t) => {
    const support = await cgroupSupport();
    if (support.version === 'none') return t.skip(`kernel offers no cgroups here: ${support.reason}`);
    for (const name of ['memory', 'cpu', 'pids'] as const) {
      assert.equal(support.controllers[name].available, true, support.controllers[name].reason);
      assert.equal(support.controllers[name].writable, process.getuid?.() === 0);
    }
    if (support.version === 1) assert.equal(support.controllers.memory.mountPoint, '/sys/fs/cgroup/memory');
  });

  it('says exactly what is missing when no cgroup is mounted, and a fault then leaves nothing applied', async () => {
    const dir = await temp();
    const mountinfoPath = join(dir, 'mountinfo');
    await writeFile(mountinfoPath, '22 1 253:1 / / rw,relatime - ext4 /dev/vda rw\n');
    const support = await cgroupSupport({ mountinfoPath });
    assert.equal(support.version, 'none');
    assert.match(support.reason ?? '', /no cgroup hierarchy/);
    assert.match(
      support.controllers.memory.reason ?? '',
      /cgroup v1 memory controller not mounted at \/sys\/fs\/cgroup\/memory/,
    );
    const target = await startTarget("console.log('ready'); setInterval(() => {}, 1000);");
    try {
      const context = newContext();
      await assert.rejects(
        withCgroupEnvironment(memoryLimitFault({ pids: [target.pid], limitMiB: 64 }), { support }).inject(
          context,
        ),
        (error) => {
          assert.ok(isFaultlineError(error, codes.unavailable), String(error));
          assert.match(error.message, /memory controller not mounted/);
          return true;
        },
      );
      assert.equal(context.ledger.size, 0);
      await assertNothingLeft();
    } finally {
      await target.kill();
    }
  });

  it('detects a cgroup v2 hierarchy and reports controllers it lacks', async () => {
    const { mountinfoPath, root } = await fakeV2();
    await writeFile(join(root, 'cgroup.controllers'), 'cpu memory\n');
    const support = await cgroupSupport({ mountinfoPath });
    assert.equal(support.version, 2);
    assert.equal(support.controllers.memory.version, 2);
    assert.equal(support.controllers.pids.available, false);
    assert.match(support.controllers.pids.reason ?? '', /does not offer it/);
  });
});

describe('cgroup v2 file writes (temp-directory layout)', () => {
  it('memory.max, cpu.max and pids.max: enable in the parent, limit, move in; heal moves back and removes', async () => {
    const v2 = await fakeV2();
    const support = await cgroupSupport({ mountinfoPath: v2.mountinfoPath });
    const env = { support, fs: v2.fs, procRoot: v2.procRoot };
    const context = newContext();
    const memory = await withCgroupEnvironment(memoryLimitFault({ pids: [4242], limitMiB: 64 }), env).inject(
      context,
    );
    const groupDir = `/app/${memory.cgroup}`;
    assert.deepEqual(v2.writes, [
      ['/app/cgroup.subtree_control', '+memory'],
      [`${groupDir}/memory.max`, String(64 * 1024 * 1024)],
      [`${groupDir}/cgroup.procs`, '4242'],
    ]);
    await writeFile(join(v2.root, groupDir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    assert.equal(await memory.oomKills(), 1);
    await context.ledger.drain();
    assert.deepEqual(v2.writes.slice(3), [
      ['/app/cgroup.procs', '4242'],
      ['/app/cgroup.subtree_control', '-memory'],
    ]);
    assert.equal(await memory.oomKills(), 1, 'the count survives the group');
    await assert.rejects(stat(join(v2.root, groupDir)), /ENOENT/);
    assert.deepEqual([...(v2.procs.get(join(v2.root, 'app')) ?? [])], [4242]);

    v2.writes.length = 0;
    const cpu = await withCgroupEnvironment(
      cpuQuotaFault({ pids: [4242], percentOfOneCore: 10 }),
      env,
    ).inject(context);
    assert.deepEqual(v2.writes[1], [`/app/${cpu.cgroup}/cpu.max`, '10000 100000']);
    const pids = await withCgroupEnvironment(pidsLimitFault({ pids: [4242], maxTasks: 5 }), env).inject(
      context,
    );
    assert.equal(await readFile(join(v2.root, 'app', pids.cgroup, 'pids.max'), 'utf8'), '5');
    await context.ledger.drain();
    assert.deepEqual([...(v2.procs.get(join(v2.root, 'app')) ?? [])], [4242]);
  });
});
