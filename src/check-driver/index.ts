/**
 * Drivers of the pure checkers: they own what checker/ must not touch — the real clock, the event loop
 * and worker threads — and pass budgets and parallelism in.
 */
export { checkLinearizability, type LinearizabilityOptions } from './linearizability.js';
