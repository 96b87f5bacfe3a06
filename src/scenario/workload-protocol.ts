/**
 * The protocol workloads: the calls of `register`, `cas-register`, `kv`, `set`, `counter` and `queue`
 * against a service speaking the workload protocol (the demo service's; docs/scenarios.md "Workload
 * protocol"), in the shapes of the checker model that fits each (src/checker/models):
 *
 *   register      read null → v | null; write v                          (one key, GET/PUT /kv/<key>)
 *   cas-register  the same, and cas [from, to] (409: fail)               (+ POST /kv/<key>/cas)
 *   kv            write [k, v] to a fresh key; read [k, null] → [k, v]; cas [k, [from, to]] on a key the
 *                 client wrote; a final scan null → [k…] (GET /kv, the keys of this run)
 *   set           add e; read null → [elements…]; a final read           (/set/<name>)
 *   counter       add n; read null → n; a final read                     (/counter/<name>)
 *   queue         enqueue v; dequeue null → v | null (404: empty); a final drain   (/queue/<name>)
 *
 * Every value written, added or enqueued is unique within the run, and every key and name carries the
 * run's id, so a service that kept the data of an earlier run starts this one empty.
 */

import { KvClient } from '../demo/index.js';
import type { CallOutcome } from '../history/index.js';
import type { ProtocolKind } from './format.js';
import type { Call, OpSource } from './workload-driver.js';

/** The checker model of each kind's history. */
export const protocolModels: Readonly<Record<ProtocolKind, string>> = {
  register: 'register',
  'cas-register': 'cas-register',
  kv: 'kv',
  set: 'set',
  counter: 'counter',
  queue: 'fifo-queue',
};

export function protocolSource(kind: ProtocolKind, url: string, runId: string): OpSource {
  const client = new KvClient(url);
  const name = `${runId}-${kind}`;
  let unique = 0;
  const fresh = (): number => ++unique;
  switch (kind) {
    case 'register':
    case 'cas-register':
      return registerSource(client, name, kind === 'cas-register', fresh);
    case 'kv':
      return kvSource(client, name);
    case 'set':
      return readingSource(
        { f: 'read', value: null, run: (signal) => client.setRead(name, signal) },
        (value) => ({ f: 'add', value, run: (signal) => client.setAdd(name, value, signal) }),
        fresh,
      );
    case 'counter':
      return readingSource(
        { f: 'read', value: null, run: (signal) => client.counterRead(name, signal) },
        (n) => {
          const delta = (n % 5) + 1;
          return { f: 'add', value: delta, run: (signal) => client.counterAdd(name, delta, signal) };
        },
        fresh,
      );
    case 'queue':
      return queueSource(client, name, fresh);
  }
}

/** One register (a kv key): reads, writes and (cas-register) cas from the value this client last saw. */
function registerSource(client: KvClient, key: string, cas: boolean, fresh: () => number): OpSource {
  const seen = new Map<number, unknown>();
  return {
    next(process, _n, random) {
      const roll = random.next();
      if (roll < 0.4) return { f: 'read', value: null, run: (signal) => client.read(key, signal) };
      const to = fresh();
      if (cas && roll < 0.7) {
        const from = seen.get(process) ?? null;
        return { f: 'cas', value: [from, to], run: (signal) => client.cas(key, from, to, signal) };
      }
      return { f: 'write', value: to, run: (signal) => client.write(key, to, signal) };
    },
    observe(call, outcome) {
      if (outcome.type !== 'ok') return;
      const process = outcome.op.process as number;
      if (call.f === 'read') seen.set(process, outcome.value);
      else if (call.f === 'write') seen.set(process, call.value);
      else seen.set(process, (call.value as unknown[])[1]);
    },
  };
}

/**
 * The kv map in Jepsen's independent-tuple shapes, so that a lost write shows: every write goes to a fresh
 * key (`<prefix>-c<client>-<n>`), reads pick any key written so far, a cas changes a key its client wrote
 * from the value last seen there. The final phase is one `scan` of the keys present (the read of the
 * acked-writes check; the linearizability check leaves it out).
 */
function kvSource(client: KvClient, prefix: string): OpSource {
  const keys: string[] = [];
  const own = new Map<number, string[]>();
  const seen = new Map<string, unknown>();
  let unique = 0;
  const scan: Call = {
    f: 'scan',
    value: null,
    run: async (signal) =>
      Object.keys(await client.entries(signal))
        .filter((key) => key.startsWith(`${prefix}-`))
        .sort(),
  };
  return {
    next(process, n, random) {
      const roll = random.next();
      const mine = own.get(process) ?? [];
      if (roll < 0.25 && keys.length > 0) {
        const key = random.pick(keys);
        return {
          f: 'read',
          value: [key, null],
          run: async (signal) => [key, await client.read(key, signal)],
        };
      }
      if (roll < 0.4 && mine.length > 0) {
        const key = random.pick(mine);
        const from = seen.get(key) ?? null;
        const to = ++unique;
        return { f: 'cas', value: [key, [from, to]], run: (signal) => client.cas(key, from, to, signal) };
      }
      const key = `${prefix}-c${process}-${n}`;
      const value = ++unique;
      keys.push(key);
      return { f: 'write', value: [key, value], run: (signal) => client.write(key, value, signal) };
    },
    observe(call, outcome) {
      if (outcome.type !== 'ok') return;
      const [key, arg] = (call.f === 'read' ? outcome.value : call.value) as [string, unknown];
      seen.set(key, call.f === 'cas' ? (arg as unknown[])[1] : arg);
      if (call.f === 'write') {
        const process = outcome.op.process as number;
        const mine = own.get(process) ?? [];
        own.set(process, mine);
        mine.push(key); // at most one per write: bounded by the workload's ops
      }
    },
    final: (previous) => (previous === undefined ? scan : undefined),
  };
}

/** A set or a counter: mostly changes, a read one call in five, and a final read. */
function readingSource(read: Call, change: (value: number) => Call, fresh: () => number): OpSource {
  return {
    next: (_process, _n, random) => (random.next() < 0.2 ? read : change(fresh())),
    final: (previous) => (previous === undefined ? read : undefined),
  };
}

/** Enqueues and dequeues (404: the queue was empty, ok null), then a drain until empty. */
function queueSource(client: KvClient, name: string, fresh: () => number): OpSource {
  const dequeue: Call = { f: 'dequeue', value: null, run: (signal) => client.dequeue(name, signal) };
  return {
    next(_process, _n, random) {
      if (random.next() < 0.4) return dequeue;
      const value = fresh();
      return { f: 'enqueue', value, run: (signal) => client.enqueue(name, value, signal) };
    },
    final: (previous: CallOutcome<unknown> | undefined) =>
      previous === undefined || (previous.type === 'ok' && previous.value !== null) ? dequeue : undefined,
  };
}
