import { beforeEach, describe, expect, it } from 'vitest';
import { KeyringEngine, type MutationRequest } from '../../src/core/keyring/engine.js';
import { parseKeyring } from '../../src/core/keyring/document.js';
import { KeyRotationManager } from '../../src/core/keyring/rotation-manager.js';
import { expectConsistent, snapshot } from '../support/consistency.js';
import { counterRandom, FakeKeyStore, manualClock, type Call } from '../support/fake-key-store.js';

const DEV_JWK =
  '{"kty":"OKP","crv":"Ed25519","x":"UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw","alg":"EdDSA","kid":"ts-2025-10-A"}';
const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

function setup(store = new FakeKeyStore()) {
  const clock = manualClock();
  const engine = new KeyringEngine({
    api: store,
    clock,
    random: counterRandom(),
    deployment: 'default',
    keyLifetimeDays: 90,
  });
  return { store, clock, engine, manager: new KeyRotationManager(engine) };
}

/** A store as Trusted Server's own tools leave it. */
function trustedServerStore(): FakeKeyStore {
  const store = new FakeKeyStore();
  store.items.set('ts-2025-10-A', DEV_JWK);
  store.items.set('current-kid', 'ts-2025-10-A');
  store.items.set('active-kids', 'ts-2025-10-A');
  store.secrets.set('ts-2025-10-A', DEV_SEED);
  return store;
}

