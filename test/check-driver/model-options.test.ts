import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { checkLinearizability } from '../../src/check-driver/index.js';
import { defaultMaxMemoryBytes, explainMemoryReason } from '../../src/check-driver/memory-budget.js';
import { toWire, type WorkerReply, type WorkerRequest, workerRole } from '../../src/check-driver/wire.js';
import { createModel, modelSpecOf, models } from '../../src/checker/index.js';
import { type Op, pairOperations } from '../../src/history/index.js';

const history: Op[] = [
  { process: 0, type: 'invoke', f: 'read', value: null, time: 0, index: 0 },
  { process: 0, type: 'ok', f: 'read', value: 0, time: 10, index: 1 },
];

describe('model factories and the driver', () => {
  it('createModel builds a model with its initial value and remembers how (for worker threads)', async () => {
    const model = createModel('register', { initial: 0 });
    assert.ok(model !== undefined);
    assert.deepEqual(modelSpecOf(model), { name: 'register', options: { initial: 0 } });
    assert.equal(createModel('register'), models.register, 'no options: the shared instance');
    assert.equal((await checkLinearizability(history, model)).valid, true);
    assert.equal((await checkLinearizability(history, models.register)).valid, false);
    assert.throws(
      () => createModel('counter', { initial: 'abc' }),
      /initial: the counter model's initial value is a finite number/,
    );
    assert.throws(() => createModel('mutex', { initial: 0 }), /the mutex model has no initial value/);
  });

  it('a worker thread builds the model again from the request options', async () => {
    const worker = new Worker(new URL('../../src/check-driver/worker.js', import.meta.url), {
      workerData: { role: workerRole },
    });
    try {
      const ask = async (modelOptions: { initial?: unknown }): Promise<WorkerReply> => {
        const request: WorkerRequest = {
          id: 1,
          model: 'register',
          modelOptions,
          ops: pairOperations(history).map(toWire),
          remainingMs: 10_000,
          budget: { memoise: true, maxCacheEntries: 1000, maxMemoryBytes: 1 << 20, maxSteps: 1000 },
        };
        worker.postMessage(request);
        return ((await once(worker, 'message')) as [WorkerReply])[0];
      };
      const preset = await ask({ initial: 0 });
      assert.ok('outcome' in preset && preset.outcome.status === 'linearizable', JSON.stringify(preset));
      const plain = await ask({});
      assert.ok('outcome' in plain && plain.outcome.status === 'not-linearizable', JSON.stringify(plain));
    } finally {
      await worker.terminate();
    }
  });

  it('the default memory budget is a quarter of the available memory, within bounds, and named when it runs out', () => {
    const bytes = defaultMaxMemoryBytes();
    assert.ok(bytes >= 64 * 1024 ** 2 && bytes <= 4 * 1024 ** 3, String(bytes));
    assert.equal(
      explainMemoryReason(
        'memory budget ran out on partition "a" (9 configurations cached)',
        1.5 * 1024 ** 3,
        true,
      ),
      'memory budget 1.5 GiB (a quarter of the available memory) ran out on partition "a" (9 configurations cached)',
    );
    assert.equal(
      explainMemoryReason('memory budget ran out on x', 512 * 1024 ** 2, false),
      'memory budget 512 MiB ran out on x',
    );
    assert.equal(explainMemoryReason('aborted', 1, true), 'aborted');
  });
});
