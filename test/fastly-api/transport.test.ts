import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { FastlyApi, USER_AGENT } from '../../src/fastly-api/index.js';
import { TOKEN, apiWith, json, rejectionOf } from './fake-fetch.js';

/** Asserts the error is a TskError with `code`, and returns it typed. */
function tskError(err: unknown, code: TskError['code']): TskError {
  expect(err).toBeInstanceOf(TskError);
  const tsk = err as TskError;
  expect(tsk.code).toBe(code);
  return tsk;
}

/** Everything an error shows: message, details, cause, stack. */
function everythingIn(err: TskError): string {
  const cause = err.cause instanceof Error ? `${err.cause.message} ${err.cause.stack ?? ''}` : '';
  return [
    err.message,
    JSON.stringify(err.details ?? {}),
    String(err.cause ?? ''),
    cause,
    err.stack,
  ].join('\n');
}

describe('transport', () => {
  it('sends Fastly-Key, Accept: application/json and the User-Agent on every call', async () => {
    const { api, calls } = apiWith(() => json([]));
    await api.listConfigStores();
    const [call] = calls;
    expect(call?.headers.get('Fastly-Key')).toBe(TOKEN);
    expect(call?.headers.get('Accept')).toBe('application/json');
    // Fastly's logs name the caller: the package's own name and major.minor version, so a
    // release that bumps package.json and forgets the constant fails here.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const [major, minor] = String(pkg.version).split('.');
    expect(call?.headers.get('User-Agent')).toBe(`${pkg.name}/${major}.${minor}`);
    expect(USER_AGENT).toBe(`${pkg.name}/${major}.${minor}`);
  });

  it('keeps a path prefix of the endpoint and drops its trailing slash', async () => {
    const seen: string[] = [];
    const api = new FastlyApi({
      endpoint: 'http://127.0.0.1:9/fastly/',
      token: TOKEN,
      fetch: (r) => {
        seen.push(r.url);
        return Promise.resolve(json([]));
      },
      timeoutMs: 1000,
    });
    await api.listConfigStores();
    expect(seen).toEqual(['http://127.0.0.1:9/fastly/resources/stores/config']);
  });

  it('answers upstream_timeout within the bound when fetch never resolves, and aborts it', async () => {
    // Keep the Request itself: undici links its signal to ours through a weak reference.
    let request: Request | undefined;
    const api = new FastlyApi({
      endpoint: 'https://api.fastly.test',
      token: TOKEN,
      fetch: (r) => {
        request = r;
        return new Promise<Response>(() => {});
      },
      timeoutMs: 40,
      retry: { maxRetries: 0 },
    });
    const started = performance.now();
    const err = tskError(await rejectionOf(api.listConfigItems('cs1')), 'upstream_timeout');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toContain('GET /resources/stores/config/cs1/items');
    expect(err.details).toMatchObject({ method: 'GET', timeoutMs: 40 });
    expect(request?.signal.aborted).toBe(true);
  });

  it('bounds the body read too: a body that never ends is an upstream_timeout', async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: () => {} });
    const { api } = apiWith(() => new Response(stalled, { status: 200 }), { timeoutMs: 40 });
    tskError(await rejectionOf(api.listConfigStores()), 'upstream_timeout');
  });

  it('turns a network error into upstream_failed naming method and path', async () => {
    const { api } = apiWith(() => Promise.reject(new TypeError('fetch failed: socket hang up')));
    const err = tskError(await rejectionOf(api.deleteConfigItem('cs1', 'k')), 'upstream_failed');
    expect(err.message).toBe(
      'Fastly API request DELETE /resources/stores/config/cs1/item/k failed: fetch failed: socket hang up; it may or may not have been applied',
    );
    expect(err.details).toMatchObject({
      method: 'DELETE',
      path: '/resources/stores/config/cs1/item/k',
      outcome: 'unknown',
    });
  });

  it('says a refused connection sent nothing', async () => {
    const { api } = apiWith(() => Promise.reject(new TypeError('fetch failed: ECONNREFUSED')));
    const err = tskError(await rejectionOf(api.deleteConfigItem('cs1', 'k')), 'upstream_failed');
    expect(err.message).toBe(
      'Fastly API refused the connection for DELETE /resources/stores/config/cs1/item/k: fetch failed: ECONNREFUSED',
    );
    expect(err.details).toMatchObject({ failure: 'connection_refused', outcome: 'refused' });
  });

  it('turns 429 into upstream_rate_limited with retryAfterSeconds from Fastly-RateLimit-Reset', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const reset = String(now / 1000 + 1234);
    const { api } = apiWith(
      () =>
        json({ msg: 'Too many requests' }, 429, {
          'Fastly-RateLimit-Remaining': '0',
          'Fastly-RateLimit-Reset': reset,
        }),
      { now: () => now },
    );
    const err = tskError(
      await rejectionOf(api.upsertConfigItem('cs1', 'k', 'v')),
      'upstream_rate_limited',
    );
    expect(err.details).toMatchObject({
      status: 429,
      method: 'PUT',
      path: '/resources/stores/config/cs1/item/k',
      retryAfterSeconds: 1234,
    });
  });

  it('prefers Retry-After seconds over Fastly-RateLimit-Reset', async () => {
    const { api } = apiWith(() =>
      json({}, 429, { 'Retry-After': '17', 'Fastly-RateLimit-Reset': '1' }),
    );
    const err = tskError(await rejectionOf(api.listConfigStores()), 'upstream_rate_limited');
    expect(err.details?.['retryAfterSeconds']).toBe(17);
  });

  it('leaves retryAfterSeconds out when the 429 has no rate-limit headers', async () => {
    const { api } = apiWith(() => new Response('slow down', { status: 429 }));
    const err = tskError(await rejectionOf(api.listConfigStores()), 'upstream_rate_limited');
    expect(err.details).not.toHaveProperty('retryAfterSeconds');
    expect(err.details?.['body']).toBe('slow down');
  });

  it.each([401, 403])('says the API token was rejected on %i', async (status) => {
    const { api } = apiWith(() =>
      json({ msg: 'Provided credentials are missing or invalid' }, status),
    );
    const err = tskError(await rejectionOf(api.listConfigStores()), 'upstream_failed');
    expect(err.message).toContain(`Fastly API rejected the API token (${status})`);
    expect(err.details).toMatchObject({ status, method: 'GET', path: '/resources/stores/config' });
  });

  it('names status, method, path and the JSON msg of any other failure', async () => {
    const { api } = apiWith(() => json({ msg: 'Internal error', detail: 'try later' }, 500));
    const err = tskError(
      await rejectionOf(api.bulkUpdateConfigItems('cs1', [{ op: 'delete', key: 'a' }])),
      'upstream_failed',
    );
    expect(err.message).toBe(
      'Fastly API answered 500 to PATCH /resources/stores/config/cs1/items: Internal error (try later)',
    );
    expect(err.details).toEqual({
      status: 500,
      method: 'PATCH',
      path: '/resources/stores/config/cs1/items',
      body: '{"msg":"Internal error","detail":"try later"}',
      outcome: 'unknown',
      failure: 'status',
    });
  });

  it('reads JSON:API error bodies and tolerates bodies that are not JSON', async () => {
    const jsonApi = apiWith(() =>
      json({ errors: [{ title: 'Bad Request', detail: 'nope' }] }, 400),
    );
    const err = tskError(await rejectionOf(jsonApi.api.listConfigStores()), 'upstream_failed');
    expect(err.message).toBe(
      'Fastly API answered 400 to GET /resources/stores/config: Bad Request (nope)',
    );
    const html = apiWith(() => new Response('<html>bad gateway</html>', { status: 502 }));
    const err2 = tskError(await rejectionOf(html.api.listConfigStores()), 'upstream_failed');
    expect(err2.message).toBe('Fastly API answered 502 to GET /resources/stores/config');
    expect(err2.details?.['body']).toBe('<html>bad gateway</html>');
  });

  it('trims the body in error details to at most 300 characters', async () => {
    const { api } = apiWith(() => new Response('x'.repeat(5000), { status: 500 }));
    const err = tskError(await rejectionOf(api.listConfigStores()), 'upstream_failed');
    expect(String(err.details?.['body']).length).toBeLessThanOrEqual(300);
  });

  it('treats a 2xx answer that is not the documented JSON as upstream_failed', async () => {
    const notJson = apiWith(() => new Response('ok', { status: 200 }));
    tskError(await rejectionOf(notJson.api.listConfigItems('cs1')), 'upstream_failed');
    const wrongShape = apiWith(() => json({ items: [] }));
    const err = tskError(
      await rejectionOf(wrongShape.api.listConfigItems('cs1')),
      'upstream_failed',
    );
    expect(err.message).toContain('is malformed');
  });

  it('never retries by itself', async () => {
    const { api, calls } = apiWith(() => json({ msg: 'unavailable' }, 503));
    await rejectionOf(api.upsertConfigItem('cs1', 'k', 'v'));
    expect(calls).toHaveLength(1);
  });

  it('percent-encodes every path segment and refuses . and .. segments', async () => {
    const { api, calls } = apiWith(() => json({ status: 'ok' }));
    await api.deleteConfigItem('store/1', 'a/b c?d#e%f');
    expect(calls[0]?.url.pathname).toBe(
      '/resources/stores/config/store%2F1/item/a%2Fb%20c%3Fd%23e%25f',
    );
    for (const key of ['.', '..', '']) {
      tskError(await rejectionOf(api.getConfigItem('cs1', key)), 'invalid_request');
    }
    expect(calls).toHaveLength(1);
  });
});

