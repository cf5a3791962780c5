// The key documents stored when a change commits (src/core/keyring/key-documents.ts): the hot
// path serves them with two config reads and no keyring parse, byte for byte what the keyring
// would render, and falls back to the keyring whenever Trusted Server's `active-kids` disagrees
// or the item is missing or malformed.
import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/core/keyring/document.js';
import {
  DOCUMENT_ITEM_KEYS,
  parseDocumentItem,
  renderDocumentItem,
} from '../../src/core/keyring/key-documents.js';
import { derivedItems, itemOpsFor } from '../../src/core/keyring/store-items.js';
import { assertNewKid } from '../../src/core/keys/kid.js';
import { resolveDeployment } from '../../src/core/deployments.js';
import { nextTransitionAtMs } from '../../src/core/schedule/planner.js';
import { schedulePolicy } from '../../src/core/schedule/policy.js';
import { ifNoneMatchHits } from '../../src/http/routes/discovery.js';
import { STORE_NAMES } from '../../src/http/services.js';
import { DEV_KEY, memoryServices, testApp } from '../support/app.js';

const AT = '2026-11-22T09:00:00.000Z';
const jwkOf = (kid: string) => ({ ...DEV_KEY.jwk, kid });

/** Version 7: the dev key ACTIVE, `spare` TAINTED (published), `old` DEACTIVATED (not). */
const KEYRING: Keyring = {
  schema: 1,
  deployment: 'default',
  version: 7,
  updated_at: AT,
  keysets: [
    { id: DEV_KEY.kid, state: 'ACTIVE', jwk: jwkOf(DEV_KEY.kid), issued_at: AT, expires_at: AT },
    { id: 'spare', state: 'TAINTED', jwk: jwkOf('spare'), issued_at: AT, expires_at: AT },
    { id: 'old', state: 'DEACTIVATED', jwk: jwkOf('old'), issued_at: AT, expires_at: AT },
  ],
};

/** The app over the items `derivedItems` writes, recording every config key read. */
function appWith(items: Map<string, string>) {
  const services = memoryServices({ config: { [STORE_NAMES.jwks]: Object.fromEntries(items) } });
  const reads: string[] = [];
  const configStore = services.configStore.bind(services);
  services.configStore = (name) => {
    const store = configStore(name);
    return {
      get: (key) => {
        reads.push(key);
        return store.get(key);
      },
    };
  };
  return { app: testApp(services), reads, items: services.config.get(STORE_NAMES.jwks)! };
}

const PATHS = {
  jwks: '/.well-known/jwks.json',
  discovery: '/.well-known/trusted-server.json',
} as const;

