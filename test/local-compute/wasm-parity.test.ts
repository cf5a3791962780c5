// bin/main.wasm on the local Compute host (run by `npm run test:wasm`, after `npm run build:local`):
// signatures from the wasm verify with openssl and node:crypto, the log endpoint reaches the audit
// file, the Edge Rate Limiter's penalty box works and the guest's console lines reach the host.
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startComputeEdge, type ComputeEdge } from '../../src/local-compute/compute-edge.js';
import { startLocalEdge } from '../../src/platform/node/local-edge.js';
import { WARM_UP_SEED_HEX } from '../../src/http/warm-up.js';

let edge: ComputeEdge;
let stateDir: string;
let stdout: string[];
let hostLines: string[];

beforeEach(async () => {
  if (!existsSync('bin/main.wasm'))
    throw new Error('bin/main.wasm is missing: npm run build:local');
  stateDir = await mkdtemp(join(tmpdir(), 'tsk-wasm-'));
  stdout = [];
  hostLines = [];
  edge = await startComputeEdge({
    stateDir,
    edgePort: 0,
    apiPort: 0,
    echoAudit: false,
    stdout: (line) => void stdout.push(line),
    hostLog: (line) => void hostLines.push(line),
  });
});
afterEach(async () => {
  await edge.close();
  await rm(stateDir, { recursive: true, force: true });
});

const admin = (path: string, body: unknown, token = edge.adminToken) =>
  fetch(`${edge.edgeUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('bin/main.wasm on the Compute host', () => {
  it('signs with a key rotated in through the wasm; openssl and node:crypto verify it', async () => {
    const rotated = (await (await admin('/admin/keys/rotate', {})).json()) as {
      new_kid: string;
      jwk: { x: string; kid: string };
    };
    const res = await admin('/admin/keys/sign', { id: 'parity-1' });
    expect(res.status).toBe(200);
    const signed = (await res.json()) as { payload: string; signature: string; kid: string };
    expect(signed.kid).toBe(rotated.new_kid);
    expect(JSON.parse(signed.payload)).toMatchObject({ id: 'parity-1', kid: rotated.new_kid });

    const jwks = (await (await fetch(`${edge.edgeUrl}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string; x: string; kty: string; crv: string }>;
    };
    const jwk = jwks.keys.find((k) => k.kid === signed.kid);
    expect(jwk?.x).toBe(rotated.jwk.x);
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: jwk?.x ?? '' },
      format: 'jwk',
    });
    const signature = Buffer.from(signed.signature, 'base64url');
    expect(signature).toHaveLength(64);
    expect(nodeVerify(null, Buffer.from(signed.payload), key, signature)).toBe(true);
    expect(nodeVerify(null, Buffer.from(`${signed.payload} `), key, signature)).toBe(false);

    const pub = join(stateDir, 'pub.pem');
    const payload = join(stateDir, 'payload');
    const sig = join(stateDir, 'sig');
    await writeFile(pub, key.export({ type: 'spki', format: 'pem' }));
    await writeFile(payload, signed.payload);
    await writeFile(sig, signature);
    const openssl = (file: string) =>
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', file, '-sigfile', sig],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    expect(openssl(payload)).toMatch(/Signature Verified Successfully/);
    await writeFile(payload, `${signed.payload} `);
    expect(() => openssl(payload)).toThrow();
  });

  it('writes the audit line through the log endpoint before the response ends', async () => {
    await admin('/admin/keys/sign', { id: 'audited' });
    const lines = (await readFile(edge.auditFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      audit: true,
      route: '/admin/keys/sign',
      actor: 'local-admin',
      status: 200,
      client_ip: '127.0.0.1',
    });
    expect(hostLines).toEqual([]);
  });

  it('puts a client that keeps failing to authenticate in the penalty box (ERL in memory)', async () => {
    const failures = edge.settings.admin.auth_failures_per_minute;
    const bad = `local-admin.${'x'.repeat(43)}`;
    for (let i = 0; i < failures; i++)
      expect((await admin('/admin/keys/rotate', {}, bad)).status).toBe(401);
    const boxed = await admin('/admin/keys/rotate', {}, bad); // a wrong token, from the boxed IP
    expect(boxed.status).toBe(429);
    expect(Number(boxed.headers.get('retry-after'))).toBe(edge.settings.admin.penalty_minutes * 60);
    // The right token from the same address (a NAT) is never refused for the box.
    expect((await admin('/admin/keys/sign', { id: 'nat' })).status).toBe(200);
    // The guest's console.log (fd 1 through WASI) reaches the host as one JSON object a line.
    const events = stdout.map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).toContain('admin_client_penalized');
  });
});

describe('next to a running `npm start`', () => {
  it('uses the local API already serving the state folder, and both edges see each other’s writes', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'tsk-attach-'));
    const node = await startLocalEdge({
      stateDir: shared,
      edgePort: 0,
      apiPort: 0,
      echoAudit: false,
      logger: { log: () => undefined },
    });
    try {
      const wasm = await startComputeEdge({
        stateDir: shared,
        edgePort: 0,
        // Another port than npm start's API: the folder's claim says where that one is, and a
        // second API on the same folder would lose writes.
        apiPort: 0,
        echoAudit: false,
        stdout: () => undefined,
      });
      try {
        expect(wasm.apiUrl).toBe(node.apiUrl);
        const kids = async (url: string) =>
          (
            (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as {
              keys: Array<{ kid: string }>;
            }
          ).keys.map((k) => k.kid);
        const rotate = (url: string, kid: string) =>
          fetch(`${url}/admin/keys/rotate`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${node.adminToken}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ kid }),
          });
        expect((await rotate(wasm.edgeUrl, 'via-wasm')).status).toBe(200);
        expect(await kids(node.edgeUrl)).toEqual(['ts-2025-10-A', 'via-wasm']);
        expect((await rotate(node.edgeUrl, 'via-node')).status).toBe(200);
        expect(await kids(wasm.edgeUrl)).toEqual(['ts-2025-10-A', 'via-wasm', 'via-node']);
      } finally {
        await wasm.close();
      }
    } finally {
      await node.close();
      await rm(shared, { recursive: true, force: true });
    }
  });
});

// The build-time warm-up (src/http/warm-up.ts) signs at top level, so whatever it signs with is
// in the snapshot: it must be the public RFC 8032 vector, never a key of this project's stores.
describe('bin/main.wasm and its bundle', () => {
  it('hold no private key of fastly.toml in any encoding, nor its bytes', async () => {
    const wasm = await readFile('bin/main.wasm');
    const bundle = await readFile('build/index.js');
    const toml = await readFile('fastly.toml', 'utf8');
    const seeds = [...toml.matchAll(/^signing_keys = .*data = "([^"]+)"/gm)].map((m) =>
      Buffer.from(m[1] ?? '', 'base64'),
    );
    expect(seeds.map((s) => s.length)).toEqual([32]);
    for (const seed of seeds) {
      const forms = [
        seed,
        Buffer.from(seed.toString('base64')),
        Buffer.from(seed.toString('base64url')),
        Buffer.from(seed.toString('hex')),
      ];
      for (const form of forms) {
        expect(wasm.includes(form)).toBe(false);
        expect(bundle.includes(form)).toBe(false);
      }
    }
    // The scan does see what is there: the public vector the warm-up uses, as the bundle spells it.
    expect(wasm.includes(Buffer.from(WARM_UP_SEED_HEX))).toBe(true);
  });
});
