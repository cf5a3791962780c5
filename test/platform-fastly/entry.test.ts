// The Fastly entry with the real app, against faked `fastly:*` modules and runtime globals.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configStoreCalls } from './fakes/fastly-config-store.js';
import { secretStoreCalls } from './fakes/fastly-secret-store.js';
import { DEV_JWK, dispatch, installRuntime, runtime } from './fakes/runtime.js';

// What importing the entry touched. Top-level code runs at build time under Wizer, where stores,
// the clock and randomness do not exist (or would be frozen into the snapshot).
let atImport: { configOpened: number; secretOpened: number; now: number; random: number };
let warmUpReport: unknown;
let warmUpLines: string[];

beforeAll(async () => {
  installRuntime();
  // The warm-up's build-time line; silenced, since the test runner's console reads the clock.
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const now = vi.spyOn(Date, 'now');
  const random = vi.spyOn(crypto, 'getRandomValues');
  const entry = await import('../../src/platform/fastly/index.js');
  // The build-time warm-up (src/http/warm-up.ts) runs from the top level too: counted with it.
  warmUpReport = await entry.warmedUp;
  atImport = {
    configOpened: configStoreCalls.opened + configStoreCalls.gets,
    secretOpened: secretStoreCalls.opened + secretStoreCalls.gets,
    now: now.mock.calls.length,
    random: random.mock.calls.length,
  };
  warmUpLines = log.mock.calls.map((c) => String(c[0]));
  log.mockRestore();
  now.mockRestore();
  random.mockRestore();
});

afterAll(() => {
  vi.unstubAllGlobals();
});

describe('Fastly entry', () => {
  it('registers one fetch listener and touches no store, clock or randomness at import', () => {
    expect(runtime.listeners.map((l) => l.type)).toEqual(['fetch']);
    expect(atImport).toEqual({ configOpened: 0, secretOpened: 0, now: 0, random: 0 });
  });

  it('warms the hot paths up at import, without a store, the clock or randomness', () => {
    expect(warmUpReport).toMatchObject({ verified: true, audited: 1 });
    // The line scripts/build-wasm.mjs requires of every build.
    expect(warmUpLines).toEqual(['TSK_WARM_UP_DONE 4 routes']);
  });

  // Needs the app's discovery route (src/http): served from jwks_store's active-kids and JWKs.
  it('serves the discovery document from the jwks_store config store', async () => {
    const res = await dispatch(new Request('https://keys.example/.well-known/trusted-server.json'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    // Extra top-level members (keyring version, tainted kids) are allowed by the design.
    expect(body['version']).toBe('1.0');
    expect(body['jwks']).toEqual({ keys: [JSON.parse(DEV_JWK)] });
  });

  // The runtime gives an absolute URL; the app judges its path exactly as spelled there.
  it('refuses a path that is not canonical in the URL the runtime gives', async () => {
    const res = await dispatch(new Request('https://keys.example/%2Ewell-known/jwks.json'));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'non_canonical_path' });
  });
});
