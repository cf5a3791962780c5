// Per-request figures from the real engine: bin/main.wasm on the local Compute host, one fresh
// instance per request as on Fastly, split into instantiate and handle (the guest's `_start`),
// beside an empty js-compute handler built in the same run. Part of `npm run bench` (after
// `npm run build`); vitest bench cannot time a separate thread's phases, hence a plain script.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startComputeEdge } from '../src/local-compute/compute-edge.js';
import { ComputeHost, type RunTimings } from '../src/local-compute/host.js';
import type { DownstreamRequest, HeaderList } from '../src/local-compute/protocol.js';

const RUNS = Number(process.env['TSK_BENCH_RUNS'] ?? 15);

interface Row {
  name: string;
  instantiate: number;
  handle: number;
  total: number;
  status: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

function request(method: string, path: string, headers: HeaderList, body = ''): DownstreamRequest {
  return {
    method,
    uri: `http://127.0.0.1${path}`,
    headers: body ? [...headers, ['content-type', 'application/json']] : headers,
    body: new TextEncoder().encode(body),
    clientIp: '127.0.0.1',
    serverIp: '127.0.0.1',
    requestId: '00000000000000000000000000000000',
  };
}

async function measure(
  host: ComputeHost,
  name: string,
  make: (i: number) => DownstreamRequest,
): Promise<Row> {
  const timings: RunTimings[] = [];
  let status = 0;
  for (let i = -2; i < RUNS; i++) {
    let body = '';
    const t = await host.serve(make(i), {
      head: (s) => void (status = s),
      chunk: (b) => void (body += new TextDecoder().decode(b)),
      end: () => undefined,
      fail: (s, reason) => {
        throw new Error(`${name}: ${s} ${reason}`);
      },
    });
    if (status >= 400) throw new Error(`${name}: HTTP ${status} ${body.slice(0, 200)}`);
    // The first two runs warm the thread (its code, the shared compiled module); not counted.
    if (t && i >= 0) timings.push(t);
  }
  const inst = timings.map((t) => t.instantiateMs);
  const handle = timings.map((t) => t.runMs);
  return {
    name,
    instantiate: median(inst),
    handle: median(handle),
    total: median(timings.map((t) => t.instantiateMs + t.runMs)),
    status,
  };
}

/** Builds `addEventListener('fetch', e => e.respondWith(new Response('')))` with js-compute. */
async function buildEmptyHandler(dir: string): Promise<string> {
  const jsCompute = createRequire(import.meta.url).resolve('@fastly/js-compute');
  const cli = join(dirname(jsCompute), 'cli', 'js-compute-runtime-cli.js');
  const source = join(dir, 'empty.js');
  const wasm = join(dir, 'empty.wasm');
  await writeFile(
    source,
    "addEventListener('fetch', (event) => event.respondWith(new Response('')));\n",
  );
  const run = spawnSync(process.execPath, [cli, source, wasm], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error('building the empty js-compute handler failed');
  return wasm;
}

async function main(): Promise<void> {
  if (!existsSync('bin/main.wasm')) throw new Error('bin/main.wasm is missing: npm run build');
  const dir = await mkdtemp(join(tmpdir(), 'tsk-bench-'));
  try {
    const emptyWasm = await buildEmptyHandler(dir);
    const rows: Row[] = [];

    const empty = await ComputeHost.start({
      wasmPath: emptyWasm,
      workers: { min: 1, max: 1 },
      resources: {
        configStore: () => undefined,
        secretStore: () => undefined,
        kvStoreExists: () => false,
        backend: () => undefined,
      },
      output: { stdout: () => undefined, log: () => undefined, host: () => undefined },
    });
    rows.push(await measure(empty, 'empty js-compute handler', () => request('GET', '/', [])));
    await empty.close();

    const edge = await startComputeEdge({
      stateDir: join(dir, 'state'),
      edgePort: 0,
      apiPort: 0,
      echoAudit: false,
      stdout: () => undefined,
      workers: { min: 1, max: 1 },
    });
    try {
      const auth: HeaderList = [['authorization', `Bearer ${edge.adminToken}`]];
      const host = edge.compute;
      rows.push(
        await measure(host, 'GET /.well-known/jwks.json', () =>
          request('GET', '/.well-known/jwks.json', []),
        ),
      );
      rows.push(
        await measure(host, 'GET /.well-known/trusted-server.json', () =>
          request('GET', '/.well-known/trusted-server.json', []),
        ),
      );
      const signed = await fetch(`${edge.edgeUrl}/admin/keys/sign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'bench' }),
      }).then((r) => r.text());
      rows.push(
        await measure(host, 'POST /verify-signature', () =>
          request('POST', '/verify-signature', [], signed),
        ),
      );
      rows.push(
        await measure(host, 'POST /admin/keys/sign', () =>
          request('POST', '/admin/keys/sign', auth, JSON.stringify({ id: 'bench' })),
        ),
      );
      rows.push(
        await measure(host, 'POST /admin/keys/rotate (local API writes)', (i) =>
          request('POST', '/admin/keys/rotate', auth, JSON.stringify({ kid: `bench-${i + 3}` })),
        ),
      );
    } finally {
      await edge.close();
    }

    const fmt = (n: number): string => n.toFixed(1).padStart(8);
    process.stdout.write(
      `\nPer request on the local Compute host (fresh instance each; median of ${RUNS}, ms)\n`,
    );
    process.stdout.write(
      `${'case'.padEnd(44)}${'instantiate'.padStart(12)}${'handle'.padStart(9)}${'total'.padStart(9)}\n`,
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.name.padEnd(44)}${fmt(r.instantiate).padStart(12)}${fmt(r.handle).padStart(9)}${fmt(r.total).padStart(9)}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
