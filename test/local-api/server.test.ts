import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, configStore, startApi, tempDir } from './helpers.js';

describe('local API: authentication and HTTP behaviour', () => {
  it('answers 401 with Fastly’s message without a Fastly-Key or with a wrong one', async () => {
    const api = await startApi();
    const body = { msg: 'Provided credentials are missing or invalid' };
    const none = await call(api, 'GET', '/resources/stores/config', { token: null });
    expect(none).toMatchObject({ status: 401, body });
    const wrong = await call(api, 'GET', '/resources/stores/config', { token: api.token + 'x' });
    expect(wrong).toMatchObject({ status: 401, body });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
  });

  it('creates a url-safe token of 32 random bytes in a 0600 file', async () => {
    const dir = tempDir();
    const api = await startApi(dir);
    expect(api.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'fastly-api-token')).mode & 0o777).toBe(0o600);
    }
  });

  it('answers 404 Record not found for unknown paths and 405 with Allow for a wrong method', async () => {
    const api = await startApi();
    expect(await call(api, 'GET', '/service/abc/version')).toMatchObject({
      status: 404,
      body: { msg: 'Record not found' },
    });
    const wrong = await call(api, 'PATCH', '/resources/stores/config');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect(wrong.body).toMatchObject({ msg: 'Method Not Allowed' });
  });

  it('answers 413 to a body over 1 MiB and 400 to malformed JSON', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const big = await call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
      raw: 'x'.repeat(1024 * 1024 + 1),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(big.status).toBe(413);
    expect(big.body).toHaveProperty('msg');
    const bad = await call(api, 'POST', '/resources/stores/secret', {
      raw: '{nope',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad).toMatchObject({ status: 400, body: { msg: 'Malformed JSON in the request body' } });
  });

  it('reports a write budget in Fastly-RateLimit headers on writes only', async () => {
    const api = await startApi();
    const write = await call(api, 'POST', '/resources/stores/config', { form: { name: 's' } });
    expect(Number(write.headers.get('fastly-ratelimit-remaining'))).toBe(999);
    expect(Number(write.headers.get('fastly-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const read = await call(api, 'GET', '/resources/stores/config');
    expect(read.headers.get('fastly-ratelimit-remaining')).toBeNull();
  });

  it('logs every answered request by method, path without query, and status', async () => {
    const api = await startApi();
    await call(api, 'GET', '/resources/stores/config?name=x');
    await call(api, 'GET', '/nope', { token: null });
    expect(api.state.requestLog).toEqual([
      { method: 'GET', path: '/resources/stores/config', status: 200 },
      { method: 'GET', path: '/nope', status: 401 },
    ]);
  });

  it('refuses to start on a port that is taken, saying which', async () => {
    const api = await startApi();
    const port = Number(new URL(api.url).port);
    const { startLocalApi } = await import('../../src/local-api/index.js');
    await expect(startLocalApi({ stateDir: tempDir(), port })).rejects.toThrow(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`),
    );
  });
});
