// The `fastly:*` adapters and per-request services, against the fakes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { parseSettings } from '../../src/core/settings.js';
import { fastlyServices, managementFetch } from '../../src/platform/fastly/services.js';
import { configStore, secretStore } from '../../src/platform/fastly/stores.js';
import { configStoreCalls } from './fakes/fastly-config-store.js';
import { secretStoreCalls } from './fakes/fastly-secret-store.js';
import { DEV_KID, DEV_SEED, DEV_SETTINGS, installRuntime, runtime } from './fakes/runtime.js';

beforeEach(() => installRuntime());
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('configStore', () => {
  it('reads items, and null for absent ones', async () => {
    const store = configStore('jwks_store');
    expect(await store.get('active-kids')).toBe(DEV_KID);
    expect(await store.get('nope')).toBeNull();
  });

  it('reads keys the store cannot hold (empty, over 255 bytes) as null without asking it', async () => {
    const store = configStore('jwks_store');
    expect(await store.get('k'.repeat(255))).toBeNull();
    const gets = configStoreCalls.gets;
    expect(await store.get('k'.repeat(256))).toBeNull();
    expect(await store.get('é'.repeat(128))).toBeNull(); // 128 characters, 256 bytes
    expect(await store.get('')).toBeNull();
    expect(configStoreCalls.gets).toBe(gets);
  });

  it('reports a store not linked to the service as not_configured', async () => {
    const err = await configStore('missing_store')
      .get('current-kid')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TskError);
    expect(err).toMatchObject({
      code: 'not_configured',
      message: 'Config store "missing_store" is not linked to this service',
    });
  });
});

describe('secretStore', () => {
  it('reads a secret as its plaintext, and null when absent', async () => {
    const store = secretStore('signing_keys');
    expect(await store.get(DEV_KID)).toBe(DEV_SEED);
    expect(await store.get('ts-2000-01-A')).toBeNull();
  });

  it('reads names the store cannot hold as null without asking it', async () => {
    const store = secretStore('signing_keys');
    expect(await store.get('a'.repeat(255))).toBeNull();
    const gets = secretStoreCalls.gets;
    for (const name of ['a'.repeat(256), '', 'has space', 'slash/name', 'é']) {
      expect(await store.get(name)).toBeNull();
    }
    expect(secretStoreCalls.gets).toBe(gets);
  });

  it('reports a store not linked to the service as not_configured', async () => {
    const err = await secretStore('admin_tokens')
      .get('any')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TskError);
    expect(err).toMatchObject({
      code: 'not_configured',
      message: 'Secret store "admin_tokens" is not linked to this service',
    });
  });

  it('opens its store once, on first read', async () => {
    const store = secretStore('signing_keys');
    expect(secretStoreCalls.opened).toBe(0);
    await store.get(DEV_KID);
    await store.get(DEV_KID);
    expect(secretStoreCalls.opened).toBe(1);
  });
});

describe('fastlyServices', () => {
  it('sends management requests through the configured backend', async () => {
    const settings = parseSettings(DEV_SETTINGS);
    const request = new Request('https://api.fastly.com/resources/stores/secret');
    const res = await managementFetch(settings)(request);
    expect(res.ok).toBe(true);
    expect(runtime.fetches).toEqual([{ request, init: { backend: 'fastly_api' } }]);

    const other = { ...settings, fastly_api: { ...settings.fastly_api, backend: 'mgmt' } };
    await managementFetch(other)(request);
    expect(runtime.fetches.at(-1)?.init).toEqual({ backend: 'mgmt' });
  });

  it('takes time from Date.now and bytes from crypto.getRandomValues', () => {
    const services = fastlyServices(parseSettings(DEV_SETTINGS));
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const random = vi.spyOn(crypto, 'getRandomValues');
    expect(services.clock.now()).toBe(1_700_000_000_000);
    const bytes = services.random.bytes(32);
    expect(bytes).toHaveLength(32);
    expect(random).toHaveBeenCalledOnce();
  });

  it('logs one JSON line per call, fields never overriding level or event', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2025, 9, 1));
    const { logger } = fastlyServices(parseSettings(DEV_SETTINGS));
    logger.log('warn', 'keyset_activated', { kid: DEV_KID, level: 'info', event: 'x' });
    logger.log('error', 'odd', { n: 1n });
    expect(log.mock.calls).toEqual([
      [
        '{"time":"2025-10-01T00:00:00.000Z","level":"warn","event":"keyset_activated","kid":"ts-2025-10-A"}',
      ],
      [
        '{"time":"2025-10-01T00:00:00.000Z","level":"error","event":"odd","log_error":"unserialisable"}',
      ],
    ]);
  });
});
