// Trusted Server's HTTP Basic credentials imported as admin tokens (`tsctl token import`), through
// the in-process app: any characters in the username and password, only a salted hash stored,
// and the same gate as Bearer tokens (constant-time check, per-token limit, penalty box).
import { describe, expect, it } from 'vitest';
import {
  authenticate,
  basicCredentialProblem,
  basicEntryName,
  basicRecord,
  parseAuthorization,
  sha256Hex,
} from '../../src/core/auth/admin-token.js';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { addAdminToken, memoryServices, testApp, withDevKey } from '../support/app.js';

/** A username and password Trusted Server accepts and the old token rules did not. */
const USER = 'ops admin@publisher.example';
const PASSWORD = 'pä:ss word ✓ "quoted" 1';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

let counter = 0;
const random = {
  bytes: (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + counter++) & 0xff),
};

async function world(admin: Record<string, number> = {}) {
  const services = memoryServices(
    withDevKey({
      settings: {
        publisher: { domain: 'publisher.example' },
        request_signing: { config_store_id: 'cfg-default', secret_store_id: 'sec-default' },
        admin,
      },
    }),
  );
  const tokens = (): Map<string, string> => {
    let map = services.secrets.get(STORE_NAMES.adminTokens);
    if (!map) services.secrets.set(STORE_NAMES.adminTokens, (map = new Map()));
    return map;
  };
  const importBasic = async (user: string, password: string, role: 'operator' | 'viewer') => {
    const name = await basicEntryName(user);
    tokens().set(name, await basicRecord(password, role, random));
    return name;
  };
  const app = testApp(services);
  const sign = (authorization: string) =>
    app.request('/admin/keys/sign', { json: { id: 'r' }, headers: { authorization } });
  return { services, tokens, importBasic, app, sign };
}

describe('imported Basic credentials', () => {
  it('authenticate with any characters; the entry is named by a hash of the username', async () => {
    const { importBasic, sign, services } = await world();
    const name = await importBasic(USER, PASSWORD, 'operator');
    expect(name).toMatch(/^basic-[A-Za-z0-9_-]{43}$/);
    const res = await sign(basic(USER, PASSWORD));
    expect(res.status).toBe(200);
    // The audit names the entry, never the password.
    expect(services.audits.at(-1)).toMatchObject({ actor: name, outcome: 'allowed' });
    expect(JSON.stringify(services.audits)).not.toContain(PASSWORD);
  });

  it('a username that is a valid token id names its entry itself', async () => {
    const { importBasic, sign } = await world();
    expect(await importBasic('admin', 'integration-admin-password-32-bytes-ok', 'operator')).toBe(
      'admin',
    );
    expect((await sign(basic('admin', 'integration-admin-password-32-bytes-ok'))).status).toBe(200);
  });

  it('stores a salted hash: neither the password nor its plain SHA-256, and no two records alike', async () => {
    const first = JSON.parse(await basicRecord(PASSWORD, 'operator', random));
    const second = JSON.parse(await basicRecord(PASSWORD, 'operator', random));
    expect(Object.keys(first).sort()).toEqual(['role', 'salt', 'sha256']);
    expect(first.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first.sha256).toBe(await sha256Hex(first.salt + PASSWORD));
    expect(first.sha256).not.toBe(await sha256Hex(PASSWORD));
    expect(first.sha256).not.toBe(second.sha256);
    expect(JSON.stringify(first)).not.toContain(PASSWORD);
  });

  it.each([
    ['a wrong password', USER, `${PASSWORD}x`],
    ['a wrong username', `${USER}x`, PASSWORD],
    ['the password without the username', '', PASSWORD],
    ['the username without a password', USER, ''],
  ])('refuses %s with 401', async (_name, user, password) => {
    const { importBasic, sign } = await world();
    await importBasic(USER, PASSWORD, 'operator');
    const res = await sign(basic(user, password));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('unauthorized');
  });

  it('refuses a header that is not UTF-8 or not base64, with 401', async () => {
    const { importBasic, sign } = await world();
    await importBasic(USER, PASSWORD, 'operator');
    const latin1 = `Basic ${Buffer.from([0x61, 0x3a, 0xe9, 0xff]).toString('base64')}`;
    expect((await sign(latin1)).status).toBe(401);
    expect((await sign('Basic !!!')).status).toBe(401);
    expect(await parseAuthorization(latin1)).toBeNull();
  });

  it('keeps the role it was imported with', async () => {
    const { importBasic, app } = await world();
    await importBasic(USER, PASSWORD, 'viewer');
    const res = await app.request('/admin/keys/rotate', {
      json: {},
      headers: { authorization: basic(USER, PASSWORD) },
    });
    expect(res.status).toBe(403);
  });

  it('does not change Bearer tokens, which still work over Basic as <id>:<secret>', async () => {
    const { services, sign } = await world();
    const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
    expect((await sign(`Bearer ${token}`)).status).toBe(200);
    expect((await sign(basic('ops1', 'ops1-secret-0123456789abcdef'))).status).toBe(200);
    expect((await sign(basic('ops1', 'ops1-secret-0123456789abcdeX'))).status).toBe(401);
  });

  it('counts failures into the same penalty box; the right credentials still pass while boxed', async () => {
    const { importBasic, sign, services } = await world({
      auth_failures_per_minute: 3,
      penalty_minutes: 2,
    });
    await importBasic(USER, PASSWORD, 'operator');
    for (let i = 0; i < 3; i++) expect((await sign(basic(USER, 'guess'))).status).toBe(401);
    const boxed = await sign(basic(USER, 'guess'));
    expect(boxed.status).toBe(429);
    expect(boxed.headers.get('retry-after')).toBe('120');
    expect((await sign(basic(USER, PASSWORD))).status).toBe(200);
    services.now += 121_000;
    expect((await sign(basic(USER, 'guess'))).status).toBe(401);
  });

  it('is limited per token like a Bearer token', async () => {
    const { importBasic, sign } = await world({ requests_per_minute: 2 });
    await importBasic(USER, PASSWORD, 'operator');
    expect((await sign(basic(USER, PASSWORD))).status).toBe(200);
    expect((await sign(basic(USER, PASSWORD))).status).toBe(200);
    expect((await sign(basic(USER, PASSWORD))).status).toBe(429);
  });

  it('an older record without a salt is never matched by the salted rule, nor the reverse', async () => {
    const record = await basicRecord(PASSWORD, 'operator', random);
    const unsalted = JSON.stringify({ sha256: JSON.parse(record).sha256, role: 'operator' });
    await expect(authenticate({ id: 'x', secret: PASSWORD }, unsalted)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(authenticate({ id: 'x', secret: PASSWORD }, record)).resolves.toEqual({
      tokenId: 'x',
      role: 'operator',
    });
  });

  it.each([
    ['', PASSWORD, 'the username is empty'],
    ['a:b', PASSWORD, 'the username contains ":", which HTTP Basic cannot carry'],
    [USER, '', 'the password is empty'],
  ])('names why %j / %j could never log in', (user, password, problem) => {
    expect(basicCredentialProblem(user, password)).toBe(problem);
  });
});
