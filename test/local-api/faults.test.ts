import { describe, expect, it } from 'vitest';
import { call, configStore, startApi } from './helpers.js';

describe('local API: fault injection', () => {
  it('fails the next matching request with the status and a JSON msg, without applying it', async () => {
    const api = await startApi();
    const id = await configStore(api);
    api.state.injectFault({ method: 'patch', path: /\/items$/, status: 503 });
    const patch = () =>
      call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
        json: { items: [{ op: 'upsert', item_key: 'k', item_value: 'v' }] },
      });
    const failed = await patch();
    expect(failed.status).toBe(503);
    expect(failed.body).toHaveProperty('msg');
    expect(api.state.configItem(id, 'k')).toBeNull();
    expect((await patch()).status).toBe(200);
    expect(api.state.configItem(id, 'k')).toBe('v');
  });

  it('fails exactly `times` matching requests, sends a given body, and ignores other methods', async () => {
    const api = await startApi();
    api.state.injectFault({
      method: 'POST',
      path: /^\/resources\/stores\/config$/,
      status: 429,
      times: 2,
      body: '{"msg":"Too Many Requests"}',
    });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
    const post = () => call(api, 'POST', '/resources/stores/config', { form: { name: 'n' } });
    const limited = await post();
    expect(limited).toMatchObject({ status: 429, body: { msg: 'Too Many Requests' } });
    expect(limited.headers.get('fastly-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('fastly-ratelimit-reset'))).toBeGreaterThan(
      Date.now() / 1000,
    );
    expect((await post()).status).toBe(429);
    expect((await post()).status).toBe(200);
  });

  it('delays matching requests when no status is given, and the remover disarms a fault', async () => {
    const api = await startApi();
    api.state.injectFault({ path: /config/, delayMs: 150 });
    const started = Date.now();
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const remove = api.state.injectFault({ path: /config/, status: 500, times: Infinity });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(500);
    remove();
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
  });

  it('applies a delayed failure after the delay, and records it in the request log', async () => {
    const api = await startApi();
    api.state.injectFault({ path: /stores/, status: 500, delayMs: 100 });
    const started = Date.now();
    expect((await call(api, 'GET', '/resources/stores/kv')).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(api.state.requestLog).toEqual([
      { method: 'GET', path: '/resources/stores/kv', status: 500 },
    ]);
  });
});
