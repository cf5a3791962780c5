// The entry hands each request to `handle` with Fastly-backed Services; the app is replaced by a
// recorder here so this holds whatever the app does.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSettings } from '../../src/core/settings.js';
import type { Services } from '../../src/http/services.js';
import { configStoreCalls } from './fakes/fastly-config-store.js';
import { secretStores } from './fakes/fastly-secret-store.js';
import {
  DEV_KID,
  DEV_SEED,
  DEV_SETTINGS,
  dispatch,
  installRuntime,
  runtime,
} from './fakes/runtime.js';

const calls = vi.hoisted(() => [] as { request: Request; services: Services }[]);

vi.mock('../../src/http/app.js', () => ({
  handle: async (request: Request, services: Services) => {
    calls.push({ request, services });
    return new Response('from the app', { status: 203 });
  },
}));

beforeAll(async () => {
  installRuntime();
  await import('../../src/platform/fastly/index.js');
});

describe('Fastly entry delegation', () => {
  it('answers with what handle answers, for the same request', async () => {
    const request = new Request('https://keys.example/anything');
    const res = await dispatch(request);
    expect(res.status).toBe(203);
    expect(await res.text()).toBe('from the app');
    expect(calls.at(-1)?.request).toBe(request);
  });

  it('gives handle services over the linked stores and the embedded settings', async () => {
    await dispatch(new Request('https://keys.example/'));
    const services = calls.at(-1)?.services;
    if (!services) throw new Error('handle was not called');
    expect(services.settings).toEqual(parseSettings(DEV_SETTINGS));
    expect(configStoreCalls.opened).toBe(0); // stores open on first read, not per request
    expect(await services.configStore('jwks_store').get('current-kid')).toBe(DEV_KID);
    expect(await services.configStore('jwks_store').get('keyring')).toBeNull();
    expect(await services.secretStore('signing_keys').get(DEV_KID)).toBe(DEV_SEED);
    // Mutations reach the management API through the `fastly_api` backend, with the token read
    // from the `api-keys` secret store when the deployment is opened.
    secretStores.set('api-keys', new Map([['api_key', 'fastly-token-from-the-store']]));
    const { engine } = await services.deployments.open({
      name: 'default',
      holder: 'op',
      requestId: 'r1',
    });
    await engine.read().catch(() => undefined);
    // A read starts with the config items (this stub's answer ends it there).
    const sent = runtime.fetches.find((f) => f.request.url.includes('/stores/config/'));
    expect(runtime.fetches.at(-1)).toBe(sent);
    expect(sent?.init).toEqual({ backend: 'fastly_api' });
    expect(sent?.request.url).toBe(
      'https://api.fastly.com/resources/stores/config/REPLACE_WITH_JWKS_STORE_ID/items',
    );
    expect(sent?.request.headers.get('fastly-key')).toBe('fastly-token-from-the-store');
  });

  it('builds fresh services for every request', async () => {
    await dispatch(new Request('https://keys.example/a'));
    await dispatch(new Request('https://keys.example/b'));
    const [a, b] = calls.slice(-2);
    expect(a?.services).not.toBe(b?.services);
  });
});
