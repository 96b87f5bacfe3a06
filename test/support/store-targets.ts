import { kvServicePath } from '../../src/demo/index.js';

/**
 * The scenario targets most runner tests and benches share, as TOML: the demo's key-value store on `port`
 * (data in the run's dir; restarted on failure unless told not to; ready once /health answers) as `kv`, and
 * unless `proxy: false`, a TCP proxy in front of it as `front`.
 */
export function storeTargets(
  port: number,
  options: {
    readonly variant?: 'fixed' | 'buggy';
    readonly restart?: boolean;
    readonly proxy?: boolean;
  } = {},
): string {
  const kv = `[targets.kv]
type = "process"
argv = [${JSON.stringify(process.execPath)}, ${JSON.stringify(kvServicePath)}, "--data-dir", "\${run.dir}", "--port", "${port}", "--variant", "${options.variant ?? 'fixed'}"]
${options.restart === false ? '' : 'restart = "on-failure"\n'}ready = { type = "http", url = "http://127.0.0.1:${port}/health" }
`;
  if (options.proxy === false) return kv;
  return `${kv}
[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${port}"
`;
}
