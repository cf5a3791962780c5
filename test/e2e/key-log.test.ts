// The stolen-API-token attack on the local stack (docs/key-log.md): a rogue JWK written straight
// into the config store through the local Fastly management API, its private key too, and its
// kid added to `active-kids`. The edge then publishes it (Trusted Server's items say what is
// live); the service reports it as unendorsed in its status, doctor and discovery document, and
// the partner verifier, pinned to the key log's root, refuses what it signs while keys the log
// endorses keep verifying. Then the operator's explicit adopt endorses it.
import { createPrivateKey, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const BASE = '/admin/deployments/default';

let edge: TestEdge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

async function body<T = Record<string, unknown>>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const text = await r.text();
  expect(r.status, text).toBeLessThan(300);
  return JSON.parse(text) as T;
}

/** Signs a v1.1 payload with OpenSSL from a seed, as a holder of that private key could. */
function signedBy(kid: string, seed: Buffer, x: string, host: string) {
  const payload = JSON.stringify({
    version: '1.1',
    kid,
    host,
    scheme: 'https',
    id: 'req-1',
    ts: Date.now(),
  });
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x },
    format: 'jwk',
  });
  return { payload, signature: sign(null, Buffer.from(payload), key).toString('base64url') };
}

describe('a rogue key written with the Fastly API token', () => {
  it('is reported by the service and refused by the verifier; adopt endorses it on purpose', async () => {
    const e = (edge = await startTestEdge());
    // The operator prepares a key: the log starts, rooted at the ACTIVE key, endorsing `next`.
    await body(e.call(`${BASE}/keysets`, { json: { kid: 'next' } }));
    const log = await body<{ format: string; root_fingerprint: string; root: { kid: string } }>(
      e.call('/.well-known/trusted-server-key-log.json', { auth: false }),
    );
    expect(log).toMatchObject({ format: 'trusted-server-keys/key-log', root: { kid: DEV_KID } });
    const perDeployment = await fetch(`${e.edgeUrl}/.well-known/deployments/default/key-log.json`);
    expect(perDeployment.headers.get('access-control-allow-origin')).toBe('*');
    expect(perDeployment.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(await perDeployment.json()).toEqual(log);
    // A partner revalidates with the ETag it was given (strong, weak, or in a list): 304.
    const etag = perDeployment.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"h/);
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await fetch(`${e.edgeUrl}/.well-known/trusted-server-key-log.json`, {
        headers: { 'if-none-match': inm },
      });
      expect(again.status, inm).toBe(304);
    }
    const changed = await fetch(`${e.edgeUrl}/.well-known/trusted-server-key-log.json`, {
      headers: { 'if-none-match': '"other"' },
    });
    expect(changed.status).toBe(200);
    const status = await body<{ key_log: { root_fingerprint: string }; unendorsed_kids: string[] }>(
      e.call(`${BASE}/status`, { method: 'GET' }),
    );
    expect(status.key_log.root_fingerprint).toBe(log.root_fingerprint);
    expect(status.unendorsed_kids).toEqual([]);

    // The attack: a key pair of the attacker's, written through the management API.
    const { generateKeyPairSync } = await import('node:crypto');
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d ?? '', 'base64url');
    const rogue = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, alg: 'EdDSA', kid: 'rogue' };
    const { jwksStoreId, signingKeysStoreId } = e.stores;
    await e.client.putSecret(signingKeysStoreId, 'rogue', seed.toString('base64'), 'create');
    await e.client.upsertConfigItem(jwksStoreId, 'rogue', JSON.stringify(rogue));
    const published = (await e.client.getConfigItem(jwksStoreId, 'active-kids')) ?? '';
    await e.client.upsertConfigItem(jwksStoreId, 'active-kids', `${published},rogue`);

    // The edge publishes it (Trusted Server's items say what is live) and says it is unendorsed.
    const discovery = await body<{
      jwks: { keys: Array<{ kid: string }> };
      key_log: { root_fingerprint: string };
      unendorsed_kids: string[];
    }>(e.call('/.well-known/trusted-server.json', { auth: false }));
    expect(discovery.jwks.keys.map((k) => k.kid)).toContain('rogue');
    expect(discovery.unendorsed_kids).toEqual(['rogue']);
    expect(discovery.key_log.root_fingerprint).toBe(log.root_fingerprint);
    const after = await body<{ unendorsed_kids: string[]; problems: Array<{ message: string }> }>(
      e.call(`${BASE}/status`, { method: 'GET' }),
    );
    expect(after.unendorsed_kids).toEqual(['rogue']);
    expect(JSON.stringify(after.problems)).toContain('rogue');
    const doctor = await body<{
      healthy: boolean;
      findings: Array<{ code: string; kid?: string }>;
    }>(e.call(`${BASE}/doctor`, { method: 'GET' }));
    expect(doctor.healthy).toBe(false);
    expect(doctor.findings).toContainEqual(
      expect.objectContaining({ code: 'unendorsed_key', kid: 'rogue' }),
    );
    const listing = await body<{ unendorsed_kids: string[] }>(
      e.call(`${BASE}/keysets`, { method: 'GET' }),
    );
    expect(listing.unendorsed_kids).toEqual(['rogue']);

    // The partner, pinned to the root it got out of band.
    const host = e.settings.publisher.domain;
    const verifier = createVerifier({
      discoveryUrl: `${e.edgeUrl}/.well-known/trusted-server.json`,
      host,
      keyLog: { rootFingerprint: log.root_fingerprint },
    });
    const refused = await verifier.verify(signedBy('rogue', seed, jwk.x ?? '', host));
    expect(refused).toMatchObject({ verified: false, reason: 'unendorsed_key', kid: 'rogue' });
    const honest = (await body(e.call('/admin/keys/sign', { json: { id: 'req' } }))) as {
      payload: string;
      signature: string;
    };
    expect(await verifier.verify(honest)).toMatchObject({ verified: true, kid: DEV_KID });

    // Folding the drift does not endorse it; only the operator's explicit adopt <kid> does.
    await body(e.call(`${BASE}/adopt`, { json: {} }));
    expect(
      (await body<{ unendorsed_kids: string[] }>(e.call(`${BASE}/status`, { method: 'GET' })))
        .unendorsed_kids,
    ).toEqual(['rogue']);
    const dry = await body<{ dry_run: boolean }>(
      e.call(`${BASE}/adopt?dry_run=true`, { json: { kid: 'rogue' } }),
    );
    expect(dry.dry_run).toBe(true);
    await body(e.call(`${BASE}/adopt`, { json: { kid: 'rogue' } }));
    expect(
      (await body<{ unendorsed_kids: string[] }>(e.call(`${BASE}/status`, { method: 'GET' })))
        .unendorsed_kids,
    ).toEqual([]);
    const audit = await import('node:fs/promises').then((fs) => fs.readFile(e.auditFile, 'utf8'));
    expect(audit).toMatch(/"keyset":"rogue","operation":"adopt","outcome":"allowed"/);
    // A fresh partner (trust on first use) now accepts it.
    const later = createVerifier({
      discoveryUrl: `${e.edgeUrl}/.well-known/trusted-server.json`,
      host,
    });
    expect(await later.verify(signedBy('rogue', seed, jwk.x ?? '', host))).toMatchObject({
      verified: true,
    });
    // Trusted Server's rotate route, as this service answers it, endorses the key it makes.
    await body(e.call('/admin/keys/rotate', { json: {} }));
    const rotated = (await body(e.call('/admin/keys/sign', { json: { id: 'req-2' } }))) as {
      payload: string;
      signature: string;
    };
    // (A new verifier: `later` fetched the log a moment ago and refetches only after its cooldown.)
    const third = createVerifier({
      discoveryUrl: `${e.edgeUrl}/.well-known/trusted-server.json`,
      host,
      keyLog: { rootFingerprint: log.root_fingerprint },
    });
    expect(await third.verify(rotated)).toMatchObject({ verified: true });
    expect(
      (await body<{ unendorsed_kids: string[] }>(e.call(`${BASE}/status`, { method: 'GET' })))
        .unendorsed_kids,
    ).toEqual([]);
  });
});
