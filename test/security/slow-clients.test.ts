// Slow and greedy clients against the Node edge, over raw sockets, with short configured timeouts:
// a connection that says nothing, headers or a body that never finish or trickle in, and one
// client holding many connections. Each must be cut off in bounded time (408 where an answer is
// still possible), and the edge must keep serving everyone else.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSettings, type Settings } from '../../src/core/settings.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { openRaw, type RawConnection } from './support/raw-http.js';

const HEADERS_MS = 300;
const BODY_MS = 1000;
const IDLE_MS = 300;
/** Far below Node's defaults (300 s for a request, never for a silent connection). */
const BOUND_MS = 4000;

const timeouts =
  (edge: Partial<Settings['local_edge']>) =>
  (s: Settings): Settings => ({
    ...s,
    admin: { ...s.admin, requests_per_minute: 100_000, auth_failures_per_minute: 100_000 },
    local_edge: { ...s.local_edge, ...edge },
  });

let edge: TestEdge;
let port: number;

beforeAll(async () => {
  edge = await startTestEdge({
    configure: timeouts({
      headers_timeout_ms: HEADERS_MS,
      body_timeout_ms: BODY_MS,
      body_idle_timeout_ms: IDLE_MS,
    }),
  });
  port = Number(new URL(edge.edgeUrl).port);
});

afterAll(async () => {
  await edge?.stop();
});

function head(contentLength: number): string {
  return [
    'POST /admin/keys/sign HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: Bearer ${edge.adminToken}`,
    'Content-Type: application/json',
    `Content-Length: ${contentLength}`,
    '',
    '',
  ].join('\r\n');
}

/** Writes `text` one byte every `everyMs` until the connection closes. */
function trickle(conn: RawConnection, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (at < text.length) conn.write(text[at++] ?? '');
  }, everyMs);
  void conn.closed.then(() => clearInterval(timer));
}

async function auditLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(edge.auditFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('timeouts', () => {
  it('has sane defaults: headers 10 s, body 30 s, 5 s of body silence, 32 connections', () => {
    const s = parseSettings({
      publisher: { domain: 'p.example' },
      request_signing: { config_store_id: 'c', secret_store_id: 's' },
    });
    expect(s.local_edge).toEqual({
      headers_timeout_ms: 10_000,
      body_timeout_ms: 30_000,
      body_idle_timeout_ms: 5_000,
      max_connections_per_client: 32,
    });
  });

  it('answers 408 to a connection that never sends a byte', async () => {
    const conn = await openRaw(port);
    const closed = await conn.closed;
    expect(closed.status).toBe(408);
    expect(closed.afterMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(closed.afterMs).toBeLessThan(BOUND_MS);
  });

  it('answers 408 to headers that stop half-way', async () => {
    const conn = await openRaw(port);
    conn.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const closed = await conn.closed;
    expect(closed.status).toBe(408);
    expect(closed.afterMs).toBeLessThan(BOUND_MS);
  });

  it('answers 408 to headers trickled in a byte at a time', async () => {
    const conn = await openRaw(port);
    // Each byte comes well within any idle limit: only a bound on the whole header section helps.
    trickle(conn, `GET /.well-known/jwks.json HTTP/1.1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`, 20);
    const closed = await conn.closed;
    expect(closed.status).toBe(408);
    expect(closed.afterMs).toBeLessThan(BOUND_MS);
  });

  it('answers 408 request_timeout to a body that stalls, audits it and closes the connection', async () => {
    const before = (await auditLines()).length;
    const conn = await openRaw(port);
    conn.write(head(100));
    conn.write('{"id":"sl');
    const closed = await conn.closed;
    expect(closed.status).toBe(408);
    expect(JSON.parse(closed.body)).toMatchObject({ code: 'request_timeout', success: false });
    expect(closed.headers.get('connection')).toBe('close');
    expect(closed.afterMs).toBeLessThan(BOUND_MS);
    const lines = (await auditLines()).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 408, error_code: 'request_timeout' });
  });

  it('answers 408 to a body trickled too slowly to finish in time', async () => {
    const conn = await openRaw(port);
    conn.write(head(100));
    // A byte every 100 ms never trips the 300 ms silence limit, and would take 10 s in all.
    trickle(conn, `{"id":"${'x'.repeat(91)}"}`, 100);
    const closed = await conn.closed;
    expect(closed.status).toBe(408);
    expect(JSON.parse(closed.body)).toMatchObject({ code: 'request_timeout' });
    expect(closed.afterMs).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(closed.afterMs).toBeLessThan(BOUND_MS);
  });

  it('still serves a request whose body arrives in pieces within the limits', async () => {
    const conn = await openRaw(port);
    conn.write(head(15));
    conn.write('{"id":');
    conn.write('"pieces"}');
    conn.write('GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const closed = await conn.closed;
    expect(closed.status).toBe(200);
    expect(JSON.parse(closed.body)).toMatchObject({ kid: 'ts-2025-10-A' });
  });

  it('cuts off 20 slow clients at once in bounded time and keeps serving', async () => {
    const conns = await Promise.all(Array.from({ length: 20 }, () => openRaw(port)));
    conns.forEach((conn, i) => {
      conn.write(i % 2 ? 'GET / HTTP/1.1\r\n' : head(100));
    });
    const closed = await Promise.all(conns.map((c) => c.closed));
    expect(closed.map((c) => c.status)).toEqual(Array(20).fill(408));
    expect(Math.max(...closed.map((c) => c.afterMs))).toBeLessThan(BOUND_MS);
    expect((await fetch(`${edge.edgeUrl}/.well-known/jwks.json`)).status).toBe(200);
  });
});

describe('connections per client', () => {
  let capped: TestEdge;
  beforeAll(async () => {
    // Long timeouts here, so only the cap can close a connection during the test.
    capped = await startTestEdge({ configure: timeouts({ max_connections_per_client: 4 }) });
  });
  afterAll(async () => {
    await capped?.stop();
  });

  it('closes connections beyond the cap at once, and takes new ones when others close', async () => {
    const cappedPort = Number(new URL(capped.edgeUrl).port);
    const held = await Promise.all(Array.from({ length: 4 }, () => openRaw(cappedPort)));
    let heldClosed = 0;
    for (const conn of held) {
      conn.write('GET /.well-known/jwks.json HTTP/1.1\r\n');
      void conn.closed.then(() => heldClosed++);
    }
    const extra = await openRaw(cappedPort);
    extra.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const refused = await extra.closed;
    expect(refused.status).toBe(0);
    expect(heldClosed).toBe(0);
    for (const conn of held) conn.reset();
    await Promise.all(held.map((c) => c.closed));
    // The server counts a connection out when it sees it close, a moment after the client does.
    await vi.waitFor(
      async () => expect((await fetch(`${capped.edgeUrl}/.well-known/jwks.json`)).status).toBe(200),
      { timeout: 3000 },
    );
  });
});
