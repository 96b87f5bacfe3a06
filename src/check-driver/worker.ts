/**
 * Worker thread of the linearizability driver: checks the partitions the main thread sends, one at a
 * time, with the built-in model named in each request, built again with the request's options
 * (functions cannot cross threads, so custom models always run in the main thread). The main thread terminates it to abort.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createModel, PartitionSearch } from '../checker/index.js';
import { realClock } from '../core/clock.js';
import { pumpPartition } from './pump.js';
import { fromWire, type WorkerReply, type WorkerRequest, workerRole } from './wire.js';

const port = parentPort;
// Only when started by the driver: importing this file elsewhere must not grab a parent port.
if (port !== null && (workerData as { role?: unknown } | null)?.role === workerRole) {
  port.on('message', (request: WorkerRequest) => {
    let model: ReturnType<typeof createModel>;
    try {
      model = createModel(request.model, request.modelOptions);
    } catch (error) {
      port.postMessage({ id: request.id, error: String(error) } satisfies WorkerReply);
      return;
    }
    if (model === undefined) {
      port.postMessage({ id: request.id, error: `no built-in model ${JSON.stringify(request.model)}` });
      return;
    }
    const search = new PartitionSearch(request.ops.map(fromWire), model, request.budget);
    pumpPartition(search, {
      clock: realClock,
      deadline: realClock.now() + request.remainingMs,
      yields: false,
    }).then(
      (outcome) => port.postMessage({ id: request.id, outcome } satisfies WorkerReply),
      (error: unknown) => port.postMessage({ id: request.id, error: String(error) } satisfies WorkerReply),
    );
  });
}
