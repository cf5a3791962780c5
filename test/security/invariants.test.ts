// The checks the hostile table and the fuzz rely on must themselves catch what they look for,
// or a clean run proves nothing.
import { describe, expect, it } from 'vitest';
import { base64UrlOf, DEV_SEED, leaksIn, stackTraceIn } from './support/invariants.js';
import { parseResponse, serialize } from './support/raw-http.js';

describe('the leak check', () => {
  const secrets = [
    { name: 'dev seed', value: DEV_SEED },
    { name: 'dev seed (base64url)', value: base64UrlOf(DEV_SEED) },
  ];

  it('names the secret and where it was found', () => {
    // This seed has no `+` or `/`, so its base64url spelling is a prefix of it: both match.
    expect(leaksIn({ body: `{"d":"${DEV_SEED}"}`, log: '' }, secrets)).toEqual([
      'dev seed in body',
      'dev seed (base64url) in body',
    ]);
  });

  it('finds a seed spelled as a JWK `d` (base64url, unpadded)', () => {
    expect(base64UrlOf(DEV_SEED)).toBe('NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k');
    expect(leaksIn({ audit: `"d":"${base64UrlOf(DEV_SEED)}"` }, secrets)).toContain(
      'dev seed (base64url) in audit',
    );
  });

  it('ignores values too short to be a secret, so chance matches cannot fail a run', () => {
    expect(leaksIn({ body: 'abc' }, [{ name: 'short', value: 'abc' }])).toEqual([]);
  });
});

describe('the stack-trace check', () => {
  it('flags a V8 stack frame, a source path and node_modules', () => {
    expect(
      stackTraceIn('Error: x\n    at rotateKey (/srv/app/src/http/app.ts:12:5)'),
    ).not.toBeNull();
    expect(stackTraceIn('at file:///srv/app.js:1:2')).not.toBeNull();
    expect(stackTraceIn('see node_modules/zod/index.js')).not.toBeNull();
  });

  it('leaves ordinary error bodies alone', () => {
    const body = JSON.stringify({
      success: false,
      error: "kid may contain only ASCII letters, digits, '.', '_' and '-'",
      code: 'invalid_kid',
    });
    expect(stackTraceIn(body)).toBeNull();
  });
});

describe('the raw HTTP helper', () => {
  it('writes headers as given and adds a truthful Content-Length only when none is set', () => {
    const text = serialize({
      method: 'POST',
      target: '/x',
      headers: [['X-A', 'a\rb']],
      body: new TextEncoder().encode('{}'),
    }).toString('latin1');
    expect(text).toBe(
      'POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}',
    );
  });

  it('reads a chunked answer and reports a closed connection as status 0', () => {
    const chunked = Buffer.from(
      'HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n',
    );
    expect(parseResponse(chunked)).toMatchObject({ status: 413, body: '{"a":1}' });
    expect(parseResponse(Buffer.alloc(0)).status).toBe(0);
  });
});
