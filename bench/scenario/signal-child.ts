/**
 * The process target of the schedule-accuracy benchmark: it notes when each SIGUSR1 (sent by the
 * `process.kill` fault) and SIGUSR2 (sent by the bare-timer baseline) reaches it, as `USR1 <ns>` lines on
 * stdout, on `process.hrtime` — CLOCK_MONOTONIC, one clock for every process of the machine, so the
 * benchmark can set these instants against its own.
 */
const note = (name: string): void => {
  // The time first: writing the line is not part of the delivery.
  const ns = process.hrtime.bigint();
  process.stdout.write(`${name} ${ns}\n`);
};
process.on('SIGUSR1', () => note('USR1'));
process.on('SIGUSR2', () => note('USR2'));
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('ready\n');
// Idle, as a service between requests is; the parent stops it (SIGTERM, or SIGKILL with its group).
setInterval(() => {}, 60_000);
