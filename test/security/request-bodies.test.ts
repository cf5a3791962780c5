// Request bodies the Node edge must survive, over raw sockets: oversized (chunked, so only the
// reader's cap can stop them, or declared), and abandoned half-way by a client that resets the
// connection. None may take the process down, leave a 500 or an unhandled error in the log, or
// stop the edge answering the next request.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { chunkedBody, openRaw, sendRaw, serialize } from './support/raw-http.js';

let edge: TestEdge;
let port: number;

beforeAll(async () => {
  // Limits out of the way: every request here must be judged on its body alone.
  edge = await startTestEdge({
    configure: (s) => ({
      ...s,
      admin: { ...s.admin, requests_per_minute: 100_000, auth_failures_per_minute: 100_000 },
    }),
  });
  port = Number(new URL(edge.edgeUrl).port);
});

afterAll(async () => {
  await edge?.stop();
});

const ROUTES = ['/admin/keys/sign', '/admin/keys/rotate', '/verify-signature'] as const;

function post(path: string, headers: Array<[string, string]>, body: Uint8Array): Buffer {
  return serialize({
    method: 'POST',
    target: path,
    headers: [
      ['Authorization', `Bearer ${edge.adminToken}`],
      ['Content-Type', 'application/json'],
      ...headers,
    ],
    body,
  });
}

async function auditLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(edge.auditFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The edge still serves: the next request on a new connection gets its normal answer. */
async function stillServes(): Promise<void> {
  const res = await fetch(`${edge.edgeUrl}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
}

function noServerErrors(): void {
  const bad = edge.logs.filter((l) => /unhandled_error|request_failed|"level":"error"/.test(l));
  expect(bad).toEqual([]);
}

describe('oversized bodies', () => {
  it.each(ROUTES)(
    'refuses a 100 KB chunked body to %s with 413, three times over',
    async (path) => {
      for (let i = 0; i < 3; i++) {
        const answer = await sendRaw(
          port,
          post(path, [['Transfer-Encoding', 'chunked']], chunkedBody(100_000)),
        );
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large' });
        await stillServes();
      }
      noServerErrors();
    },
  );

  it('refuses a 1 MB chunked body sent in one write, and a declared 100 KB one', async () => {
    const chunked = await sendRaw(
      port,
      post('/admin/keys/sign', [['Transfer-Encoding', 'chunked']], chunkedBody(1_000_000, 65_536)),
    );
    expect(chunked.status).toBe(413);
    const declared = await sendRaw(
      port,
      post('/admin/keys/sign', [], new Uint8Array(100_000).fill(0x20)),
    );
    expect(declared.status).toBe(413);
    await stillServes();
    noServerErrors();
  });

  it('keeps a kept-alive connection usable after refusing a body it did not read', async () => {
    // Two requests on one connection: the refused body must be skipped, not taken for the next
    // request line.
    const first = post('/admin/keys/sign', [['Transfer-Encoding', 'chunked']], chunkedBody(20_000));
    const second = serialize({
      method: 'GET',
      target: '/.well-known/jwks.json',
      headers: [],
    });
    const keepAlive = Buffer.from(
      first.toString('latin1').replace('Connection: close\r\n', ''),
      'latin1',
    );
    const answer = await sendRaw(port, Buffer.concat([keepAlive, second]));
    expect(answer.status).toBe(413);
    expect(answer.headers.get('connection')).not.toBe('close');
    // The second answer follows the first on the same connection.
    expect(answer.raw).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*"keys":\[/);
  });
});

describe('bodies abandoned half-way', () => {
  it.each([
    ['a declared length', [['Content-Length', '1000']] as Array<[string, string]>, '{"id":"'],
    [
      'chunked framing',
      [['Transfer-Encoding', 'chunked']] as Array<[string, string]>,
      '7\r\n{"id":"\r\n',
    ],
  ])('survives a reset in the middle of a body with %s', async (_what, headers, part) => {
    const before = (await auditLines()).length;
    const conn = await openRaw(port);
    // `Expect: 100-continue`: Node answers `100 Continue` once it has the headers and hands the
    // request to the app, so the reset below lands while the app is reading the body.
    conn.write(
      post('/admin/keys/sign', [...headers, ['Expect', '100-continue']], new Uint8Array(0)),
    );
    await conn.received('100 Continue');
    conn.write(part);
    conn.reset();
    await conn.closed;
    await vi.waitFor(async () => expect((await auditLines()).length).toBe(before + 1), {
      timeout: 5000,
    });
    const [line] = (await auditLines()).slice(before);
    expect(line).toMatchObject({
      route: '/admin/keys/sign',
      status: 400,
      error_code: 'invalid_request',
    });
    await stillServes();
    noServerErrors();
  });
});
