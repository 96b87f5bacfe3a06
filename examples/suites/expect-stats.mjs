// A command probe for the suites: reads a service's GET /stats and exits 0 when the JavaScript expression
// over it (`s`) holds, else 1 naming the stats. Usage: node expect-stats.mjs URL 's.retries >= 1'
const [url, expression] = process.argv.slice(2);
const s = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json();
const holds = new Function('s', `return (${expression});`)(s);
if (!holds) {
  console.error(`${expression} does not hold on ${JSON.stringify(s)}`);
  process.exit(1);
}
