import { messageOf } from './errors.js';

/**
 * SIGINT/SIGTERM handling shared by everything that must undo its work before the process ends. Each owner
 * registers a `close`; on the signal all of them run, and then the signal is raised again if no one else
 * still listens, so the process ends as the signal would have. Independent handlers (say, a Ledger with its
 * own) compose: whichever finishes last re-raises.
 */
type TerminationSignal = 'SIGINT' | 'SIGTERM';
const terminationSignals: readonly TerminationSignal[] = ['SIGINT', 'SIGTERM'];
const closers = new Map<object, () => Promise<void>>();
let terminating = false;

/** Runs `close` on SIGINT/SIGTERM (once per `owner`; registering again replaces it). */
export function onTermination(owner: object, close: () => Promise<void>): void {
  if (closers.size === 0) for (const name of terminationSignals) process.on(name, onSignal);
  closers.set(owner, close);
}

/** Stops watching for `owner`; the listeners go with the last owner. */
export function offTermination(owner: object): void {
  if (!closers.delete(owner) || closers.size > 0 || terminating) return;
  for (const name of terminationSignals) process.off(name, onSignal);
}

function onSignal(signal: TerminationSignal): void {
  if (terminating) return;
  terminating = true;
  const running = [...closers.values()].map((close) => close());
  void Promise.allSettled(running).then((results) => {
    for (const result of results) {
      if (result.status === 'rejected') process.stderr.write(`faultline: ${messageOf(result.reason)}\n`);
    }
    for (const name of terminationSignals) process.off(name, onSignal);
    closers.clear();
    terminating = false;
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
