/**
 * Worker thread for `checkLinearizability({ parallel })`: checks the partitions the main thread sends,
 * one at a time, with the built-in model named in each request (functions cannot cross threads, so
 * custom models always run in the main thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { realClock } from '../core/clock.js';
import {
  checkPartition,
  fromWire,
  type WorkerReply,
  type WorkerRequest,
  workerRole,
} from './linearizability-core.js';
import { builtInModel } from './models/index.js';

const port = parentPort;
// Only when started by checkLinearizability: importing this file elsewhere must not grab a parent port.
if (port !== null && (workerData as { role?: unknown } | null)?.role === workerRole) {
  port.on('message', (request: WorkerRequest) => {
    const model = builtInModel(request.model);
    if (model === undefined) {
      port.postMessage({ id: request.id, error: `no built-in model ${JSON.stringify(request.model)}` });
      return;
    }
    checkPartition(request.ops.map(fromWire), model, {
      clock: realClock,
      deadline: realClock.now() + request.remainingMs,
      signal: undefined,
      memoise: request.memoise,
      maxCacheEntries: request.maxCacheEntries,
      maxMemoryBytes: request.maxMemoryBytes,
    }).then(
      (outcome) => port.postMessage({ id: request.id, outcome } satisfies WorkerReply),
      (error: unknown) => port.postMessage({ id: request.id, error: String(error) } satisfies WorkerReply),
    );
  });
}
