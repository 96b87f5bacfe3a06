// Installs the real servers the test suites run, when they are missing: `npm test` must pass on a fresh
// machine. Debian packages only, with apt-get, as root; otherwise it says what to install and the suites
// that need the server fail with the same instruction.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const servers = [
  { command: 'nats-server', paths: ['/usr/sbin/nats-server', '/usr/bin/nats-server'], pkg: 'nats-server' },
  // test/history/client-errors: a real Redis error reply (WRONGTYPE) for the client-error classifier;
  // test/checker/redis-history: a history recorded from a real Redis through the proxy.
  { command: 'redis-server', paths: ['/usr/bin/redis-server'], pkg: 'redis-server' },
  // test/report: JUnit XML validated against its XSD, the HTML report rendered to a screenshot.
  { command: 'xmllint', paths: ['/usr/bin/xmllint'], pkg: 'libxml2-utils' },
  { command: 'chromium', paths: ['/usr/bin/chromium'], pkg: 'chromium' },
];

const onPath = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = servers.filter((s) => !onPath(s.command) && !s.paths.some((p) => existsSync(p)));
if (missing.length > 0) {
  const pkgs = missing.map((s) => s.pkg);
  const canInstall = process.getuid?.() === 0 && onPath('apt-get');
  if (!canInstall) {
    console.warn(
      `test servers missing: ${pkgs.join(', ')} — install with: sudo apt-get install ${pkgs.join(' ')}`,
    );
  } else {
    console.log(`installing test servers: ${pkgs.join(', ')} (apt-get)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) =>
      spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
    if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', ...pkgs])) {
      console.warn(
        `could not install ${pkgs.join(', ')}; the suites that need them will fail with instructions`,
      );
    }
  }
}
