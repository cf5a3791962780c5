// One test per row of docs/architecture.md's "Reading the stores" table. Every row also checks
// that the edge's reading (only the items the edge fetches) and the admin's (every item) agree on
// what is published and which kid signs: the two views can never disagree again.
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import {
  PUBLISHED_STATES,
  type Keyring,
  type KeysetState,
} from '../../src/core/keyring/document.js';
import { readEdgeKeyring } from '../../src/core/keyring/edge-view.js';
import { foldReading, probeFolded } from '../../src/core/keyring/store-fold.js';
import { derivedItems, loadKeyring } from '../../src/core/keyring/store-items.js';
import {
  readEdgeItems,
  readStores,
  type DriftCode,
  type StoreReading,
} from '../../src/core/keyring/store-reading.js';
import { parseActiveKids } from '../../src/core/keys/active-kids.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { encodeSeed } from '../../src/core/keys/seed-encoding.js';

const NOW = Date.parse('2026-12-02T08:00:00.000Z');
const CTX = { deployment: 'default', nowMs: NOW, keyLifetimeDays: 90 };

/** Fixed seeds (bytes 1..4 repeated); their public keys are computed, not made up. */
const SEEDS: Record<string, Uint8Array> = {};
const JWKS: Record<string, string> = {};
async function key(kid: string, fill: number): Promise<void> {
  SEEDS[kid] = new Uint8Array(32).fill(fill);
  JWKS[kid] = JSON.stringify(publicJwk(kid, await publicKeyOf(SEEDS[kid])));
}
await key('a', 1);
await key('b', 2);
await key('c', 3);
await key('d', 4);
/** Trusted Server's fastly.toml: a JWK written by its tools (`use`, no `alg`). */
const TS_A = JWKS['a']?.replace('"alg":"EdDSA",', '"use":"sig",') ?? '';
/** Trusted Server's fastly.toml ts-2025-10-B: its x is not an Ed25519 point. */
const BAD_X = 'HVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw';

function keyring(states: Record<string, KeysetState>, version = 5): Keyring {
  return {
    schema: 1,
    deployment: 'default',
    version,
    updated_at: '2026-12-01T00:00:00.000Z',
    keysets: Object.entries(states).map(([id, state]) => ({
      id,
      state,
      jwk: JSON.parse(JWKS[id] ?? '') as ReturnType<typeof publicJwk>,
      issued_at: '2026-11-01T00:00:00.000Z',
      expires_at: '2027-01-30T00:00:00.000Z',
      ...(state === 'ACTIVE' ? { activated_at: '2026-11-01T00:00:00.000Z' } : {}),
    })),
  };
}

/** The items this service writes for a keyring (the agreeing store). */
function written(states: Record<string, KeysetState>): Map<string, string> {
  return derivedItems(keyring(states));
}

/** Both readings: the admin's (every item) and the edge's (only what it fetches). */
async function both(items: Map<string, string>): Promise<StoreReading> {
  const admin = readStores(items, true);
  const edgeItems = await readEdgeItems(async (k) => items.get(k) ?? null);
  const edge = readStores(edgeItems, false);
  const published = (r: StoreReading): string[] =>
    r.keysets
      .filter((k) => PUBLISHED_STATES.has(k.state))
      .map((k) => `${k.id}:${k.state}:${k.jwk.x}`);
  expect(published(edge)).toEqual(published(admin));
  expect(edge.signingKid).toBe(admin.signingKid);
  // The edge fetches no JWK of an unpublished kid: a deleted one looks merely unpublished to it,
  // and an unlisted JWK item is not seen. Every other finding is the same.
  const comparable = (r: StoreReading): string[] =>
    r.drift
      .map((d) => (d.code === 'kid_deleted' ? 'kid_removed' : d.code))
      .filter((c) => c !== 'kid_unlisted');
  expect(comparable(edge)).toEqual(comparable(admin));
  await sameForOneKid(items, edge);
  return admin;
}

/** A config store over `items` that counts its reads. */
function countingStore(items: Map<string, string>): {
  get(key: string): Promise<string | null>;
  reads: string[];
} {
  const reads: string[] = [];
  return {
    reads,
    get: async (key) => {
      reads.push(key);
      return items.get(key) ?? null;
    },
  };
}

