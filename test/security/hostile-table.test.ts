// The hostile-input table, through real HTTP on the local edge: every row gets its exact status
// and code, and every answer keeps the invariants (no stack trace, no secret in the body, headers,
// log or audit trail; the admin/public header split; one audit line per admin request; and the
// signing stores unchanged). Rows are in hostile-cases.ts.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/auth/admin-token.js';
import { installAdminToken } from '../../src/platform/node/provision.js';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';
import { HOSTILE_CASES, type Arrangement, type HostileCase } from './hostile-cases.js';
import {
  base64UrlOf,
  DEV_SEED,
  leaksIn,
  signingKeySecrets,
  stackTraceIn,
  storeSnapshot,
  Tally,
  type Secret,
} from './support/invariants.js';
import { sendRaw, serialize } from './support/raw-http.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

let edge: TestEdge;
let port: number;
/** Values for `{placeholders}` in header values. */
let fill: Record<string, string>;
let fixedSecrets: Secret[];
const tally = new Tally();
const newSecret = (): string => randomBytes(32).toString('base64url');
const reissuedNew = newSecret();

beforeAll(async () => {
  // Limits out of the way: this suite is about what each request gets on its own merits.
  edge = await startTestEdge({
    configure: (s) => ({
      ...s,
      admin: { ...s.admin, requests_per_minute: 100_000, auth_failures_per_minute: 100_000 },
    }),
  });
  port = Number(new URL(edge.edgeUrl).port);
  const [operatorId = '', operatorSecret = ''] = edge.adminToken.split('.');
  const extra = { viewer: newSecret(), revoked: newSecret(), reissuedOld: newSecret() };
  const install = (id: string, secret: string, role: 'viewer' | 'operator'): Promise<void> =>
    installAdminToken(edge.client, edge.stores, { id, secret, role });
  await install('hostile-viewer', extra.viewer, 'viewer');
  await install('hostile-revoked', extra.revoked, 'operator');
  await install('hostile-reissued', extra.reissuedOld, 'operator');
  const flipped = (operatorSecret[0] === 'A' ? 'B' : 'A') + operatorSecret.slice(1);
  fill = {
    operator: edge.adminToken,
    operatorSecret,
    operatorFlipped: `${operatorId}.${flipped}`,
    operatorHash: await sha256Hex(operatorSecret),
    operatorBasic: btoa(`${operatorId}:${operatorSecret}`),
    viewer: `hostile-viewer.${extra.viewer}`,
    revoked: `hostile-revoked.${extra.revoked}`,
    reissuedOld: `hostile-reissued.${extra.reissuedOld}`,
  };
  fixedSecrets = [
    { name: 'operator token secret', value: operatorSecret },
    { name: 'operator token hash', value: fill['operatorHash'] ?? '' },
    { name: 'viewer token secret', value: extra.viewer },
    { name: 'revoked token secret', value: extra.revoked },
    { name: 're-issued token old secret', value: extra.reissuedOld },
    { name: 're-issued token new secret', value: reissuedNew },
    { name: 'Fastly API token', value: edge.api.token },
    { name: 'dev seed', value: DEV_SEED },
    { name: 'dev seed (base64url)', value: base64UrlOf(DEV_SEED) },
  ];
});

afterAll(async () => {
  // One line for the closing note. `leaks` can only be 0 on a passing run: a leak fails
  // its row; the counter is there so a failing run says how many it saw.
  console.log(
    `hostile-input table: ${tally.tried} cases, ${tally.refused} refused, ${tally.leaks} leaks`,
  );
  await edge?.stop();
});

/** An answer, whichever way the request went out. */
interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

const fillIn = (text: string): string =>
  text.replace(/\{(\w+)\}/g, (whole, key: string) => fill[key] ?? whole);

function headerPairs(row: HostileCase): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (row.auth) pairs.push(['Authorization', `Bearer {${row.auth}}`]);
  if (row.body !== undefined && row.contentType !== null)
    pairs.push(['Content-Type', row.contentType ?? 'application/json']);
  for (const [k, v] of row.headers ?? []) pairs.push([k, v]);
  return pairs.map(([k, v]) => [k, fillIn(v)]);
}

function bodyBytes(body: HostileCase['body']): Uint8Array<ArrayBuffer> | undefined {
  if (body === undefined || body instanceof Uint8Array) return body;
  // Bytes, not a string: fetch would add `text/plain` to a string body on its own.
  if (typeof body === 'string') return new TextEncoder().encode(body);
  return new Uint8Array(body.streamBytes).fill(0x20);
}

