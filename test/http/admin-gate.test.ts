// The admin gate (rate limits, the penalty box, the role check) through the in-process harness:
// no socket, and the clock is the test's, so Retry-After is exact.
import { describe, expect, it } from 'vitest';
import { addAdminToken, memoryServices, testApp, withDevKey } from '../support/app.js';

const SETTINGS = (admin: Record<string, number>) => ({
  publisher: { domain: 'publisher.example' },
  request_signing: { config_store_id: 'cfg-default', secret_store_id: 'sec-default' },
  admin,
});

async function gatedApp(admin: Record<string, number>) {
  const services = memoryServices(withDevKey({ settings: SETTINGS(admin) }));
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  return { services, token, app: testApp(services) };
}

describe('rate limiting', () => {
  it('answers 429 with Retry-After past the per-token limit, and counts unknown admin paths too', async () => {
    const { app, token, services } = await gatedApp({ requests_per_minute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await app.request('/admin/keys/sign', { token, json: { id: 'r' } })).status);
    statuses.push((await app.request('/admin/nothing-here', { token })).status);
    const limited = await app.request('/admin/keys/sign', { token, json: { id: 'r' } });
    expect(statuses).toEqual([200, 200, 200, 200, 404]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    // Public routes are not admin routes: never limited by the admin gate.
    expect((await app.request('/.well-known/jwks.json')).status).toBe(200);
    // Another token from the same client is not limited by this one's count.
    const other = await addAdminToken(services, 'ops2', 'ops2-secret-0123456789abcdef', 'operator');
    expect(
      (await app.request('/admin/keys/sign', { token: other, json: { id: 'r' } })).status,
    ).toBe(200);
  });

  it('counts malformed admin paths against the per-client limit', async () => {
    const { app } = await gatedApp({ requests_per_minute: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await app.request('/admin/keys/rotate/', { json: {} })).status);
    expect(statuses).toEqual([400, 400, 429]);
  });

  it('puts a client that keeps failing to authenticate in the penalty box, but never refuses a valid token for it', async () => {
    const { app, token, services } = await gatedApp({
      auth_failures_per_minute: 3,
      penalty_minutes: 2,
    });
    const wrong = `ops1.${'x'.repeat(43)}`;
    for (let i = 0; i < 3; i++) {
      expect(
        (await app.request('/admin/keys/sign', { token: wrong, json: { id: 'r' } })).status,
      ).toBe(401);
    }
    const boxed = await app.request('/admin/keys/sign', { token: wrong, json: { id: 'r' } });
    expect(boxed.status).toBe(429);
    expect(boxed.headers.get('retry-after')).toBe('120');
    expect(((await boxed.json()) as { error: string }).error).toMatch(
      /too many failed authentications/,
    );
    // The operator behind the same address (a NAT) with the right token gets through.
    expect((await app.request('/admin/keys/sign', { token, json: { id: 'r' } })).status).toBe(200);
    services.now += 121_000; // the penalty is over
    expect(
      (await app.request('/admin/keys/sign', { token: wrong, json: { id: 'r' } })).status,
    ).toBe(401);
  });
});