/**
 * `/verify-signature`'s reading of one kid (`readEdgeKeyring(config, [kid])`) gives every kid,
 * published or not, listed or not, drifted or missing, the key set the full edge reading gives
 * it, and reads the keyring, `current-kid`, `active-kids` and at most that kid's JWK item.
 */
async function sameForOneKid(items: Map<string, string>, edge: StoreReading): Promise<void> {
  const current = items.get('current-kid')?.trim();
  const published = new Set(parseActiveKids(items.get('active-kids') ?? null));
  if (current) published.add(current);
  for (const kid of ['a', 'b', 'c', 'd', 'missing']) {
    const store = countingStore(items);
    const view = await readEdgeKeyring(store, [kid]);
    expect(view.keysets).toEqual(edge.keysets.filter((k) => k.id === kid));
    expect(view.version).toBe(edge.version);
    expect(store.reads.sort()).toEqual(
      ['active-kids', 'current-kid', 'keyring', ...(published.has(kid) ? [kid] : [])].sort(),
    );
  }
}

const states = (r: StoreReading): Record<string, KeysetState> =>
  Object.fromEntries(r.keysets.map((k) => [k.id, k.state]));
const codes = (r: StoreReading): DriftCode[] => r.drift.map((d) => d.code);

describe('reading the stores (one test per row of the table)', () => {
  it('R1 keyring only, no Trusted Server item: the keyring says everything', async () => {
    const items = new Map([['keyring', JSON.stringify(keyring({ a: 'ACTIVE', b: 'TAINTED' }))]]);
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'TAINTED' });
    expect(r.signingKid).toBe('a');
    expect(r.drift).toEqual([]);
  });

  it('R2 Trusted Server only: current-kid ACTIVE, the other active-kids PREPARED, version null', async () => {
    const items = new Map([
      ['a', TS_A],
      ['b', JWKS['b'] ?? ''],
      ['current-kid', 'a'],
      ['active-kids', 'a,b'],
    ]);
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'PREPARED' });
    expect(r.version).toBeNull();
    expect(r.drift).toEqual([]);
  });

  it('R3 current-kid not in active-kids: still served (the signer uses it), and reported', async () => {
    const items = new Map([
      ['a', JWKS['a'] ?? ''],
      ['b', JWKS['b'] ?? ''],
      ['current-kid', 'b'],
      ['active-kids', 'a'],
    ]);
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'PREPARED', b: 'ACTIVE' });
    expect(codes(r)).toEqual(['current_not_published']);
  });

  it('R4 a kid in active-kids without a JWK: left out and reported', async () => {
    const items = new Map([
      ['a', JWKS['a'] ?? ''],
      ['current-kid', 'a'],
      ['active-kids', 'a,ghost'],
    ]);
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE' });
    expect(r.skipped).toEqual(['ghost']);
    expect(codes(r)).toEqual(['published_without_jwk']);
  });

  it('R5 a JWK item nothing publishes (Trusted Server deactivated it): DEACTIVATED', async () => {
    const items = new Map([
      ['a', JWKS['a'] ?? ''],
      ['b', JWKS['b'] ?? ''],
      ['current-kid', 'a'],
      ['active-kids', 'a'],
    ]);
    expect(states(await both(items))).toEqual({ a: 'ACTIVE', b: 'DEACTIVATED' });
  });

  it('R6 keyring and items agree: the keyring states (TAINTED too), no drift', async () => {
    const r = await both(written({ a: 'ACTIVE', b: 'TAINTED', c: 'DEACTIVATED', d: 'PREPARED' }));
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'TAINTED', c: 'DEACTIVATED', d: 'PREPARED' });
    expect(r.drift).toEqual([]);
    expect(r.version).toBe(5);
  });

  it('R7 Trusted Server rotated behind the keyring: the new kid signs, the old one stays published', async () => {
    const items = written({ a: 'ACTIVE' });
    items.set('c', JWKS['c'] ?? '');
    items.set('active-kids', 'a,c');
    items.set('current-kid', 'c');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'PREPARED', c: 'ACTIVE' });
    expect(r.signingKid).toBe('c');
    expect(codes(r)).toEqual(['kid_added']);
  });

  it('R8 Trusted Server deactivated a kid: DEACTIVATED', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('active-kids', 'a');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'DEACTIVATED' });
    expect(codes(r)).toEqual(['kid_removed']);
  });

  it('R9 Trusted Server deleted a kid (active-kids and JWK item): gone', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('active-kids', 'a');
    items.delete('b');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE' });
    expect(codes(r)).toEqual(['kid_deleted']);
  });

  it('R10 current-kid changed to another listed kid: that kid signs', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('current-kid', 'b');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'PREPARED', b: 'ACTIVE' });
    expect(codes(r)).toEqual(['current_changed']);
  });

  it('R11 a JWK item changed: the item is served (it is what Trusted Server publishes)', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('b', (JWKS['c'] ?? '').replace('"kid":"c"', '"kid":"b"'));
    const r = await both(items);
    expect(r.keysets.find((k) => k.id === 'b')?.jwk.x).toBe(JSON.parse(JWKS['c'] ?? '').x);
    expect(codes(r)).toEqual(['jwk_changed']);
  });

  it('R12 a JWK item broken: the keyring’s JWK is served', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('b', '{"kty":"RSA"}');
    const r = await both(items);
    expect(r.keysets.find((k) => k.id === 'b')?.jwk.x).toBe(JSON.parse(JWKS['b'] ?? '').x);
    expect(codes(r)).toEqual(['jwk_invalid']);
  });

  it('R13 current-kid outside active-kids with a keyring: served and reported', async () => {
    const items = written({ a: 'ACTIVE', b: 'DEACTIVATED' });
    items.set('current-kid', 'b');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'PREPARED', b: 'ACTIVE' });
    expect(codes(r)).toEqual(['current_not_published', 'current_changed']);
  });

  it('R14 current-kid with no JWK anywhere: nothing signs, reported as an error', async () => {
    const items = written({ a: 'ACTIVE' });
    items.set('current-kid', 'ghost');
    const r = await both(items);
    expect(r.signingKid).toBeNull();
    expect(states(r)).toEqual({ a: 'PREPARED' });
    expect(r.drift.map((d) => [d.code, d.severity])).toEqual([['current_without_jwk', 'error']]);
  });

  it('R15 current-kid deleted while active-kids remains: nothing signs, reported', async () => {
    const items = written({ a: 'ACTIVE' });
    items.delete('current-kid');
    const r = await both(items);
    expect(r.signingKid).toBeNull();
    expect(codes(r)).toEqual(['current_missing']);
  });

  it('R16 a DEACTIVATED kid published again: PREPARED', async () => {
    const items = written({ a: 'ACTIVE', b: 'DEACTIVATED' });
    items.set('active-kids', 'a,b');
    const r = await both(items);
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'PREPARED' });
    expect(codes(r)).toEqual(['kid_republished']);
  });

  it('R17 a JWK item the keyring does not list and nothing publishes: DEACTIVATED (admin sees it)', async () => {
    const items = written({ a: 'ACTIVE' });
    items.set('c', JWKS['c'] ?? '');
    const r = readStores(items, true);
    expect(states(r)).toEqual({ a: 'ACTIVE', c: 'DEACTIVATED' });
    expect(codes(r)).toEqual(['kid_unlisted']);
    await both(items);
  });

  it('R18 a corrupt keyring: the edge reads Trusted Server’s items, the admin refuses to fold', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('keyring', '{"schema":1');
    const r = await both(items);
    expect(r.corrupt).toMatch(/not valid JSON/);
    expect(states(r)).toEqual({ a: 'ACTIVE', b: 'PREPARED' });
    expect(() => foldReading(r, CTX)).toThrow(expect.objectContaining({ code: 'keyring_corrupt' }));
  });
});

