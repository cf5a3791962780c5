// The cost bounds of the public `/verify-signature`: a per-client rate limit (each call costs an
// Ed25519 verification), and malformed input refused before any store read or crypto.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle } from '../../src/http/app.js';
import type { Services } from '../../src/http/services.js';
import { jsonLogger, localServices } from '../../src/platform/node/services.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const PER_MINUTE = 3;

let edge: TestEdge;
let signed: { payload: string; signature: string; kid: string };

beforeAll(async () => {
  edge = await startTestEdge({
    configure: (s) => ({ ...s, verify: { ...s.verify, requests_per_minute: PER_MINUTE } }),
  });
  signed = (await (await edge.call('/admin/keys/sign', { json: { id: 'limits' } })).json()) as {
    payload: string;
    signature: string;
    kid: string;
  };
});

afterAll(async () => {
  await edge?.stop();
});

/** `handle` with the edge's own services, as client `ip`; config reads counted. */
function direct(): { services: Services; configReads: () => number } {
  const base = localServices(
    edge.settings,
    edge.api.state,
    jsonLogger(() => undefined),
    { write: async () => undefined },
  );
  let reads = 0;
  return {
    services: {
      ...base,
      configStore: (name) => {
        const store = base.configStore(name);
        return { get: (key) => (reads++, store.get(key)) };
      },
    },
    configReads: () => reads,
  };
}

function verifyRequest(body: unknown): Request {
  return new Request('http://localhost/verify-signature', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('/verify-signature rate limit', () => {
  it(`answers 429 with Retry-After in the verify error shape past ${PER_MINUTE} a minute from one client`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE; i++) {
      // Malformed calls count too: refusing them is cheap, but probing is still traffic.
      const body = i === 0 ? { ...signed, signature: 'AAAA' } : signed;
      statuses.push((await edge.call('/verify-signature', { auth: false, json: body })).status);
    }
    expect(statuses).toEqual([400, 200, 200]);
    const limited = await edge.call('/verify-signature', { auth: false, json: signed });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.headers.get('access-control-allow-origin')).toBe('*');
    expect(await limited.json()).toEqual({
      verified: false,
      kid: '',
      message: 'Verification error',
      error: expect.stringMatching(/more than 3 verifications a minute/),
      code: 'rate_limited',
    });
    // Other routes have their own budgets: the key documents and admin still answer.
    expect((await edge.call('/.well-known/jwks.json', { auth: false })).status).toBe(200);
    expect((await edge.call('/admin/deployments/default/keysets')).status).toBe(200);
    // A CORS preflight is not a verification and is never limited.
    expect((await edge.call('/verify-signature', { auth: false, method: 'OPTIONS' })).status).toBe(
      204,
    );
  });

  it('counts per client IP: another client is not limited by the first', async () => {
    const { services } = direct();
    const ask = (ip: string): Promise<Response> => handle(verifyRequest(signed), services, { ip });
    for (let i = 0; i < PER_MINUTE; i++) expect((await ask('198.51.100.1')).status).toBe(200);
    expect((await ask('198.51.100.1')).status).toBe(429);
    expect((await ask('198.51.100.2')).status).toBe(200);
  });
});

describe('/verify-signature refuses malformed input before any store read or crypto', () => {
  it.each([
    ['a 3-byte signature', { payload: 'p', signature: 'AAAA', kid: DEV_KID }, 'invalid_request'],
    [
      'a signature that is not base64',
      { payload: 'p', signature: '!'.repeat(86), kid: DEV_KID },
      'invalid_request',
    ],
    ['a malformed kid', { payload: 'p', signature: 'A'.repeat(86), kid: 'a b' }, 'invalid_kid'],
    ['a missing payload', { signature: 'A'.repeat(86), kid: DEV_KID }, 'invalid_request'],
  ])('%s: 400 with no config read', async (_what, body, code) => {
    const { services, configReads } = direct();
    const res = await handle(verifyRequest(body), services, { ip: `203.0.113.${code.length}` });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ verified: false, code });
    expect(configReads()).toBe(0);
  });

  // The control: the counter does see the reads a well-formed request makes.
  it('reads the key store for a well-formed request', async () => {
    const { services, configReads } = direct();
    const res = await handle(verifyRequest(signed), services, { ip: '203.0.113.99' });
    expect(res.status).toBe(200);
    expect(configReads()).toBeGreaterThan(0);
  });
});
