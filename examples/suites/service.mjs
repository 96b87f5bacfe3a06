// A small HTTP service for the suites: health, a call to an upstream with a hard deadline, retries with
// exponential back-off, and hooks to exhaust memory or file descriptors. Flags:
//   --port N             listen on 127.0.0.1:N (required)
//   --upstream URL       GET /call calls URL/call (else it answers at once)
//   --timeout-ms N       the deadline of one upstream attempt (default 1000)
//   --retries N          attempts after the first (default 0), --backoff-ms N the first pause (doubles)
//   --starts FILE        append "start" here on each start (a restart shows as a second line)
//   --ignore-term FILE   on SIGTERM append "term" to FILE and keep running (SIGKILL must end it)
//   --oom-on-first-start allocate until the memory limit kills it, on the first start only
//   --exit-code N        on the first start, exit with N after 300 ms (a non-zero exit)
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    upstream: { type: 'string' },
    'timeout-ms': { type: 'string', default: '1000' },
    retries: { type: 'string', default: '0' },
    'backoff-ms': { type: 'string', default: '50' },
    starts: { type: 'string' },
    'ignore-term': { type: 'string' },
    'oom-on-first-start': { type: 'boolean', default: false },
    'exit-code': { type: 'string' },
  },
});
const timeoutMs = Number(values['timeout-ms']);
const retries = Number(values.retries);
const backoffMs = Number(values['backoff-ms']);
const previousStarts =
  values.starts !== undefined && existsSync(values.starts)
    ? readFileSync(values.starts, 'utf8').split('\n').length - 1
    : 0;
const first = previousStarts === 0;
const stats = {
  calls: 0,
  ok: 0,
  failed: 0,
  timeouts: 0,
  attempts: 0,
  retries: 0,
  inflight: 0,
  emfile: 0,
  maxBackoffMs: 0,
};

if (values['ignore-term'] !== undefined) {
  const file = values['ignore-term'];
  process.on('SIGTERM', () => appendFileSync(file, 'term\n'));
}

/** One attempt at the upstream, ended by the deadline (its socket is torn down: nothing is left open). */
async function attempt(url) {
  stats.attempts++;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  if (response.status >= 500) throw new Error(`upstream answered ${response.status}`);
  return response.status;
}

async function call() {
  if (values.upstream === undefined) return { status: 200, body: { ok: true } };
  let pauseMs = backoffMs;
  for (let n = 0; ; n++) {
    try {
      await attempt(`${values.upstream}/call`);
      return { status: 200, body: { ok: true, attempts: n + 1 } };
    } catch (error) {
      const timedOut = error?.name === 'TimeoutError';
      if (timedOut) stats.timeouts++;
      if (n >= retries) {
        const code = error?.cause?.code ?? (timedOut ? 'TimeoutError' : error?.message);
        return { status: timedOut ? 504 : 502, body: { ok: false, code, attempts: n + 1 } };
      }
      stats.retries++;
      stats.maxBackoffMs = Math.max(stats.maxBackoffMs, pauseMs);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs *= 2; // exponential back-off
    }
  }
}

/**
 * Opens n descriptors at once and closes them: under a lowered RLIMIT_NOFILE the opens fail with EMFILE,
 * answered 503 — the service itself keeps serving.
 */
function openMany(n) {
  const fds = [];
  try {
    for (let i = 0; i < n; i++) fds.push(openSync('/dev/null', 'r'));
    return { status: 200, body: { ok: true, opened: n } };
  } catch (error) {
    if (error.code !== 'EMFILE') throw error;
    stats.emfile++;
    return { status: 503, body: { ok: false, code: 'EMFILE', opened: fds.length } };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

const server = createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  let answer = { status: 404, body: { error: 'not found' } };
  if (url.pathname === '/health') answer = { status: 200, body: { ok: true } };
  else if (url.pathname === '/stats') answer = { status: 200, body: stats };
  else if (url.pathname === '/open') answer = openMany(Number(url.searchParams.get('n') ?? '100'));
  else if (url.pathname === '/call') {
    stats.calls++;
    stats.inflight++;
    try {
      answer = await call();
    } finally {
      stats.inflight--;
    }
    if (answer.status === 200) stats.ok++;
    else stats.failed++;
  }
  response.writeHead(answer.status, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify(answer.body));
});
server.listen(Number(values.port), '127.0.0.1', () => {
  if (values.starts !== undefined) appendFileSync(values.starts, 'start\n');
  if (first && values['exit-code'] !== undefined) {
    setTimeout(() => process.exit(Number(values['exit-code'])), 300);
  }
  if (first && values['oom-on-first-start']) {
    // Touch 8 MiB every 10 ms until the cgroup's memory limit has the kernel kill it.
    const held = [];
    setInterval(() => held.push(Buffer.alloc(8 * 1024 * 1024, 1)), 10);
  }
});
