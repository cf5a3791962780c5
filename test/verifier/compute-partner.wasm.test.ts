// The partner verifier on the local Compute host (run by `npm run test:wasm`): a partner's Compute
// service (compute-partner/app.ts, using the built trusted-server-keys/verifier) compiled to wasm
// with js-compute-runtime, fetching the publisher's discovery document through a named backend
// that points at a real local edge on Node. The edge signs; the partner wasm must verify, and
// must refuse anything tampered with.
import { spawn } from 'node:child_process';
import type { build } from 'esbuild';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputeHost } from '../../src/local-compute/host.js';
import { startComputeServer, type ComputeServer } from '../../src/local-compute/http-server.js';
import { startLocalEdge, type LocalEdge } from '../../src/platform/node/local-edge.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The esbuild @fastly/js-compute depends on and its CLI, exactly as scripts/build-wasm.mjs uses them.
const jsCompute = createRequire(import.meta.url).resolve('@fastly/js-compute');
const runtimeCli = join(dirname(jsCompute), 'cli', 'js-compute-runtime-cli.js');
const esbuild = createRequire(jsCompute)('esbuild') as { build: typeof build };

/** Bundles the partner app and compiles it to wasm in `dir`; answers the wasm's path. */
async function buildPartnerWasm(dir: string): Promise<string> {
  const bundle = join(dir, 'partner.js');
  const wasm = join(dir, 'partner.wasm');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['test/verifier/compute-partner/app.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['fastly'],
    external: ['fastly:*'],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  // The app must run the shipped entry (dist/), resolved by package name like a partner's would.
  expect(Object.keys(result.metafile.inputs)).toContain('dist/verifier/index.mjs');
  await writeFile(bundle, result.outputFiles[0]?.contents ?? new Uint8Array());
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [runtimeCli, bundle, wasm], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`js-compute-runtime failed (${code}): ${stderr.join('')}`);
  return wasm;
}

let buildDir: string;
let stateDir: string;
let publisher: LocalEdge;
let compute: ComputeHost;
let partner: ComputeServer;
let backendFetches = 0;
const hostEvents: string[] = [];
const timings: Record<string, number> = {};

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), 'tsk-partner-wasm-'));
  stateDir = await mkdtemp(join(tmpdir(), 'tsk-partner-edge-'));
  let t = Date.now();
  const [wasmPath, edge] = await Promise.all([
    buildPartnerWasm(buildDir),
    startLocalEdge({
      stateDir,
      edgePort: 0,
      apiPort: 0,
      echoAudit: false,
      logger: { log: () => undefined },
    }),
  ]);
  publisher = edge;
  timings['build_ms'] = Date.now() - t;
  expect((await stat(wasmPath)).size).toBeGreaterThan(0);
  const partnerConfig = new Map([
    ['publisher_host', publisher.settings.publisher.domain],
    [
      'discovery_url',
      `https://${publisher.settings.publisher.domain}/.well-known/trusted-server.json`,
    ],
  ]);
  t = Date.now();
  compute = await ComputeHost.start({
    wasmPath,
    resources: {
      configStore: (name) =>
        name === 'partner' ? { get: (key) => partnerConfig.get(key) ?? null } : undefined,
      secretStore: () => undefined,
      kvStoreExists: () => false,
      backend(name) {
        if (name !== 'publisher') return undefined;
        backendFetches += 1;
        return publisher.edgeUrl;
      },
    },
    output: {
      stdout: () => undefined,
      log: () => undefined,
      host: (event, fields) => void hostEvents.push(JSON.stringify({ event, ...fields })),
    },
    workers: { min: 1, max: 2 },
  });
  partner = await startComputeServer(compute, '127.0.0.1', 0);
  timings['host_start_ms'] = Date.now() - t;
}, 300_000);

afterAll(async () => {
  await partner?.close();
  await compute?.close();
  await publisher?.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(buildDir, { recursive: true, force: true });
  process.stdout.write(`compute partner timings: ${JSON.stringify(timings)}\n`);
});

const sign = async (id: string) => {
  const res = await fetch(`${publisher.edgeUrl}/admin/keys/sign`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${publisher.adminToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ id }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { payload: string; signature: string; kid: string };
};

const verifyOnPartner = async (body: unknown) => {
  const res = await fetch(partner.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('a partner Compute service verifying with trusted-server-keys/verifier', () => {
  it('verifies what the publisher edge signs, fetching its discovery document through the backend', async () => {
    const t = Date.now();
    const signed = await sign('partner-1');
    const before = backendFetches;
    const out = await verifyOnPartner({ payload: signed.payload, signature: signed.signature });
    timings['verify_ms'] = Date.now() - t;
    expect(out).toEqual({
      status: 200,
      body: expect.objectContaining({
        verified: true,
        kid: signed.kid,
        keyState: 'published',
        stale: false,
        payload: JSON.parse(signed.payload),
      }),
    });
    // The keys came from the publisher through the `publisher` backend (a cold instance: once).
    expect(backendFetches - before).toBe(1);
    expect(hostEvents).toEqual([]);
  });

  it('refuses a flipped signature bit and a payload changed after signing', async () => {
    const signed = await sign('partner-2');
    const bytes = Buffer.from(signed.signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const flipped = await verifyOnPartner({
      payload: signed.payload,
      signature: bytes.toString('base64url'),
    });
    expect(flipped).toEqual({
      status: 200,
      body: expect.objectContaining({ verified: false, reason: 'invalid_signature' }),
    });
    const changed = await verifyOnPartner({
      payload: signed.payload.replace('partner-2', 'partner-3'),
      signature: signed.signature,
    });
    expect(changed).toEqual({
      status: 200,
      body: expect.objectContaining({ verified: false, reason: 'invalid_signature' }),
    });
    // Signed for another host: refused before any key is fetched.
    const other = await verifyOnPartner({
      payload: signed.payload.replace(publisher.settings.publisher.domain, 'other.example'),
      signature: signed.signature,
    });
    expect(other.body).toMatchObject({ verified: false, reason: 'host_mismatch' });
  });

  it('follows a rotation: a signature by the new key verifies', async () => {
    const rotated = await fetch(`${publisher.edgeUrl}/admin/keys/rotate`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${publisher.adminToken}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(rotated.status).toBe(200);
    const { new_kid } = (await rotated.json()) as { new_kid: string };
    const signed = await sign('partner-4');
    expect(signed.kid).toBe(new_kid);
    const out = await verifyOnPartner({ payload: signed.payload, signature: signed.signature });
    expect(out.body).toMatchObject({ verified: true, kid: new_kid });
  });

  it('answers 400 with a reason for a body that is not {payload, signature}', async () => {
    expect(await verifyOnPartner('not json')).toEqual({
      status: 400,
      body: { error: 'body is not JSON' },
    });
    expect(await verifyOnPartner({ payload: 1, signature: 'x' })).toEqual({
      status: 400,
      body: { error: 'payload and signature must be strings' },
    });
  });
});
