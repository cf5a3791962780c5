// A bounded loopback load generator (used by bench/budgets.ts in a child process, so its own CPU
// is not charged to the server it measures): `conns` keep-alive connections, each sending GETs
// back to back for `ms` milliseconds. Prints one JSON line: requests/s, p50/p99 latency (ms), and
// the count of each status. No dependency: node:http with a keep-alive Agent.
//
//   node bench/load.mjs <url> <conns> <ms> [if-none-match]
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { URL } from 'node:url';

const [url, connsArg, msArg, inm] = process.argv.slice(2);
if (!url) throw new Error('usage: node bench/load.mjs <url> <conns> <ms> [if-none-match]');
const conns = Number(connsArg ?? 16);
const durationMs = Number(msArg ?? 2000);
const agent = new Agent({ keepAlive: true, maxSockets: conns });
const target = new URL(url);
const headers = inm ? { 'if-none-match': inm } : {};

/** One GET; resolves with its status once the body is drained. */
function get() {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, headers },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const latencies = [];
const statuses = {};
const start = performance.now();
const deadline = start + durationMs;

async function client() {
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const status = await get();
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}

await Promise.all(Array.from({ length: conns }, client));
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
agent.destroy();
process.stdout.write(
  JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    statuses,
  }) + '\n',
);
