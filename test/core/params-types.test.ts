import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParamSpecs, type ParamsInput, type ParamsOf, validateParams } from '../../src/core/params.js';

/** Compiles only when A and B are the same type (the usual mutual-assignability test through generics). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeIs = <T extends true>(): T | undefined => undefined;

const specs = {
  name: { type: 'string', description: 'a name' },
  note: { type: 'string', optional: true, description: 'a note' },
  mode: { type: 'string', oneOf: ['fast', 'slow'], default: 'fast', description: 'how' },
  count: { type: 'number', integer: true, optional: true, default: 3, description: 'how many' },
  timeout: { type: 'duration', default: '1s', description: 'how long' },
  tags: {
    type: 'list',
    items: { type: 'string', description: 'a tag' },
    optional: true,
    description: 'tags',
  },
  limits: {
    type: 'object',
    optional: true,
    description: 'limits',
    fields: { pids: { type: 'number', description: 'pids' } },
  },
  env: {
    type: 'record',
    values: { type: 'string', description: 'a value' },
    optional: true,
    description: 'env',
  },
  probe: {
    type: 'variant',
    tag: 'type',
    description: 'a probe',
    variants: {
      tcp: { address: { type: 'string', description: 'host:port' } },
      http: {
        url: { type: 'string', description: 'a URL' },
        every: { type: 'duration', description: 'every' },
      },
    },
  },
} as const satisfies ParamSpecs;

describe('ParamsOf and ParamsInput: the types a definition describes', () => {
  it('derive what validateParams returns and what a user writes, from the same definition', () => {
    type Out = ParamsOf<typeof specs>;
    type In = ParamsInput<typeof specs>;
    typeIs<
      Equal<
        Out,
        {
          readonly name: string;
          readonly note?: string;
          readonly mode: 'fast' | 'slow';
          readonly count: number;
          readonly timeout: number;
          readonly tags?: readonly string[];
          readonly limits?: { readonly pids: number };
          readonly env?: Readonly<Record<string, string>>;
          readonly probe:
            | (Readonly<Record<'type', 'tcp'>> & { readonly address: string })
            | (Readonly<Record<'type', 'http'>> & { readonly url: string; readonly every: number });
        }
      >
    >();
    typeIs<
      Equal<
        In,
        {
          readonly name: string;
          readonly note?: string;
          readonly mode?: 'fast' | 'slow';
          readonly count?: number;
          readonly timeout?: string | number;
          readonly tags?: readonly string[];
          readonly limits?: { readonly pids: number };
          readonly env?: Readonly<Record<string, string>>;
          readonly probe:
            | (Readonly<Record<'type', 'tcp'>> & { readonly address: string })
            | (Readonly<Record<'type', 'http'>> & { readonly url: string; readonly every: string | number });
        }
      >
    >();
    // And the runtime agrees with the types: the input type is accepted, the output has what Out promises.
    const input: In = { name: 'db', probe: { type: 'http', url: 'http://127.0.0.1/', every: '250ms' } };
    const output = validateParams<Out>(specs, input);
    assert.deepEqual(output, {
      name: 'db',
      mode: 'fast',
      count: 3,
      timeout: 1000,
      probe: { type: 'http', url: 'http://127.0.0.1/', every: 250 },
    });
  });
});
