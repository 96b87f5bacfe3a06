// Ports and pids for tests that start real servers and processes.
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that is free now (the OS picks it; closed again before this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether `port` on 127.0.0.1 can be bound now: nothing of a test is left listening on it. */
export async function tcpPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether a process with this pid exists (signal 0 delivers nothing). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