async function send(row: HostileCase): Promise<Answer> {
  const headers = headerPairs(row);
  const bytes = bodyBytes(row.body);
  if (row.raw) {
    const raw = serialize({
      method: row.method,
      target: row.path,
      headers,
      ...(bytes ? { body: bytes } : {}),
    });
    return sendRaw(port, raw);
  }
  const init: RequestInit & { duplex?: 'half' } = { method: row.method, headers };
  if (bytes && typeof row.body === 'object' && 'streamBytes' in row.body) {
    // A stream has no length: it goes out chunked, so only the reader's cap can stop it.
    init.body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1000)
          controller.enqueue(bytes.subarray(at, at + 1000));
        controller.close();
      },
    });
    init.duplex = 'half';
  } else if (bytes) {
    init.body = bytes;
  }
  const res = await fetch(`${edge.edgeUrl}${row.path}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function auditLines(): Promise<string[]> {
  try {
    return (await readFile(edge.auditFile, 'utf8')).split('\n').filter(Boolean);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Things a row needs before it runs; each proves the token worked first, so the 401 means something. */
const ARRANGE: Record<Arrangement, () => Promise<void>> = {
  'revoke-token': async () => {
    expect((await signWith(fill['revoked'] ?? '')).status).toBe(200);
    await edge.client.deleteSecret(edge.stores.adminTokensStoreId, 'hostile-revoked');
  },
  'reissue-token': async () => {
    expect((await signWith(fill['reissuedOld'] ?? '')).status).toBe(200);
    await installAdminToken(edge.client, edge.stores, {
      id: 'hostile-reissued',
      secret: reissuedNew,
      role: 'operator',
    });
  },
};

function codeOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

function signWith(token: string): Promise<Response> {
  return edge.call('/admin/keys/sign', { auth: token, json: { id: 'arrange' } });
}

describe('the hostile-input table', () => {
  it('has at least 45 cases with unique names', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(45);
    expect(new Set(HOSTILE_CASES.map((row) => row.name)).size).toBe(HOSTILE_CASES.length);
  });

  // Absolute-form and asterisk-form request targets are refused where the raw request line is
  // visible (the Node edge). On Compute the app gets only the URL parsed from it, the same URL an
  // origin-form request gives, so those rows cannot apply to the wasm.
  const cases =
    TEST_TARGET === 'wasm'
      ? HOSTILE_CASES.filter((row) => !/absolute-form|asterisk-form/.test(row.name))
      : HOSTILE_CASES;
  it.each(cases)('$name → $status', async (row) => {
    if (row.arrange) await ARRANGE[row.arrange]();
    const before = await storeSnapshot(edge.client, edge.stores);
    const auditBefore = (await auditLines()).length;
    const logsBefore = edge.logs.length;

    const answer = await send(row);
    tally.record(answer.status);

    const after = await storeSnapshot(edge.client, edge.stores);
    const audit = (await auditLines()).slice(auditBefore);
    const logs = edge.logs.slice(logsBefore);
    const secrets = [...fixedSecrets, ...signingKeySecrets(edge.api.state, edge.stores, after)];
    const leaks = leaksIn(
      {
        body: answer.body,
        headers: JSON.stringify([...answer.headers]),
        log: logs.join('\n'),
        audit: audit.join('\n'),
      },
      secrets,
    );
    tally.leaks += leaks.length;

    // Soft: a row that fails one check still reports the others (a bug rarely breaks only one).
    expect.soft(answer.status, 'status').toBe(row.status);
    if (row.code) {
      expect.soft(codeOf(answer.body), 'code').toBe(row.code);
    }
    if (row.allow) expect.soft(answer.headers.get('allow'), 'Allow').toBe(row.allow);
    expect.soft(stackTraceIn(answer.body), 'stack trace').toBeNull();
    expect.soft(leaks, 'secrets').toEqual([]);
    expect.soft(answer.headers.has('x-injected'), 'injected header').toBe(false);
    // No row here is meant to change anything, successes included (they read or sign).
    expect.soft(after, 'stores').toBe(before);

    if (row.surface === 'public') {
      expect.soft(answer.headers.get('access-control-allow-origin'), 'CORS').toBe('*');
    } else if (row.surface !== 'node') {
      expect.soft(answer.headers.get('cache-control'), 'cache-control').toBe('no-store');
      expect.soft(answer.headers.get('x-content-type-options'), 'nosniff').toBe('nosniff');
      expect.soft(answer.headers.has('access-control-allow-origin'), 'no CORS').toBe(false);
    }
    if (answer.status === 401 && row.surface !== 'node')
      expect.soft(answer.headers.get('www-authenticate'), 'WWW-Authenticate').toMatch(/^Bearer /);
    // Every request into the admin area, however spelled and however answered, is audited once.
    expect.soft(audit, 'audit lines').toHaveLength(row.surface === 'admin' ? 1 : 0);
    for (const line of audit) {
      const id = (JSON.parse(line) as { request_id?: unknown }).request_id;
      expect.soft(String(id), 'audited request id').toMatch(SAFE_REQUEST_ID);
    }
  });

  it('closes a CONNECT request without an answer and changes nothing', async () => {
    // node:http has no CONNECT handler here, so it drops the socket; nothing reaches the app.
    const before = await storeSnapshot(edge.client, edge.stores);
    const raw = serialize({ method: 'CONNECT', target: '127.0.0.1:1', headers: [] });
    const answer = await sendRaw(port, raw);
    expect(answer.status).toBe(0);
    expect(await storeSnapshot(edge.client, edge.stores)).toBe(before);
  });
});

// A limit of 3 is a settings change, and the wasm's settings are built in.
describe.skipIf(TEST_TARGET === 'wasm')('hostile requests past the rate limit', () => {
  let limited: TestEdge;
  beforeAll(async () => {
    limited = await startTestEdge({
      configure: (s) => ({ ...s, admin: { ...s.admin, requests_per_minute: 3 } }),
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('answers 429 before looking at the body once a client is over its limit', async () => {
    const before = await storeSnapshot(limited.client, limited.stores);
    const bad = { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await limited.call('/admin/keys/rotate', bad)).status);
    const over = await limited.call('/admin/keys/rotate', { json: {} });
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(await over.json()).toMatchObject({ code: 'rate_limited' });
    expect(await storeSnapshot(limited.client, limited.stores)).toBe(before);
    // The public routes are not behind the admin gate.
    expect((await limited.call('/.well-known/jwks.json', { auth: false })).status).toBe(200);
  });
});
