// What validation can check before a run starts anything: a linearizability model, the probe a check
// names, the process a log probe reads, and every `${…}` reference (its scope, the target it names and
// the value that target's type offers) — refused with file:line:column, the field and what is valid,
// exit 3 from `faultline validate` and `faultline run`.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario references are written `${…}` in plain strings
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import '../../src/scenario/fault-families.js';
import { modelNames } from '../../src/checker/index.js';
import { readDocument } from '../../src/scenario/document.js';
import { scenarioJsonSchema, validateScenario } from '../../src/scenario/format.js';
import { runCli } from '../cli/run-cli.js';

const node = JSON.stringify(process.execPath);

/** A valid scenario; each case replaces one piece of it. */
const base = `[experiment]
name = "refs"

[targets.db]
type = "process"
argv = [${node}, "-e", "setInterval(() => {}, 1000)", "\${ports.db}", "$\${targets.literal}"]
ready = { type = "log", target = "db", pattern = "up" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:\${ports.db}"

[[steadyState]]
name = "health"
probe = { type = "http", url = "http://\${targets.front.listen}/health" }
when = "continuous"

[workload]
type = "kv"
url = "http://\${targets.front.listen}"

[[faults]]
kind = "process.pause"
params = { target = "db" }
for = "100ms"

[[checks]]
check = "linearizability"
model = "kv"

[[checks]]
check = "probe-success"
probe = "health"
minPercent = 50

[[rollbacks]]
argv = ["echo", "\${run.dir}", "\${env.FAULTLINE_NOT_SET_ANYWHERE}", "\${targets.db.pid}"]
`;

const file = 'refs.toml';

/** The refusal of `base` with `from` replaced by `to`: the message, and the text at its line:column. */
function refusal(from: string, to: string): { message: string; at: string } {
  assert.ok(base.includes(from), from);
  const text = base.replace(from, to);
  try {
    validateScenario(readDocument(file, text));
  } catch (error) {
    assert.equal((error as { code?: string }).code, codes.config, String(error));
    const message = (error as Error).message;
    const [, line, column] = /^refs\.toml:(\d+):(\d+): /.exec(message) ?? [];
    assert.ok(line !== undefined && column !== undefined, message);
    const at = (text.split('\n')[Number(line) - 1] ?? '').slice(Number(column) - 1);
    return { message: message.replace(/^refs\.toml:\d+:\d+: /, ''), at };
  }
  assert.fail(`expected ${to} to be refused`);
}

