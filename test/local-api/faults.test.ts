import { describe, expect, it, vi } from 'vitest';
import type { TskError } from '../../src/core/errors.js';
import { FastlyApi } from '../../src/fastly-api/index.js';
import { startLocalApi } from '../../src/local-api/index.js';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, configStore, startApi, tempDir } from './helpers.js';

const upsert = (api: LocalApi, id: string, value = 'v') =>
  call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
    json: { items: [{ op: 'upsert', item_key: 'k', item_value: value }] },
  });

/** fetch's rejection for a request whose connection was closed without an answer. */
async function dropped(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toThrow(/fetch failed/);
}

const client = (api: LocalApi, timeoutMs = 5000) =>
  new FastlyApi({
    endpoint: api.url,
    token: api.token,
    fetch: (r) => fetch(r),
    timeoutMs,
    retry: { maxRetries: 0 },
  });

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

describe('local API: faults that land, drop and arrive late', () => {
  it('mode after: handles the write, then answers the failure status', async () => {
    const api = await startApi();
    const id = await configStore(api);
    api.state.injectFault({ method: 'PATCH', path: /\/items$/, status: 503, mode: 'after' });
    expect((await upsert(api, id)).status).toBe(503);
    expect(api.state.configItem(id, 'k')).toBe('v');
  });

  it('drop before: closes the connection with no answer, and changes nothing', async () => {
    const api = await startApi();
    const id = await configStore(api);
    api.state.injectFault({ method: 'PATCH', path: /\/items$/, drop: true });
    await dropped(upsert(api, id));
    expect(api.state.configItem(id, 'k')).toBeNull();
    expect(api.state.requestLog.at(-1)).toEqual({
      method: 'PATCH',
      path: `/resources/stores/config/${id}/items`,
      status: 0,
    });
  });

  it('drop after: the write lands, yet the client hears nothing', async () => {
    const api = await startApi();
    const id = await configStore(api);
    api.state.injectFault({ method: 'PATCH', path: /\/items$/, drop: true, mode: 'after' });
    await dropped(upsert(api, id));
    expect(api.state.configItem(id, 'k')).toBe('v');
  });

  it('a delay alone lands the write after the client timed out', async () => {
    const api = await startApi();
    const id = await configStore(api);
    // The client's bound leaves time for the request to reach the server even on a busy machine;
    // the delay is well past the bound.
    api.state.injectFault({ method: 'PUT', path: /\/item\//, delayMs: 1500 });
    const err = await client(api, 400)
      .upsertConfigItem(id, 'late', 'v')
      .catch((e: unknown) => e as TskError);
    expect(err).toMatchObject({ code: 'upstream_timeout', details: { outcome: 'unknown' } });
    expect(api.state.configItem(id, 'late')).toBeNull();
    await vi.waitFor(() => expect(api.state.configItem(id, 'late')).toBe('v'), { timeout: 5000 });
  });

  it('the client reports a landed-but-failed create and a dropped one as outcome unknown', async () => {
    const api = await startApi();
    const id = await configStore(api);
    api.state.injectFault({
      method: 'POST',
      path: /^\/resources\/stores\/config$/,
      status: 500,
      mode: 'after',
    });
    const failed = await client(api)
      .createConfigStore('landed')
      .catch((e: unknown) => e as TskError);
    expect(failed).toMatchObject({
      code: 'upstream_failed',
      details: { status: 500, outcome: 'unknown' },
    });
    expect(api.state.findConfigStore('landed')).toBeDefined();
    api.state.injectFault({ method: 'PATCH', path: /\/items$/, drop: true, mode: 'after' });
    const lost = await client(api)
      .bulkUpdateConfigItems(id, [{ op: 'create', key: 'c', value: '1' }])
      .catch((e: unknown) => e as TskError);
    expect(lost).toMatchObject({
      code: 'upstream_failed',
      details: { failure: 'connection', outcome: 'unknown' },
    });
    expect(api.state.configItem(id, 'c')).toBe('1');
  });

  it.each([
    [{ path: /x/, drop: true, status: 500 }, /drop and status/],
    [{ path: /x/, mode: 'after' as const }, /needs a status or drop/],
    [{ path: /x/, times: 0 }, /times/],
    [{ path: /x/, status: 99 }, /status/],
    [{ path: /x/, delayMs: -1 }, /delayMs/],
  ])('refuses the impossible fault %o', (spec, message) => {
    return startApi().then((api) => {
      expect(() => api.state.injectFault(spec)).toThrow(message);
    });
  });
});

describe('local API: faults driven from outside the process', () => {
  const FAULTS = '/__local/faults';

  it('arms, lists and disarms faults over HTTP with the API token', async () => {
    const api = await startApi();
    const armed = await call(api, 'POST', FAULTS, {
      json: [
        { method: 'get', path: '^/resources/stores/config$', status: 503, times: 2 },
        { path: '/items$', status: 500, mode: 'after', times: 'always', delayMs: 10 },
      ],
    });
    expect(armed.status).toBe(200);
    expect(armed.body).toEqual({
      data: [
        {
          method: 'GET',
          // RegExp#source, which escapes the slashes: the same expression.
          path: '^\\/resources\\/stores\\/config$',
          status: 503,
          mode: 'before',
          drop: false,
          delayMs: 0,
          times: 2,
        },
        {
          path: '\\/items$',
          status: 500,
          mode: 'after',
          drop: false,
          delayMs: 10,
          times: 'always',
        },
      ],
    });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(503);
    const listed = await call(api, 'GET', FAULTS);
    expect((listed.body as { data: Array<{ times: unknown }> }).data[0]?.times).toBe(1);
    // A single spec (not an array) is accepted too.
    await call(api, 'POST', FAULTS, { json: { path: '^/resources/stores/kv$', drop: true } });
    expect((await call(api, 'GET', FAULTS)).body).toMatchObject({ data: [{}, {}, { drop: true }] });
    expect((await call(api, 'DELETE', FAULTS)).body).toEqual({ data: [] });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
  });

  it('is never itself subject to a fault, so an "every request" fault can be disarmed', async () => {
    const api = await startApi();
    await call(api, 'POST', FAULTS, { json: { path: '.*', status: 503, times: 'always' } });
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(503);
    expect((await call(api, 'DELETE', FAULTS)).status).toBe(200);
    expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
  });

  it('needs the API token, and only GET, POST and DELETE', async () => {
    const api = await startApi();
    expect((await call(api, 'POST', FAULTS, { json: { path: '.*' }, token: null })).status).toBe(
      401,
    );
    expect((await call(api, 'GET', FAULTS, { token: 'wrong' })).status).toBe(401);
    expect((await call(api, 'PUT', FAULTS, { json: {} })).status).toBe(405);
  });

  it.each([
    [{ path: '.*', when: 'now' }, /when is not a fault field/],
    [{ status: 503 }, /path must be a regular expression/],
    [{ path: '(' }, /path is not a valid regular expression/],
    [{ path: '.*', status: 700 }, /status must be an HTTP status code/],
    [{ path: '.*', status: '503' }, /status must be/],
    [{ path: '.*', times: 0 }, /times must be a positive integer or "always"/],
    [{ path: '.*', times: 1.5 }, /times must be/],
    [{ path: '.*', delayMs: 600_001 }, /delayMs must be an integer from 0 to 600000/],
    [{ path: '.*', mode: 'during', status: 500 }, /mode must be "before" or "after"/],
    [{ path: '.*', drop: 'yes' }, /drop must be true or false/],
    [{ path: '.*', drop: true, status: 500 }, /drop and status exclude each other/],
    [{ path: '.*', mode: 'after' }, /mode "after" needs a status or drop/],
    [{ path: '.*', method: 'GET /' }, /method must be an HTTP method/],
    ['nope', /must be an object/],
  ])('answers 400 naming the bad field of %j', async (spec, message) => {
    const api = await startApi();
    const res = await call(api, 'POST', FAULTS, { json: spec });
    expect(res.status).toBe(400);
    expect((res.body as { msg: string }).msg).toMatch(message);
  });

  it('arms nothing from an array with one bad spec, and names its index', async () => {
    const api = await startApi();
    const res = await call(api, 'POST', FAULTS, {
      json: [
        { path: '.*', status: 503 },
        { path: '.*', status: 1 },
      ],
    });
    expect(res.status).toBe(400);
    expect((res.body as { msg: string }).msg).toMatch(/\[1\]\.status/);
    expect((await call(api, 'GET', FAULTS)).body).toEqual({ data: [] });
    expect((await call(api, 'POST', FAULTS, { raw: '{' })).status).toBe(400);
  });

  it('arms the faults in TSK_FAULTS at start', async () => {
    const env = {
      TSK_FAULTS: JSON.stringify([
        { method: 'GET', path: '^/resources/stores/config$', status: 502 },
      ]),
    };
    const api = await startLocalApi({ stateDir: tempDir(), port: 0, env });
    try {
      expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(502);
      expect((await call(api, 'GET', '/resources/stores/config')).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it.each([
    ['not json', /TSK_FAULTS is not JSON/],
    ['{"path":".*"}', /TSK_FAULTS must be a JSON array/],
    ['[{"path":".*","status":42}]', /TSK_FAULTS: Invalid fault: \[0\]\.status/],
  ])('refuses to start with TSK_FAULTS=%s', async (text, message) => {
    await expect(
      startLocalApi({ stateDir: tempDir(), port: 0, env: { TSK_FAULTS: text } }),
    ).rejects.toThrow(message);
  });
});
