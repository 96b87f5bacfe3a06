// A small NATS JetStream router: consumes `orders.<tenant>` from the ORDERS stream through the durable pull
// consumer `router` and republishes each order to `routed.<tenant>`, captured by the ROUTED stream.
//
// At-least-once in, exactly-once out: a source message is acked only after ROUTED acknowledged the copy,
// so a crash anywhere redelivers it; the copy carries `Nats-Msg-Id: <order id>`, so ROUTED's duplicate
// window drops a redelivered copy instead of storing it twice. See README.md for what breaks that.
//
// Run: node dist/examples/nats-router/router.js --nats nats://127.0.0.1:4222 [--ack-wait-ms 5000]
//      [--dup-window-ms 600000] [--batch 100]
// Prints "ready" once it is consuming. SIGTERM/SIGINT: finish the current message, drain, exit 0.
import { parseArgs } from 'node:util';
import {
  AckPolicy,
  type Consumer,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';

export const ordersStream = 'ORDERS';
export const routedStream = 'ROUTED';
export const consumerName = 'router';
/** Tenants become a subject token: keep them to one safe token. */
const tenantPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** The longest wait between attempts, whatever is down. */
const maxRetryDelayMs = 1000;

export interface RouterOptions {
  url: string;
  ackWaitMs: number;
  dupWindowMs: number;
  batch: number;
}

export interface Order {
  id: string;
  tenant: string;
}

/** The order in a message body, or a reason it is not one (such a message is terminated, not retried). */
export function parseOrder(subject: string, data: Uint8Array): Order | string {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return 'body is not JSON';
  }
  if (typeof body !== 'object' || body === null) return 'body is not an object';
  const { id, tenant } = body as { id?: unknown; tenant?: unknown };
  if (typeof id !== 'string' || id.length === 0) return 'no string id';
  if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) return 'no valid tenant';
  if (subject !== `orders.${tenant}`) return `subject ${subject} does not match tenant ${tenant}`;
  return { id, tenant };
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `fn` until it succeeds or `stopping()`, with a bounded back-off between attempts. */
async function retry<T>(what: string, stopping: () => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  let delayMs = 100;
  while (!stopping()) {
    try {
      return await fn();
    } catch (error) {
      log(`${what} failed (${messageOf(error)}); retrying in ${delayMs}ms`);
      await sleep(delayMs);
      delayMs = Math.min(maxRetryDelayMs, delayMs * 2);
    }
  }
  return undefined;
}

/** Idempotent: adding a stream or consumer with the same config succeeds when it already exists. */
async function ensureTopology(jsm: JetStreamManager, options: RouterOptions): Promise<true> {
  await jsm.streams.add({
    name: ordersStream,
    subjects: ['orders.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
  });
  await jsm.streams.add({
    name: routedStream,
    subjects: ['routed.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(options.dupWindowMs),
  });
  await jsm.consumers.add(ordersStream, {
    durable_name: consumerName,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWaitMs),
    deliver_policy: DeliverPolicy.All,
    max_deliver: -1,
  });
  return true;
}

export class Router {
  private stopping = false;
  private nc: NatsConnection | undefined;
  routed = 0;
  duplicates = 0;
  terminated = 0;

  constructor(private readonly options: RouterOptions) {}

  async run(): Promise<void> {
    const stopping = (): boolean => this.stopping;
    // waitOnFirstConnect + unlimited attempts: the router outlives any NATS outage, at most 1 s behind it.
    const nc = await connect({
      servers: this.options.url,
      name: 'nats-router',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      timeout: 2000,
    });
    this.nc = nc;
    void (async () => {
      for await (const status of nc.status()) log(`nats ${status.type}`);
    })();
    const jsm = await retry('jetstream manager', stopping, () => nc.jetstreamManager({ timeout: 2000 }));
    if (jsm === undefined) return this.close();
    if (
      (await retry('ensure streams and consumer', stopping, () => ensureTopology(jsm, this.options))) ===
      undefined
    )
      return this.close();
    const js = nc.jetstream({ timeout: 5000 });
    const consumer = await retry('get consumer', stopping, () =>
      js.consumers.get(ordersStream, consumerName),
    );
    if (consumer === undefined) return this.close();
    log('ready');
    await this.consume(js, consumer);
    await this.close();
  }

  /** Fetches batches until stopped; every failure is retried after a bounded pause. */
  private async consume(js: JetStreamClient, consumer: Consumer): Promise<void> {
    while (!this.stopping) {
      try {
        const batch = await consumer.fetch({ max_messages: this.options.batch, expires: 1000 });
        for await (const message of batch) {
          await this.route(js, message);
          if (this.stopping) {
            batch.stop();
            break;
          }
        }
      } catch (error) {
        if (this.stopping) break;
        log(`fetch failed (${messageOf(error)}); retrying`);
        await sleep(250);
      }
    }
  }

  /** Publishes the copy, waits for ROUTED to store it (or drop it as a duplicate), then acks the source. */
  private async route(js: JetStreamClient, message: JsMsg): Promise<void> {
    const order = parseOrder(message.subject, message.data);
    if (typeof order === 'string') {
      // A malformed order will never route: terminate it rather than redeliver it forever.
      log(`terminating ${message.subject} seq ${message.seq}: ${order}`);
      message.term(order);
      this.terminated++;
      return;
    }
    try {
      const ack = await js.publish(`routed.${order.tenant}`, message.data, {
        msgID: order.id,
        expect: { streamName: routedStream },
        timeout: 5000,
      });
      if (ack.duplicate) this.duplicates++;
      else this.routed++;
      await message.ackAck({ timeout: 5000 });
    } catch (error) {
      // Not acked: JetStream redelivers it after the ack wait, and the msg id keeps the copy single.
      log(`routing ${order.id} failed (${messageOf(error)}); it will be redelivered`);
      message.nak(250);
    }
  }

  /** Asks the router to finish the message in hand and drain; false when not connected yet (nothing to drain). */
  stop(): boolean {
    this.stopping = true;
    return this.nc !== undefined;
  }

  private async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (nc !== undefined && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    log(
      `stopped: routed ${this.routed}, duplicates dropped ${this.duplicates}, terminated ${this.terminated}`,
    );
  }
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nats: { type: 'string' },
      'ack-wait-ms': { type: 'string' },
      'dup-window-ms': { type: 'string' },
      batch: { type: 'string' },
    },
    strict: true,
  });
  if (values.nats === undefined) throw new Error('--nats nats://host:port is required');
  const router = new Router({
    url: values.nats,
    ackWaitMs: positiveInt(values['ack-wait-ms'], 5000, '--ack-wait-ms'),
    dupWindowMs: positiveInt(values['dup-window-ms'], 10 * 60_000, '--dup-window-ms'),
    batch: positiveInt(values.batch, 100, '--batch'),
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    // Before the first connection there is nothing to drain, and connect() would wait for NATS forever.
    if (!router.stop()) {
      log(`${signal}: not connected yet; exiting`);
      process.exit(0);
    }
    log(`${signal}: draining`);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await router.run();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      log(`fatal: ${messageOf(error)}`);
      process.exit(1);
    },
  );
}