describe('the token never appears in an error', () => {
  const echo = `token was ${TOKEN}`;
  const kinds: Array<[string, () => FastlyApi, TskError['code']]> = [
    [
      'timeout',
      () =>
        new FastlyApi({
          endpoint: 'https://api.fastly.test',
          token: TOKEN,
          fetch: () => new Promise<Response>(() => {}),
          timeoutMs: 20,
          retry: { maxRetries: 0 },
        }),
      'upstream_timeout',
    ],
    [
      'network error mentioning the token',
      () => apiWith(() => Promise.reject(new Error(`socket closed; ${echo}`))).api,
      'upstream_failed',
    ],
    [
      '429',
      () => apiWith(() => json({ msg: echo }, 429, { 'Retry-After': '5' })).api,
      'upstream_rate_limited',
    ],
    ['401', () => apiWith(() => json({ msg: echo }, 401)).api, 'upstream_failed'],
    ['403', () => apiWith(() => json({ msg: echo }, 403)).api, 'upstream_failed'],
    ['500', () => apiWith(() => json({ msg: echo, detail: echo }, 500)).api, 'upstream_failed'],
    [
      'malformed 2xx',
      () => apiWith(() => new Response(echo, { status: 200 })).api,
      'upstream_failed',
    ],
  ];

  it.each(kinds)('%s', async (_kind, makeApi, code) => {
    const err = tskError(await rejectionOf(makeApi().listConfigItems('cs1')), code);
    expect(everythingIn(err)).not.toContain(TOKEN);
  });

  it('nor the secret a failed write sent, should the server echo it', async () => {
    const plaintext = 'c2VlZC1zZWVkLXNlZWQtc2VlZC1zZWVkLXNlZWQtMDE=';
    const sent = btoa(plaintext);
    const { api } = apiWith(() => json({ msg: 'invalid', detail: `${sent} / ${plaintext}` }, 422));
    const err = tskError(
      await rejectionOf(api.putSecret('ss1', 'kid1', plaintext, 'upsert')),
      'upstream_failed',
    );
    expect(everythingIn(err)).not.toContain(sent);
    expect(everythingIn(err)).not.toContain(plaintext);
  });
});