describe('KeyRotationManager', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup(trustedServerStore());
  });

  it('rotates an empty store to its first key, signing with it', async () => {
    const { store, manager } = setup();
    const result = await manager.rotateKey();
    expect(result.newKid).toBe('ts-2026-11-22');
    expect(result.previousKid).toBeNull();
    expect(result.activeKids).toEqual(['ts-2026-11-22']);
    expect(store.items.get('current-kid')).toBe('ts-2026-11-22');
    expect(store.secrets.get('ts-2026-11-22')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(JSON.parse(store.items.get('ts-2026-11-22') ?? '')).toEqual(result.jwk);
    expect(parseKeyring(store.items.get('keyring') ?? '').version).toBe(1);
    expectConsistent(store);
  });

  it('adopts a Trusted Server–only store and keeps the previous key published after rotating', async () => {
    const result = await t.manager.rotateKey();
    expect(result.previousKid).toBe('ts-2025-10-A');
    expect(result.activeKids).toEqual(['ts-2025-10-A', 'ts-2026-11-22']);
    expect(result.result.adopted).toBe(true);
    const keyring = parseKeyring(t.store.items.get('keyring') ?? '');
    expect(keyring.keysets.map((k) => [k.id, k.state])).toEqual([
      ['ts-2025-10-A', 'PREPARED'],
      ['ts-2026-11-22', 'ACTIVE'],
    ]);
    expect(t.store.items.get('ts-2025-10-A')).toBe(DEV_JWK);
    expectConsistent(t.store);
  });

  it('adopts JWK items missing from active-kids as DEACTIVATED, and skips kids without a JWK', async () => {
    t.store.items.set('old', DEV_JWK.replace('ts-2025-10-A', 'old'));
    t.store.items.set('active-kids', 'ts-2025-10-A,ghost');
    t.store.items.set('unrelated', 'not a jwk');
    const loaded = await t.engine.read();
    expect(loaded.keyring.keysets.map((k) => [k.id, k.state])).toEqual([
      ['ts-2025-10-A', 'ACTIVE'],
      ['old', 'DEACTIVATED'],
    ]);
    expect(loaded.skipped).toEqual(['ghost']);
  });

  it('gives a second rotation on the same day a unique kid', async () => {
    const first = await t.manager.rotateKey();
    const second = await t.manager.rotateKey();
    expect(second.newKid).toMatch(/^ts-2026-11-22-[0-9a-f]{8}$/);
    expect(second.previousKid).toBe(first.newKid);
    expect(second.activeKids).toEqual(['ts-2025-10-A', first.newKid, second.newKid]);
    expectConsistent(t.store);
  });

  it('uses a chosen kid and refuses one that exists as a key set, a config item or a secret', async () => {
    expect((await t.manager.rotateKey('partner-2026')).newKid).toBe('partner-2026');
    t.store.items.set('unrelated-item', 'x');
    t.store.secrets.set('stray', DEV_SEED);
    for (const kid of ['partner-2026', 'ts-2025-10-A', 'unrelated-item', 'stray']) {
      const before = snapshot(t.store);
      await expect(t.manager.rotateKey(kid)).rejects.toMatchObject({ code: 'kid_exists' });
      expect(snapshot(t.store)).toBe(before);
    }
  });

  it('gives a generated kid a suffix when a leftover private key already has the date kid', async () => {
    t.store.secrets.set('ts-2026-11-22', DEV_SEED); // an orphan, listed nowhere in the keyring
    const result = await t.manager.rotateKey();
    expect(result.newKid).toMatch(/^ts-2026-11-22-[0-9a-f]{8}$/);
    expect(t.store.secrets.get('ts-2026-11-22')).toBe(DEV_SEED);
  });

  it('deactivates a key (keeping JWK and private key) and deletes one for good', async () => {
    await t.manager.rotateKey('second');
    const deactivated = await t.manager.deactivateKey('ts-2025-10-A');
    expect(deactivated.remainingActiveKids).toEqual(['second']);
    expect(t.store.items.has('ts-2025-10-A')).toBe(true);
    expect(t.store.secrets.has('ts-2025-10-A')).toBe(true);
    const deleted = await t.manager.deleteKey('ts-2025-10-A');
    expect(deleted.remainingActiveKids).toEqual(['second']);
    expect(t.store.items.has('ts-2025-10-A')).toBe(false);
    expect(t.store.secrets.has('ts-2025-10-A')).toBe(false);
    expectConsistent(t.store);
  });

  it('never deactivates or deletes the current key, and never an unknown one', async () => {
    await expect(t.manager.deactivateKey('ts-2025-10-A')).rejects.toMatchObject({
      code: 'invalid_transition',
      message: 'cannot deactivate active key set',
    });
    await expect(t.manager.deleteKey('ts-2025-10-A')).rejects.toMatchObject({
      code: 'invalid_transition',
      message: 'cannot remove active key set',
    });
    await expect(t.manager.deactivateKey('nope')).rejects.toMatchObject({
      code: 'keyset_not_found',
    });
    await expect(t.manager.deleteKey('nope')).rejects.toMatchObject({ code: 'keyset_not_found' });
  });

  it('refuses the last published key when no key signs', async () => {
    t.store.items.delete('current-kid');
    await expect(t.manager.deactivateKey('ts-2025-10-A')).rejects.toMatchObject({
      code: 'last_active_key',
      message: 'Cannot deactivate the last active key',
    });
  });

  it('reads the current and published kids through the management API', async () => {
    expect(await t.manager.getCurrentKeyId()).toBe('ts-2025-10-A');
    await t.manager.rotateKey('next');
    expect(await t.manager.getCurrentKeyId()).toBe('next');
    expect(await t.manager.listActiveKeys()).toEqual(['ts-2025-10-A', 'next']);
  });

  it('refuses a key set that would push the keyring past 8,000 characters, writing nothing', async () => {
    let prepared = 0;
    let error: unknown;
    for (; prepared < 100 && error === undefined; prepared++) {
      error = await t.engine.mutate({ operation: 'prepare', kid: `key-${prepared}` }).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(error).toMatchObject({
      code: 'keyring_too_large',
      message: expect.stringMatching(/remove retired key sets first/),
    });
    expect(prepared).toBeGreaterThan(15); // room for a realistic number of keys
    expect((t.store.items.get('keyring') ?? '').length).toBeLessThanOrEqual(8000);
    expect(t.store.secrets.has(`key-${prepared - 1}`)).toBe(false);
    expectConsistent(t.store);
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    await t.manager.rotateKey('v1');
    const before = snapshot(t.store);
    await expect(t.engine.mutate({ operation: 'rotate', ifMatch: 0 })).rejects.toMatchObject({
      code: 'keyring_version_mismatch',
    });
    expect(snapshot(t.store)).toBe(before);
    await t.engine.mutate({ operation: 'rotate', ifMatch: 1 });
  });
});

