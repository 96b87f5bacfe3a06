/**
 * The `module` workload: `workload.path` names an ES module (resolved against the scenario's folder)
 * exporting `client`:
 *
 *   export const client = {
 *     model: 'register',   // optional: the checker model its histories fit (src/checker/models)
 *     clients: 5,          // optional: concurrent clients (default 5)
 *     ops: 1000,           // optional: calls in all (default 1000)
 *     timeoutMs: 1000,     // optional: a call that takes longer is recorded as info (default 1000)
 *     // The next call of client `process` (its n-th): what to record as invoked. `random()` is seeded.
 *     generate({ process, n, random }) { return { f: 'write', value: n }; },
 *     // Performs it: a read (an f of the Recorder's defaultReads — read, get, scan, dequeue, … — or
 *     // `read: true` from generate) records the value resolved as ok; any other f its invoked value,
 *     // with the value resolved as `result`. A throw is info, or fail when the error has
 *     // `definite: true` or is named 'FailError'.
 *     async invoke(f, value, { signal, process }) { … },
 *   };
 *
 * A module that cannot be imported, a `client` of another shape, or a `generate` that throws is an
 * error naming `workload.path`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { Call, OpSource } from './workload-driver.js';

export interface ModuleClient {
  readonly model?: string;
  readonly clients?: number;
  readonly ops?: number;
  readonly timeoutMs?: number;
  generate(context: { process: number; n: number; random: () => number }): {
    f: string;
    value?: unknown;
    read?: boolean;
  };
  invoke(f: string, value: unknown, context: { signal: AbortSignal; process: number }): unknown;
}

function pathError(path: string, message: string, cause?: unknown): FaultlineError {
  return new FaultlineError(codes.config, `workload.path: ${path}: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'workload.path', expected: 'an ES module exporting client { generate, invoke }' },
  });
}

/**
 * Imports the module and checks its `client`. Validation made a scenario file's relative path absolute
 * against the file's folder; one still relative (an inline scenario) is the working directory's.
 */
export async function loadModuleClient(path: string): Promise<ModuleClient> {
  const file = resolve(path);
  let module: { client?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { client?: unknown };
  } catch (error) {
    throw pathError(path, `cannot import it: ${messageOf(error)}`, error);
  }
  const client = module.client as Partial<ModuleClient> | undefined;
  if (typeof client?.generate !== 'function' || typeof client.invoke !== 'function') {
    throw pathError(path, 'it exports no client with generate and invoke functions');
  }
  for (const field of ['clients', 'ops', 'timeoutMs'] as const) {
    const value = client[field];
    if (value !== undefined && !(Number.isInteger(value) && value >= (field === 'timeoutMs' ? 0 : 1))) {
      throw pathError(path, `client.${field}: expected a positive integer, got ${String(value)}`);
    }
  }
  return client as ModuleClient;
}

/** The module's client as an OpSource. */
export function moduleSource(path: string, client: ModuleClient): OpSource {
  return {
    next(process, n, random): Call {
      let generated: { f: string; value?: unknown; read?: unknown };
      try {
        generated = client.generate({ process, n, random: () => random.next() });
      } catch (error) {
        throw pathError(path, `client.generate threw: ${messageOf(error)}`, error);
      }
      if (typeof generated?.f !== 'string' || generated.f === '') {
        throw pathError(path, `client.generate returned ${JSON.stringify(generated)}; expected { f, value }`);
      }
      const { f } = generated;
      const value = generated.value ?? null;
      const { read } = generated;
      if (read !== undefined && typeof read !== 'boolean') {
        throw pathError(
          path,
          `client.generate returned read: ${JSON.stringify(read)}; expected true or false`,
        );
      }
      return {
        f,
        value,
        ...(read === undefined ? {} : { read }),
        run: async (signal) => client.invoke(f, value, { signal, process }),
      };
    },
    definite: (error) =>
      typeof error === 'object' &&
      error !== null &&
      ((error as { definite?: unknown }).definite === true || (error as Error).name === 'FailError'),
  };
}
