import { readFile } from 'node:fs/promises';
import { describe } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { ProxyInput } from '../proxy/hub.js';

/** A parsed `--config` file: Toxiproxy's format, a JSON array of proxies (faultline also takes `toxics`). */
export interface ProxyConfig {
  readonly file: string;
  readonly text: string;
  readonly proxies: ProxyInput[];
}

export async function readProxyConfig(file: string): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaultlineError(codes.config, `${file}: cannot read config file: ${messageOf(error)}`, {
      cause: error,
      details: { file },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(messageOf(error));
    const { line, column } = lineAndColumn(text, position ? Number(position[1]) : text.length);
    const reason = messageOf(error)
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    throw new FaultlineError(codes.config, `${file}:${line}:${column}: invalid JSON: ${reason}`, {
      cause: error,
      details: { file, line, column },
    });
  }
  if (!Array.isArray(parsed)) {
    throw new FaultlineError(
      codes.config,
      `${file}:1:1: expected a JSON array of proxies ([{"name", "listen", "upstream", "enabled"?, "toxics"?}]), got ${describe(parsed)}`,
      { details: { file, line: 1, column: 1, expected: 'a JSON array of proxies' } },
    );
  }
  return { file, text, proxies: parsed as ProxyInput[] };
}

/** Rewrites an error about `proxies[i]…` to name the config file and the line where that proxy starts. */
export function locateConfigError(config: ProxyConfig, error: unknown): unknown {
  if (!(error instanceof FaultlineError)) return error;
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  const index = field ? /^proxies\[(\d+)\]/.exec(field) : null;
  const proxy = index ? config.proxies[Number(index[1])] : undefined;
  const line = proxy ? lineOfProxy(config.text, proxy) : undefined;
  const where = line === undefined ? config.file : `${config.file}:${line}`;
  return new FaultlineError(codes.config, `${where}: ${error.message}`, {
    cause: error,
    details: { ...error.details, file: config.file, ...(line === undefined ? {} : { line }) },
  });
}

function lineOfProxy(text: string, proxy: ProxyInput): number | undefined {
  if (typeof proxy !== 'object' || proxy === null || typeof proxy.name !== 'string') return undefined;
  const match = new RegExp(`"name"\\s*:\\s*${escapeRegExp(JSON.stringify(proxy.name))}`).exec(text);
  return match ? lineAndColumn(text, match.index).line : undefined;
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, column: position - before.lastIndexOf('\n') };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