describe('validation of what a scenario names', () => {
  it('the base scenario is valid: ports anywhere, env left to run time, $${ a literal', () => {
    validateScenario(readDocument(file, base));
  });

  it('a linearizability model that does not exist, also in the JSON Schema', () => {
    const { message, at } = refusal('model = "kv"', 'model = "regsiter"');
    assert.match(
      message,
      /^checks\[0\]\.model: got "regsiter": did you mean "register"\? Expected one of "register", .*"mutex"$/,
    );
    assert.ok(at.startsWith('"regsiter"'), at);
    const schema = JSON.stringify(scenarioJsonSchema());
    assert.ok(
      schema.includes(
        `"model":{"description":"the model the history must fit","type":"string","enum":${JSON.stringify(modelNames)}}`,
      ),
      'the schema lists the models',
    );
  });

  it('a probe-success check naming no steadyState probe', () => {
    const { message, at } = refusal('probe = "health"', 'probe = "helth"');
    assert.equal(message, 'checks[1].probe: no steadyState probe is named "helth"; valid: one of health');
    assert.ok(at.startsWith('"helth"'), at);
  });

  it('a log probe reading a target that is not a process declared before it (or itself)', () => {
    const { message, at } = refusal('target = "db", pattern', 'target = "front", pattern');
    assert.match(message, /^targets\.db\.ready\.target: no process target "front" .*; valid: one of db$/);
    assert.ok(at.startsWith('"front"'), at);
  });

  it('${targets.NAME.KEY}: a target not declared', () => {
    const { message, at } = refusal(
      'url = "http://${targets.front.listen}"',
      'url = "http://${targets.frnt.listen}"',
    );
    assert.match(
      message,
      /^workload\.url: \$\{targets\.frnt\.listen\}: no target "frnt" is declared; valid: .*\$\{targets\.front\.listen\}/,
    );
    assert.ok(at.startsWith('"http://${targets.frnt'), at);
  });

  it('${targets.NAME.KEY}: in a target, one declared after it', () => {
    const { message } = refusal(
      'upstream = "127.0.0.1:${ports.db}"',
      'upstream = "127.0.0.1:${targets.front.port}"',
    );
    assert.match(
      message,
      /^targets\.front\.upstream: \$\{targets\.front\.port\}: target "front" is this target: a target may reference only the targets before it/,
    );
    const later = refusal('"${ports.db}", "$${targets', '"${targets.front.port}", "$${targets');
    assert.match(
      later.message,
      /^targets\.db\.argv\[3\]: \$\{targets\.front\.port\}: target "front" is declared after "db"/,
    );
    assert.ok(later.at.startsWith('"${targets.front.port}"'), later.at);
  });

  it('${targets.NAME.KEY}: a key its type does not offer', () => {
    const { message } = refusal('${targets.front.listen}/health', '${targets.front.pid}/health');
    assert.match(
      message,
      /^steadyState\[0\]\.probe\.url: \$\{targets\.front\.pid\}: a tcp-proxy target offers port, listen, not pid; valid: /,
    );
    const pid = refusal('"${targets.db.pid}"]', '"${targets.db.port}"]');
    assert.match(pid.message, /^rollbacks\[0\]\.argv\[3\]: .*a process target offers pid, not port/);
  });

  it('unknown scopes, and an unterminated reference', () => {
    const { message, at } = refusal('"${run.dir}"', '"${run.directory}"');
    assert.match(
      message,
      /^rollbacks\[0\]\.argv\[1\]: \$\{run\.directory\}: unknown reference; valid: \$\{run\.dir\}, \$\{ports\.NAME\}, \$\{env\.NAME\}/,
    );
    assert.ok(at.startsWith('"${run.directory}"'), at);
    assert.match(
      refusal('"${run.dir}"', '"${run.dir"').message,
      /^rollbacks\[0\]\.argv\[1\]: unterminated reference/,
    );
    assert.match(refusal('"${run.dir}"', '"${env}"').message, /\$\{env\}: unknown reference/);
  });

  it('in a fault’s params: a string, and a whole reference standing for a number', () => {
    const pause = 'kind = "process.pause"\nparams = { target = "db" }';
    const dir = refusal(
      pause,
      'kind = "resource.disk-fill"\nparams = { dir = "${run.dirr}", sizeMiB = 1, durationMs = 100 }',
    );
    assert.match(dir.message, /^faults\[0\]\.params\.dir: \$\{run\.dirr\}: unknown reference/);
    assert.ok(dir.at.startsWith('"${run.dirr}"'), dir.at);
    const pid = refusal(
      pause,
      'kind = "resource.fd-limit"\nparams = { pid = "${targets.dbb.pid}", maxOpenFiles = 9 }',
    );
    assert.match(
      pid.message,
      /^faults\[0\]\.params\.pid: \$\{targets\.dbb\.pid\}: no target "dbb" is declared/,
    );
  });

  it('faultline validate and faultline run refuse it, exit 3, naming file:line:column', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-refs-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'refs.toml');
    await writeFile(path, base.replace('model = "kv"', 'model = "regsiter"'));
    for (const command of ['validate', 'run']) {
      const result = await runCli([command, path], 20_000, { cwd: dir });
      assert.equal(result.code, 3, `${command}: ${result.stdout}\n${result.stderr}`);
      assert.match(
        result.stderr,
        /refs\.toml:\d+:9: checks\[0\]\.model: got "regsiter": did you mean "register"\? Expected one of/,
      );
      assert.doesNotMatch(result.stdout, /setup/, 'nothing started');
    }
  });
});
