// tsctl verify --local: the partner's check against the published JWKS, with no socket (the JWKS
// is served by a fake fetch) and a signature pinned in test/core/crypto-vectors.test.ts.
import { compactVerify, flattenedVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { serializeKeyLog, startKeyLog } from '../../src/core/keyring/key-log.js';
import { tsctl } from './harness.js';

const KID = 'ts-2025-10-A';
const DEV_JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw',
  alg: 'EdDSA',
  kid: KID,
};
const PAYLOAD =
  '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}';
const SIGNATURE =
  'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg';
const OTHER_JWK = {
  ...DEV_JWK,
  kid: 'other-1',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', // RFC 8037 A.2's key
};

const DEV_SEED = new Uint8Array(
  Buffer.from('NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=', 'base64'),
);
/** RFC 8037 A.1's private key, whose public key is OTHER_JWK's. */
const OTHER_SEED = new Uint8Array(
  Buffer.from('nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', 'base64url'),
);
const AT = '2026-11-22T09:00:00.000Z';
/** The key log of a deployment whose first key is the development key (docs/key-log.md). */
const devLog = async (): Promise<string> =>
  serializeKeyLog(await startKeyLog('default', { kid: KID, seed: DEV_SEED }, AT));
const LOG_PATH = '/.well-known/trusted-server-key-log.json';

/**
 * A fetch that serves `jwks` (a bare JWKS or a discovery document) at any path but the key log's, and `log` (404 when null) at the key log's
 * path, and records what was asked.
 */
async function servingWith(
  jwks: unknown,
  log: string | null | undefined,
): Promise<{ fetch: typeof fetch; asked: string[] }> {
  const text = log === undefined ? await devLog() : log;
  const asked: string[] = [];
  const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    asked.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    if (url.pathname === LOG_PATH) {
      return text === null
        ? new Response(JSON.stringify({ code: 'not_found', detail: 'no key log yet' }), {
            status: 404,
            headers: { 'content-type': 'application/problem+json' },
          })
        : new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    }
    return new Response(JSON.stringify(jwks), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fake as typeof fetch, asked };
}
const serving = (jwks: unknown) => servingWith(jwks, undefined);

const env = { TSCTL_ENDPOINT: 'http://keys.test' };
const verify = (kid: string, payload: string, signature: string, extra: string[] = []) => [
  'verify',
  '--local',
  '--kid',
  kid,
  '--payload',
  payload,
  `--signature=${signature}`,
  ...extra,
];

describe('tsctl verify --local', () => {
  it('verifies the pinned signature against the JWKS and the key log, fetching only those', async () => {
    const { fetch, asked } = await serving({ keys: [OTHER_JWK, DEV_JWK] });
    const root = JSON.parse(await devLog()).root_fingerprint as string;
    expect(await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, fetch })).toEqual({
      code: 0,
      stdout: `Verified here against the published JWKS: the signature matches key ${KID}, which the key log endorses (root ${root}).\n`,
      stderr: '',
    });
    expect(asked).toEqual(['GET /.well-known/trusted-server.json', `GET ${LOG_PATH}`]);
    const pinned = await tsctl(verify(KID, PAYLOAD, SIGNATURE, ['--root-fingerprint', root]), {
      env,
      fetch,
    });
    expect(pinned.code).toBe(0);
  });

  it('exits 1 when the key log does not endorse the key, is rooted elsewhere than the pin, or is missing', async () => {
    const otherRoot = serializeKeyLog(
      await startKeyLog('default', { kid: 'other-1', seed: OTHER_SEED }, AT),
    );
    const rogue = await servingWith({ keys: [DEV_JWK, OTHER_JWK] }, otherRoot);
    expect(await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, fetch: rogue.fetch })).toEqual({
      code: 1,
      stdout: `Not verified: the key log does not endorse ${KID} (unendorsed_key, key ${KID}).\n`,
      stderr: '',
    });
    const pin = await tsctl(
      verify(KID, PAYLOAD, SIGNATURE, ['--root-fingerprint', 'A'.repeat(43)]),
      {
        env,
        ...(await serving({ keys: [DEV_JWK] })),
      },
    );
    expect(pin.code).toBe(1);
    expect(pin.stdout).toMatch(/is not the pinned root A{43} \(key_log_unavailable/);
    const none = await servingWith({ keys: [DEV_JWK] }, null);
    const missing = await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, fetch: none.fetch });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/publishes no key log \(add --skip-key-log/);
    const skipped = await tsctl(verify(KID, PAYLOAD, SIGNATURE, ['--skip-key-log']), {
      env,
      fetch: none.fetch,
    });
    expect(skipped.code).toBe(0);
  });

  it('accepts the padded standard base64 form of the same signature', async () => {
    const padded = Buffer.from(SIGNATURE, 'base64url').toString('base64');
    const out = await tsctl(verify(KID, PAYLOAD, padded), {
      env,
      ...(await serving({ keys: [DEV_JWK] })),
    });
    expect(out.code).toBe(0);
  });

  it('exits 1, saying why, for a tampered payload, another key, an unknown kid or a short signature', async () => {
    const { fetch } = await serving({ keys: [DEV_JWK, OTHER_JWK] });
    const cases: Array<[string[], string]> = [
      [verify(KID, `${PAYLOAD} `, SIGNATURE), `Not verified: Invalid signature (key ${KID}).\n`],
      [verify('other-1', PAYLOAD, SIGNATURE), 'Not verified: Invalid signature (key other-1).\n'],
      [
        verify('nope-1', PAYLOAD, SIGNATURE),
        'Not verified: the JWKS does not list this kid (key nope-1).\n',
      ],
      [
        verify(KID, PAYLOAD, SIGNATURE.slice(0, 40)),
        `Not verified: the signature is not 64 bytes of base64url or base64 (key ${KID}).\n`,
      ],
    ];
    for (const [argv, stdout] of cases) {
      expect(await tsctl(argv, { env, fetch })).toEqual({ code: 1, stdout, stderr: '' });
    }
  });

  it('prints one JSON object with -o json', async () => {
    const out = await tsctl(verify(KID, PAYLOAD, SIGNATURE, ['-o', 'json']), {
      env,
      ...(await serving({ keys: [DEV_JWK] })),
    });
    expect(JSON.parse(out.stdout)).toEqual({ verified: true, kid: KID, checked: 'local' });
  });

  it('exits 5 with bad_jwks when the published document is not a JWKS', async () => {
    const out = await tsctl(verify(KID, PAYLOAD, SIGNATURE), {
      env,
      ...(await serving({ keys: 'x' })),
    });
    expect(out.code).toBe(5);
    expect(out.stderr).toMatch(/^tsctl: bad_jwks: the published JWKS is unusable: /);
  });
});