describe('stored key documents', () => {
  for (const kind of ['jwks', 'discovery'] as const) {
    it(`${kind}: served as stored with 2 config reads, the same bytes and ETag as the keyring renders`, async () => {
      // As the engine stores it: with the time of the schedule's next transition.
      const { settings } = memoryServices();
      const policy = schedulePolicy(settings, resolveDeployment(settings, 'default'));
      const next = nextTransitionAtMs(KEYRING, policy);
      const stored = appWith(derivedItems(KEYRING, next));
      const res = await stored.app.request(PATHS[kind]);
      expect(res.status).toBe(200);
      expect(stored.reads.sort()).toEqual([DOCUMENT_ITEM_KEYS[kind], 'active-kids'].sort());
      const body = await res.text();

      const without = new Map(derivedItems(KEYRING, next));
      without.delete(DOCUMENT_ITEM_KEYS[kind]);
      const rendered = appWith(without);
      const fallback = await rendered.app.request(PATHS[kind]);
      expect(rendered.reads).toContain('keyring');
      expect(await fallback.text()).toBe(body);
      expect(res.headers.get('etag')).toBe('"7"');
      expect(fallback.headers.get('etag')).toBe('"7"');
      expect(res.headers.get('content-type')).toBe(fallback.headers.get('content-type'));
      expect(res.headers.get('cache-control')).toBe(fallback.headers.get('cache-control'));

      const again = await stored.app.request(PATHS[kind], { headers: { 'if-none-match': '"7"' } });
      expect(again.status).toBe(304);
      const head = await stored.app.request(PATHS[kind], { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });
  }

  it('the discovery document keeps Trusted Server’s members and lists only published keys', async () => {
    const { app } = appWith(derivedItems(KEYRING));
    const doc = (await (await app.request(PATHS.discovery)).json()) as Record<string, unknown>;
    expect(doc).toEqual({
      version: '1.0',
      jwks: { keys: [jwkOf(DEV_KEY.kid), jwkOf('spare')] },
      keyring_version: 7,
      tainted_kids: ['spare'],
      // `spare` records no taint time: tainted at an unknown moment, nothing it signed verifies.
      taint_cutoffs: { spare: '1970-01-01T00:00:00.000Z' },
      // A keyring with no key log: no root, and every published key unendorsed (docs/key-log.md).
      key_log: null,
      unendorsed_kids: [DEV_KEY.kid, 'spare'],
    });
  });

  it('reads the stores again when Trusted Server’s active-kids disagrees with the stored document, and serves what Trusted Server publishes', async () => {
    const { app, reads, items } = appWith(derivedItems(KEYRING));
    // Trusted Server's own tools unpublished `spare` behind this service's back.
    items.set('active-kids', DEV_KEY.kid);
    const res = await app.request(PATHS.jwks);
    expect(reads).toContain('keyring');
    expect(await res.json()).toEqual({ keys: [jwkOf(DEV_KEY.kid)] });
    // The document is not keyring version 7's any more, so its ETag cannot be "7".
    expect(res.headers.get('etag')).toMatch(/^"h[0-9a-f]{20}"$/);
  });

  it('falls back to the keyring when the stored item is not a document', async () => {
    const { app, reads, items } = appWith(derivedItems(KEYRING));
    items.set(DOCUMENT_ITEM_KEYS.jwks, '{"keys":[]}');
    const res = await app.request(PATHS.jwks);
    expect(reads).toContain('keyring');
    expect(await res.json()).toEqual({ keys: [jwkOf(DEV_KEY.kid), jwkOf('spare')] });
  });

  it('a document over the 8,000-character item limit is not rendered; documents are written right after the keyring', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      id: `k${i}`,
      state: 'PREPARED' as const,
      jwk: jwkOf(`k${i}`),
    }));
    expect(renderDocumentItem('jwks', { version: 1, keysets: many })).toBeNull();
    const small = renderDocumentItem('jwks', { version: 1, keysets: many.slice(0, 2) });
    expect(small).not.toBeNull();
    expect(parseDocumentItem(small ?? '')).toEqual({
      etag: '"1"',
      nextTransitionAtMs: null,
      activeKids: 'k0,k1',
      body: JSON.stringify({ keys: [jwkOf('k0'), jwkOf('k1')] }),
    });
    // After `keyring`: a bulk applied in part never holds a document newer than the keyring.
    const current = derivedItems(KEYRING);
    const next = { ...KEYRING, version: 8 };
    const ops = itemOpsFor(current, KEYRING, next);
    expect(ops.map((op) => op.key)).toEqual([
      'keyring',
      DOCUMENT_ITEM_KEYS.jwks,
      DOCUMENT_ITEM_KEYS.discovery,
    ]);
  });

  it('the document items are reserved: no kid may take their names', () => {
    for (const key of Object.values(DOCUMENT_ITEM_KEYS)) {
      expect(() => assertNewKid(key)).toThrow(/reserved/);
    }
  });
});

describe('If-None-Match against a document ETag', () => {
  it('hits on the exact ETag, its weak form, a list naming it, and *; nothing else', () => {
    for (const inm of ['"7"', 'W/"7"', '"1", "7"', '"1",W/"7"', ' "7" ', '*', '"1", *']) {
      expect(ifNoneMatchHits(inm, '"7"'), inm).toBe(true);
    }
    for (const inm of ['"70"', '7', 'W/"70"', '"1", "8"', 'w/"7"', '"7"x', 'W/W/"7"', '']) {
      expect(ifNoneMatchHits(inm, '"7"'), inm).toBe(false);
    }
  });
});