describe("one kid's reading (/verify-signature)", () => {
  it('reads 3 items and that kid, whatever the number of published kids', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED', c: 'PREPARED', d: 'TAINTED' });
    const full = countingStore(items);
    const all = await readEdgeKeyring(full);
    expect(full.reads).toHaveLength(3 + 4);
    const one = countingStore(items);
    const view = await readEdgeKeyring(one, ['c']);
    expect(one.reads.sort()).toEqual(['active-kids', 'c', 'current-kid', 'keyring']);
    expect(view.keysets).toEqual(all.keysets.filter((k) => k.id === 'c'));
    expect(view.keysets.map((k) => k.state)).toEqual(['PREPARED']);
  });

  it('an item that drifted: the kid gets the item’s JWK, as in the full reading', async () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    items.set('b', JWKS['c']?.replace('"kid":"c"', '"kid":"b"') ?? '');
    const all = await readEdgeKeyring(countingStore(items));
    expect(all.drifted).toBe(true);
    const view = await readEdgeKeyring(countingStore(items), ['b']);
    expect(view.keysets).toEqual(all.keysets.filter((k) => k.id === 'b'));
    expect(view.keysets[0]?.jwk.x).toBe(JSON.parse(JWKS['c'] ?? '').x);
  });
});

describe('folding a reading with the private keys (rows R19–R22)', () => {
  it('R19 a published kid without a private key: unusable (key_material_missing) and unpublished', () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    const loaded = loadKeyring(items, { ...CTX, secretNames: new Set(['a']) });
    expect(loaded.keyring.keysets.find((k) => k.id === 'b')).toMatchObject({
      state: 'DEACTIVATED',
      unusable: { code: 'key_material_missing' },
    });
    expect(loaded.folded).toEqual(['b unpublished as unusable (key_material_missing)']);
  });

  it('R20 Trusted Server’s ts-2025-10-B (x not a point, no private key): unusable (key_material_invalid)', () => {
    const items = new Map([
      ['a', TS_A],
      [
        'ts-2025-10-B',
        `{"kty":"OKP","crv":"Ed25519","kid":"ts-2025-10-B","use":"sig","x":"${BAD_X}"}`,
      ],
      ['current-kid', 'a'],
      ['active-kids', 'a,ts-2025-10-B'],
    ]);
    const loaded = loadKeyring(items, { ...CTX, secretNames: new Set(['a']) });
    expect(loaded.adopted).toBe(true);
    expect(loaded.keyring.keysets.map((k) => [k.id, k.state, k.unusable?.code])).toEqual([
      ['a', 'ACTIVE', undefined],
      ['ts-2025-10-B', 'DEACTIVATED', 'key_material_invalid'],
    ]);
  });

  it('R21 a private key that does not derive the JWK’s x: unusable (key_material_mismatch)', async () => {
    const items = new Map([
      ['a', JWKS['a'] ?? ''],
      ['b', JWKS['b'] ?? ''],
      ['current-kid', 'a'],
      ['active-kids', 'a,b'],
    ]);
    const loaded = loadKeyring(items, { ...CTX, secretNames: new Set(['a', 'b']) });
    const secrets = new Map([
      ['a', encodeSeed(SEEDS['a'] ?? new Uint8Array())],
      ['b', encodeSeed(SEEDS['c'] ?? new Uint8Array())],
    ]);
    const lines = await probeFolded(loaded, null, { get: async (n) => secrets.get(n) ?? null });
    expect(lines).toEqual(['b unpublished as unusable (key_material_mismatch)']);
    expect(loaded.keyring.keysets.find((k) => k.id === 'a')?.unusable).toBeUndefined();
  });

  it('R22 current-kid without a private key: stays ACTIVE (the signer uses it), flagged unusable', () => {
    const items = written({ a: 'ACTIVE', b: 'PREPARED' });
    const loaded = loadKeyring(items, { ...CTX, secretNames: new Set(['b']) });
    expect(loaded.keyring.keysets.find((k) => k.id === 'a')).toMatchObject({
      state: 'ACTIVE',
      unusable: { code: 'key_material_missing' },
    });
  });

  it('folding agreeing stores gives the stored keyring back, byte for byte', () => {
    const stored = keyring({ a: 'ACTIVE', b: 'TAINTED', c: 'DEACTIVATED' });
    const loaded = loadKeyring(derivedItems(stored), {
      ...CTX,
      secretNames: new Set(['a', 'b', 'c']),
    });
    expect(JSON.stringify(loaded.keyring)).toBe(JSON.stringify(stored));
    expect(loaded.folded).toEqual([]);
  });
});