describe('why --local does not use a JWS verify', () => {
  it('jose verifies a real JWS (RFC 8037 A.4) but not a Trusted Server signature put in JWS form', async () => {
    const rfcKey = await importJWK(
      { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
      'EdDSA',
    );
    const jws =
      'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.' +
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';
    const { payload } = await compactVerify(jws, rfcKey);
    expect(new TextDecoder().decode(payload)).toBe('Example of Ed25519 signing');

    // A JWS signs `BASE64URL(header).BASE64URL(payload)`; Trusted Server signs the payload text
    // itself, so the same signature in a flattened JWS cannot verify, even with b64:false.
    const devKey = await importJWK(DEV_JWK, 'EdDSA');
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    await expect(
      flattenedVerify(
        {
          protected: header({ alg: 'EdDSA' }),
          payload: Buffer.from(PAYLOAD).toString('base64url'),
          signature: SIGNATURE,
        },
        devKey,
      ),
    ).rejects.toThrow(/signature verification failed/);
    await expect(
      flattenedVerify(
        {
          protected: header({ alg: 'EdDSA', b64: false, crit: ['b64'] }),
          payload: PAYLOAD,
          signature: SIGNATURE,
        },
        devKey,
      ),
    ).rejects.toThrow(/signature verification failed/);
  });

  it('applies the taint cutoff of the discovery document, as the edge does', async () => {
    const ts = 1763800000000; // the pinned payload's
    const discovery = (cutoff: string) => ({
      version: '1.0',
      jwks: { keys: [DEV_JWK] },
      keyring_version: 3,
      tainted_kids: [KID],
      taint_cutoffs: { [KID]: cutoff },
    });
    const before = await serving(discovery(new Date(ts + 1).toISOString()));
    expect((await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, ...before })).code).toBe(0);
    const at = await serving(discovery(new Date(ts).toISOString()));
    expect(await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, ...at })).toEqual({
      code: 1,
      stdout: `Not verified: signed_after_taint_cutoff: key ${KID} is tainted: the payload's ts 2025-11-22T08:26:40.000Z is not before its taint cutoff 2025-11-22T08:26:40.000Z (key ${KID}).\n`,
      stderr: '',
    });
    const json = await tsctl(verify(KID, PAYLOAD, SIGNATURE, ['-o', 'json']), { env, ...at });
    expect(JSON.parse(json.stdout)).toMatchObject({
      verified: false,
      error: expect.stringMatching(/^signed_after_taint_cutoff: /),
    });
    // A key the document does not list as tainted has no cutoff, whatever taint_cutoffs says.
    const untainted = await serving({ ...discovery(new Date(0).toISOString()), tainted_kids: [] });
    expect((await tsctl(verify(KID, PAYLOAD, SIGNATURE), { env, ...untainted })).code).toBe(0);
  });
});
