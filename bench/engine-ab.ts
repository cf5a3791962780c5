// Two builds of the Compute module side by side, request by request: each case sends a request
// to build A, then the same to build B, in a fresh instance each (as on Fastly), and reports the
// medians of both and their difference. Interleaving keeps a shared machine's load swings out of
// the comparison, which `bench/budgets.ts` (one module at a time) cannot. The last column is the
// median of the paired differences (B's request less A's request run next to it); `best` is the
// fastest `handle` of each, the figure a busy machine disturbs least. Used for the build-time
// warm-up (docs/performance.md, "Fresh-instance warm-up").
//
//   npx tsx bench/engine-ab.ts before.wasm after.wasm [runs]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startComputeEdge, type ComputeEdge } from '../src/local-compute/compute-edge.js';
import type { RunTimings } from '../src/local-compute/host.js';
import type { DownstreamRequest } from '../src/local-compute/protocol.js';
import { median, request } from './compute-request.js';

const [wasmA, wasmB, runsArg] = process.argv.slice(2);
if (!wasmA || !wasmB) throw new Error('usage: npx tsx bench/engine-ab.ts A.wasm B.wasm [runs]');
const RUNS = Number(runsArg ?? 25);

/** An edge on `wasm` after one rotate, with a signed payload to verify. */
async function edgeFor(wasm: string, dir: string) {
  const edge = await startComputeEdge({
    stateDir: dir,
    edgePort: 0,
    apiPort: 0,
    echoAudit: false,
    stdout: () => undefined,
    wasmPath: wasm,
    workers: { min: 1, max: 1 },
    erl: 'off',
  });
  const post = (path: string, body: unknown) =>
    fetch(`${edge.edgeUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  if (!(await post('/admin/keys/rotate', {})).ok) throw new Error(`${wasm}: rotate failed`);
  const signed = await (await post('/admin/keys/sign', { id: 'ab' })).text();
  return { edge, signed };
}

async function serve(edge: ComputeEdge, req: DownstreamRequest): Promise<RunTimings> {
  let status = 0;
  const t = await edge.compute.serve(req, {
    head: (s) => void (status = s),
    chunk: () => undefined,
    end: () => undefined,
    fail: (s, reason) => {
      throw new Error(`${s} ${reason}`);
    },
  });
  if (status >= 400 || !t) throw new Error(`${req.method} ${req.uri}: HTTP ${status}`);
  return t;
}

const dir = await mkdtemp(join(tmpdir(), 'tsk-ab-'));
const a = await edgeFor(wasmA, join(dir, 'a'));
const b = await edgeFor(wasmB, join(dir, 'b'));
try {
  const cases: Array<[string, (x: typeof a) => DownstreamRequest]> = [
    ['GET /.well-known/jwks.json', () => request('GET', '/.well-known/jwks.json', [])],
    ['POST /verify-signature', (x) => request('POST', '/verify-signature', [], x.signed)],
    [
      'POST /admin/keys/sign',
      (x) =>
        request(
          'POST',
          '/admin/keys/sign',
          [['authorization', `Bearer ${x.edge.adminToken}`]],
          JSON.stringify({ id: 'ab' }),
        ),
    ],
  ];
  const f = (n: number): string => n.toFixed(1).padStart(7);
  console.log(`A = ${wasmA}\nB = ${wasmB}\nmedian of ${RUNS} fresh instances each, ms`);
  console.log(
    `${'case'.padEnd(28)}  handle A  handle B    best A    best B   total A   total B  B-A total`,
  );
  for (const [name, make] of cases) {
    const ta: RunTimings[] = [];
    const tb: RunTimings[] = [];
    for (let i = -2; i < RUNS; i++) {
      // Alternating which goes first, so neither build always follows the other.
      let x: RunTimings;
      let y: RunTimings;
      if (i % 2 === 0) {
        x = await serve(a.edge, make(a));
        y = await serve(b.edge, make(b));
      } else {
        y = await serve(b.edge, make(b));
        x = await serve(a.edge, make(a));
      }
      if (i < 0) continue;
      ta.push(x);
      tb.push(y);
    }
    const h = (ts: RunTimings[]) => median(ts.map((t) => t.runMs));
    const tot = (ts: RunTimings[]) => median(ts.map((t) => t.instantiateMs + t.runMs));
    const diff = median(
      ta.map((t, i) => tb[i]!.instantiateMs + tb[i]!.runMs - t.instantiateMs - t.runMs),
    );
    const best = (ts: RunTimings[]) => Math.min(...ts.map((t) => t.runMs));
    console.log(
      `${name.padEnd(28)}${f(h(ta))}   ${f(h(tb))}   ${f(best(ta))}   ${f(best(tb))}   ${f(tot(ta))}   ${f(tot(tb))}   ${f(diff)}`,
    );
  }
} finally {
  await a.edge.close();
  await b.edge.close();
  await rm(dir, { recursive: true, force: true });
}
