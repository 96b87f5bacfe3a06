// The scenario format: one definition validates every field (unknown keys refused, each fault's params by
// its kind's own schema, live objects named as targets) and is published as JSON Schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import '../../src/scenario/fault-families.js';
import { faultKinds } from '../../src/core/fault-registry.js';
import { readDocument } from '../../src/scenario/document.js';
import { scenarioJsonSchema, validateScenario } from '../../src/scenario/format.js';

const example = readFileSync(new URL('../../../examples/scenarios/slow-cache.toml', import.meta.url), 'utf8');
const validate = (file: string, text: string) => validateScenario(readDocument(file, text));

/** The error for `text` as `line:column: message`, the file name cut. */
function refusal(text: string, file = 's.toml'): string {
  try {
    validate(file, text);
  } catch (error) {
    assert.equal((error as { code?: string }).code, codes.config, String(error));
    return (error as Error).message.slice(file.length + 1);
  }
  assert.fail('expected the scenario to be refused');
}

const base = `[experiment]\nname = "x"\n[targets.db]\ntype = "tcp-proxy"\nupstream = "127.0.0.1:5432"\n`;

describe('the scenario format', () => {
  it('validates the example: durations in ms, defaults filled, fault params by their kind', () => {
    const scenario = validate('slow-cache.toml', example);
    assert.equal(scenario.experiment.timeLimit, 120_000);
    assert.deepEqual(scenario.faults?.[0], {
      choices: [
        {
          kind: 'tcp.latency',
          params: {
            proxy: 'cache',
            stream: 'downstream',
            toxicityProbability: 1,
            latencyMs: 300,
            jitterMs: 50,
          },
        },
      ],
      at: 5000,
      for: 20_000,
    });
    assert.equal((scenario.targets?.cache as { listen?: string } | undefined)?.listen, '127.0.0.1:0');
    assert.equal(scenario.steadyState?.[0]?.every, 500);
  });

  it('names file:line:column, the field and what is valid for every kind of mistake', () => {
    const cases: [string, RegExp][] = [
      [
        `[experiment]\nnme = "x"\n`,
        /^2:1: experiment\.nme: unknown parameter \(did you mean name\?\); valid: name, description/,
      ],
      [`[experiment]\ndescription = "no name"\n`, /^1:1: experiment\.name: is required/],
      [
        `${base}[experiment2]\n`,
        /^6:2: experiment2: unknown parameter \(did you mean experiment\?\); valid: .*faults/,
      ],
      [
        `[experiment]\nname = "x"\ntimeLimit = "ten minutes"\n`,
        /^3:13: experiment\.timeLimit: expected a duration/,
      ],
      [`[experiment]\nname = "x"\nseed = -1\n`, /^3:8: experiment\.seed: expected an integer >= 0/],
      [
        `${base}[[faults]]\nkind = "tcp.latencyy"\n`,
        /^7:8: faults\[0\]\.kind: got "tcp\.latencyy": did you mean "tcp\.latency"\? Expected one of .*"tcp\.latency"/,
      ],
      [
        `${base}[[faults]]\nkind = "tcp.latency"\nparams = { proxy = "db", latencyMs = -3 }\n`,
        /^8:38: faults\[0\]\.params\.latencyMs: expected a number >= 0, got -3/,
      ],
      [
        `${base}[[faults]]\nkind = "tcp.latency"\nparams = { proxy = "nope" }\n`,
        /^8:20: faults\[0\]\.params\.proxy: expected the name of a tcp-proxy target, got "nope"/,
      ],
      [
        `${base}[[faults]]\nkind = "udp.loss"\nparams = { proxy = "db", lossProbability = 0.1 }\n`,
        /faults\[0\]\.params\.proxy: expected the name of a udp-proxy target/,
      ],
      [
        `${base}[[faults]]\nkind = "tcp.noop"\nparams = { proxy = "db" }\ntimes = 3\n`,
        /^9:9: faults\[0\]\.times: needs every/,
      ],
      [`${base}[targets.web]\ntype = "process"\n`, /^6:1: targets\.web\.argv: is required/],
      [
        `${base}[targets.web]\ntype = "vm"\n`,
        /^7:8: targets\.web\.type: expected one of "process", "tcp-proxy", "udp-proxy", "network"/,
      ],
      [
        `${base}[[checks]]\ncheck = "linearizable"\n`,
        /^7:9: checks\[0\]\.check: expected one of "linearizability"/,
      ],
    ];
    for (const [text, pattern] of cases) assert.match(refusal(text), pattern);
  });

  it('reads the same scenario from YAML and JSON, with positions in each', () => {
    const yaml = 'experiment:\n  name: x\nfaults:\n  - kind: tcp.noop\n    params: { proxy: db }\n';
    assert.match(
      refusal(yaml, 's.yaml'),
      /^5:22: faults\[0\]\.params\.proxy: expected the name of a tcp-proxy target/,
    );
    const json = '{"experiment": {"name": "x", "seeds": 1}}';
    assert.match(refusal(json, 's.json'), /^1:30: experiment\.seeds: unknown parameter/);
  });

  it('publishes the format as JSON Schema, one faults entry per registered kind', () => {
    const schema = scenarioJsonSchema() as {
      additionalProperties: boolean;
      properties: { faults: { items: { oneOf: { properties: { kind: { const: string } } }[] } } };
    };
    assert.equal(schema.additionalProperties, false);
    const kinds = schema.properties.faults.items.oneOf
      .filter((entry) => entry.properties.kind !== undefined)
      .map((entry) => entry.properties.kind.const);
    assert.equal(schema.properties.faults.items.oneOf.length, kinds.length + 1, 'and one oneOf entry');
    assert.deepEqual(
      kinds,
      faultKinds().map((info) => info.kind),
    );
    assert.ok(kinds.length >= 39, `${kinds.length} kinds`);
  });
});
