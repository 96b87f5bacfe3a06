import type { Model } from '../model.js';
import { casRegister } from './cas-register.js';
import { counter } from './counter.js';
import { fifoQueue } from './fifo-queue.js';
import { kv } from './kv.js';
import { kvAppend } from './kv-append.js';
import { listAppend } from './list-append.js';
import { mutex } from './mutex.js';
import { register } from './register.js';
import { set } from './set.js';

/** The built-in models by name (`faultline check --model <name>`; workers look models up here). */
export const models = {
  register,
  'cas-register': casRegister,
  kv,
  'kv-append': kvAppend,
  'list-append': listAppend,
  set,
  counter,
  'fifo-queue': fifoQueue,
  mutex,
} as const satisfies Readonly<Record<string, Model<unknown>>>;

export type ModelName = keyof typeof models;

export const modelNames: readonly ModelName[] = Object.keys(models) as ModelName[];

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(models, name);
}

/** The built-in model registered under `name`, or undefined. */
export function builtInModel(name: string): Model<unknown> | undefined {
  return isModelName(name) ? (models[name] as Model<unknown>) : undefined;
}