describe('failure in each write, in turn', () => {
  const operations: Array<{
    name: string;
    request: MutationRequest;
    prepare?: (m: KeyRotationManager) => Promise<unknown>;
  }> = [
    { name: 'rotate', request: { operation: 'rotate' } },
    { name: 'prepare', request: { operation: 'prepare', kid: 'fresh' } },
    {
      name: 'activate',
      request: { operation: 'activate', id: 'spare' },
      prepare: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
    },
    {
      name: 'deactivate',
      request: { operation: 'deactivate', id: 'spare' },
      prepare: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
    },
    {
      name: 'remove',
      request: { operation: 'remove', id: 'spare' },
      prepare: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
    },
  ];
  const writes: Call[] = ['createSecret', 'patchConfigItems', 'deleteSecret'];

  for (const { name, request, prepare } of operations) {
    for (const call of writes) {
      for (const mode of ['before', 'after', 'partial'] as const) {
        it(`${name}: ${call} failing ${mode} it applies leaves the stores consistent and says what committed`, async () => {
          const t = setup(trustedServerStore());
          await prepare?.(t.manager);
          // A dry run on a copy tells whether this operation makes the call at all, and the bulk size.
          const dry = setup(cloneStore(t.store));
          await dry.engine.mutate(request);
          if (!dry.store.calls.includes(call)) return;
          const bulkSize = dry.store.patchSizes[0] ?? 0;
          // `partial`: every proper prefix of the bulk update, as a non-atomic bulk could leave it.
          const prefixes =
            mode === 'partial'
              ? Array.from({ length: Math.max(0, bulkSize - 1) }, (_, i) => i + 1)
              : [0];
          for (const applied of prefixes) {
            const run = setup(cloneStore(t.store));
            const before = snapshot(run.store);
            run.store.fail({ call, mode, applied });
            let error: unknown;
            try {
              await run.engine.mutate(request);
            } catch (err) {
              error = err;
            }
            const details =
              (error as { details?: Record<string, unknown> } | undefined)?.details ?? {};
            const kept = [details['kept_secret'], details['orphaned_secret']].filter(
              (v): v is string => typeof v === 'string',
            );
            expectConsistent(run.store, kept);
            if (error === undefined) {
              // Success only when the new keyring landed (the answer was lost, or a partial bulk
              // stopped after it and the rest was completed): then the stores equal a clean run's.
              expect(call).toBe('patchConfigItems');
              expect(mode).not.toBe('before');
              expect(snapshot(run.store)).toBe(snapshot(dry.store));
            } else if (details['committed'] === true) {
              expect(call).toBe('deleteSecret');
              expect(String((error as Error).message)).toMatch(/run remove again/);
            } else {
              expect(details['committed'] ?? false).toBe(false);
              if (kept.length === 0) expect(snapshot(run.store)).toBe(before);
            }
          }
        });
      }
    }
  }

  it('remove finishes an interrupted remove by deleting the orphaned private key', async () => {
    const t = setup(trustedServerStore());
    await t.manager.rotateKey('spare');
    await t.manager.rotateKey('third');
    t.store.fail({ call: 'deleteSecret', mode: 'before' });
    await expect(t.manager.deleteKey('spare')).rejects.toMatchObject({
      details: { committed: true, orphaned_secret: 'spare' },
    });
    expect(t.store.secrets.has('spare')).toBe(true);
    const again = await t.engine.mutate({ operation: 'remove', id: 'spare' });
    expect(again.deletedOrphanSecret).toBe('spare');
    expect(t.store.secrets.has('spare')).toBe(false);
    expectConsistent(t.store);
  });

  it('keeps the new private key when the config cannot be restored, and says so', async () => {
    const t = setup(trustedServerStore());
    t.store
      .fail({ call: 'patchConfigItems', nth: 1, mode: 'partial', applied: 2 })
      .fail({ call: 'patchConfigItems', nth: 2, mode: 'before' });
    const error = await t.manager.rotateKey('fresh').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'upstream_failed',
      details: { committed: false, config_restored: false, kept_secret: 'fresh' },
    });
    expect(t.store.secrets.has('fresh')).toBe(true);
    expectConsistent(t.store, ['fresh']);
  });
});

function cloneStore(store: FakeKeyStore): FakeKeyStore {
  const copy = new FakeKeyStore();
  for (const [k, v] of store.items) copy.items.set(k, v);
  for (const [k, v] of store.secrets) copy.secrets.set(k, v);
  return copy;
}
