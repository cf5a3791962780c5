// The public routes and the signing route through the in-process harness (test/support/app.ts):
// handle() with stores in memory, no socket. The end-to-end suites keep what needs the local
// Fastly API (mutations, the lease, the edge server itself).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addAdminToken, DEV_KEY, memoryServices, testApp, withDevKey } from '../support/app.js';

// Trusted Server's v1.1 payload signed by the development key; the bytes are pinned in
// test/core/crypto-vectors.test.ts (from OpenSSL).
const PAYLOAD =
  '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}';
const SIGNATURE =
  'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg';

const devApp = () => testApp(memoryServices(withDevKey()));

describe('discovery and JWKS', () => {
  it('serves the development key in Trusted Server’s discovery shape', async () => {
    const res = await devApp().request('/.well-known/trusted-server.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc['version']).toBe('1.0');
    expect(doc['jwks']).toEqual({ keys: [DEV_KEY.jwk] });
  });

  it('serves a plain JWKS, answers If-None-Match with 304 and HEAD without a body', async () => {
    const app = devApp();
    const res = await app.request('/.well-known/jwks.json');
    expect(await res.json()).toEqual({ keys: [DEV_KEY.jwk] });
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"/);
    const again = await app.request('/.well-known/jwks.json', {
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(again.status).toBe(304);
    const head = await app.request('/.well-known/jwks.json', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers a CORS preflight on public routes', async () => {
    const res = await devApp().request('/verify-signature', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });
});

describe('POST /verify-signature', () => {
  it('verifies the pinned signature, in base64url and in padded standard base64', async () => {
    const app = devApp();
    const ok = await app.request('/verify-signature', {
      json: { payload: PAYLOAD, signature: SIGNATURE, kid: DEV_KEY.kid },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      verified: true,
      kid: DEV_KEY.kid,
      message: 'Signature verified successfully',
      state: 'ACTIVE',
    });
    const padded = Buffer.from(SIGNATURE, 'base64url').toString('base64');
    const std = await app.request('/verify-signature', {
      json: { payload: PAYLOAD, signature: padded, kid: DEV_KEY.kid },
    });
    expect(await std.json()).toMatchObject({ verified: true });
  });

  it('reports a tampered payload as not verified', async () => {
    const res = await devApp().request('/verify-signature', {
      json: { payload: `${PAYLOAD} `, signature: SIGNATURE, kid: DEV_KEY.kid },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      verified: false,
      kid: DEV_KEY.kid,
      message: 'Signature verification failed',
      error: 'Invalid signature',
      state: 'ACTIVE',
    });
  });

  it('answers 400 for a malformed request and 404 for an unknown kid', async () => {
    const app = devApp();
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ payload: 'p', signature: 'AAAA', kid: DEV_KEY.kid }, 400],
      [{ payload: 1, signature: SIGNATURE, kid: DEV_KEY.kid }, 400],
      [{ payload: 'p', signature: SIGNATURE, kid: 'unknown' }, 404],
    ];
    for (const [json, status] of cases) {
      expect((await app.request('/verify-signature', { json })).status, JSON.stringify(json)).toBe(
        status,
      );
    }
  });
});

describe('POST /admin/keys/sign', () => {
  it('signs with the ACTIVE key for an operator; an independent verifier accepts it', async () => {
    const services = memoryServices(withDevKey());
    const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
    const res = await testApp(services).request('/admin/keys/sign', { token, json: { id: 'r' } });
    expect(res.status).toBe(200);
    const signed = (await res.json()) as { payload: string; signature: string; kid: string };
    expect(signed.kid).toBe(DEV_KEY.kid);
    expect(JSON.parse(signed.payload)).toMatchObject({ kid: DEV_KEY.kid, id: 'r' });
    const key = createPublicKey({ key: { ...DEV_KEY.jwk }, format: 'jwk' });
    expect(
      nodeVerify(
        null,
        Buffer.from(signed.payload),
        key,
        Buffer.from(signed.signature, 'base64url'),
      ),
    ).toBe(true);
    expect(services.audits).toHaveLength(1);
  });

  it('refuses a viewer (403) and no token (401), and audits both', async () => {
    const services = memoryServices(withDevKey());
    const viewer = await addAdminToken(
      services,
      'view1',
      'view1-secret-0123456789abcdef',
      'viewer',
    );
    const app = testApp(services);
    expect((await app.request('/admin/keys/sign', { token: viewer, json: {} })).status).toBe(403);
    expect((await app.request('/admin/keys/sign', { json: {} })).status).toBe(401);
    expect(services.audits).toHaveLength(2);
  });
});

describe('the hot path', () => {
  it('never opens a deployment: no API token read, no management call', async () => {
    const opened: string[] = [];
    const services = memoryServices(
      withDevKey({
        deployments: {
          open: async (request) => {
            opened.push(request.name);
            throw new Error('the hot path opened a deployment');
          },
        },
      }),
    );
    const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
    const app = testApp(services);
    const answers = [
      await app.request('/.well-known/trusted-server.json'),
      await app.request('/.well-known/jwks.json'),
      await app.request('/verify-signature', {
        json: { payload: PAYLOAD, signature: SIGNATURE, kid: DEV_KEY.kid },
      }),
      await app.request('/admin/keys/sign', { token, json: { id: 'req-1' } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(opened).toEqual([]);
    // The control: a mutation does open one (and this stand-in refuses it).
    expect((await app.request('/admin/keys/rotate', { token, json: {} })).status).toBe(500);
    expect(opened).toEqual(['default']);
  });
});
