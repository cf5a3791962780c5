import { beforeEach, describe, expect, it } from 'vitest';
import { KeyringEngine, type MutationRequest } from '../../src/core/keyring/engine.js';
import { parseKeyring } from '../../src/core/keyring/document.js';
import { KeyRotationManager } from '../../src/core/keyring/rotation-manager.js';
import { expectConsistent, expectSafe, snapshot } from '../support/consistency.js';
import { counterRandom, FakeKeyStore, manualClock, type Call } from '../support/fake-key-store.js';
import {
  DEV_JWK,
  DEV_KID,
  DEV_SEED,
  engineOver,
  trustedServerStore,
} from '../support/engine-setup.js';
import { FakeLeaseStore } from '../support/fake-lease-store.js';
import { parseLockRecord } from '../../src/core/keyring/journal.js';
import { claimKey, KvLease, LATE_WRITE_BOUND_MS } from '../../src/core/keyring/lease.js';
import { findKeyset } from '../../src/core/keyring/transitions.js';
import { dateKid } from '../../src/core/keys/kid.js';

function setup(store = new FakeKeyStore()) {
  const t = engineOver(store);
  return { ...t, manager: new KeyRotationManager(t.engine) };
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

const operations: Array<{
  name: string;
  request: MutationRequest;
  arrange?: (m: KeyRotationManager) => Promise<unknown>;
}> = [
  { name: 'rotate', request: { operation: 'rotate' } },
  { name: 'prepare', request: { operation: 'prepare', kid: 'fresh' } },
  {
    name: 'activate',
    request: { operation: 'activate', id: 'spare' },
    arrange: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
  },
  {
    name: 'deactivate',
    request: { operation: 'deactivate', id: 'spare' },
    arrange: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
  },
  {
    name: 'remove',
    request: { operation: 'remove', id: 'spare' },
    arrange: (m) => m.rotateKey('spare').then(() => m.rotateKey('third')),
  },
];
const writes: Call[] = ['createSecret', 'patchConfigItems', 'deleteSecret'];

/** A store arranged for the operation, under a lease, and what a clean run of it leaves. */
async function arranged(op: (typeof operations)[number]) {
  const t = setup(trustedServerStore());
  await op.arrange?.(t.manager);
  const clean = locked(cloneStore(t.store));
  await clean.engine.mutate(op.request);
  return { start: t.store, clean: clean.store };
}

// A dry run of each operation, made before the suite is collected.
const cleanRuns = await Promise.all(operations.map(arranged));

describe('failure in each write, in turn', () => {
  // Only the cases that apply are generated: a dry run tells which writes an operation makes,
  // and how large its bulk update is (every proper prefix of it is a `partial` case).
  operations.forEach((op, index) => {
    const clean = cleanRuns[index]?.clean ?? new FakeKeyStore();
    const bulkSize = clean.patchSizes[0] ?? 0;
    for (const call of writes.filter((c) => clean.calls.includes(c))) {
      const cases: Array<{ mode: 'before' | 'after' | 'partial'; applied?: number }> = [
        { mode: 'before' },
        { mode: 'after' },
        ...(call === 'patchConfigItems'
          ? Array.from({ length: bulkSize - 1 }, (_, i) => ({
              mode: 'partial' as const,
              applied: i + 1,
            }))
          : []),
      ];
      for (const fault of cases) {
        const label =
          fault.mode === 'partial'
            ? `partial (${fault.applied} of ${bulkSize})`
            : fault.mode === 'before'
              ? 'refused'
              : 'answer lost';
        it(`${op.name}: ${call} ${label}: the stores stay consistent, the answer says what happened, and the journal settles the rest`, async () => {
          const { start, clean: cleanRun } = await arranged(op);
          const run = locked(cloneStore(start));
          const before = snapshot(run.store);
          run.store.fail({ call, ...fault });
          const error = await run.engine.mutate(op.request).then(
            () => undefined,
            (e: unknown) => e,
          );
          const details =
            (error as { details?: Record<string, unknown> } | undefined)?.details ?? {};
          const pending = parsePending(run.leases, run.store);
          const journal = [pending?.create_secret, pending?.delete_secret].filter(
            (v): v is string => v !== undefined,
          );
          if (pending) expectSafe(run.store, journal, pending.delete_secret);
          else expectConsistent(run.store);
          if (error === undefined) {
            // Success only when the new keyring is in the store (the answer was lost, or a
            // partial bulk stopped after it and the rest was completed).
            expect(call).toBe('patchConfigItems');
            expect(snapshot(run.store)).toBe(snapshot(cleanRun));
          } else if (details['outcome'] === 'not_committed' && pending) {
            // A remove whose update was refused after its private key was deleted: the keyring
            // is as it was, and the claim keeps the removal for the next operation to complete.
            expect(op.name).toBe('remove');
            expect(fault.mode).toBe('before');
            expect(pending.delete_secret).toBe('spare');
            expect(run.store.items.get('keyring')).toBe(start.items.get('keyring'));
          } else if (details['outcome'] === 'not_committed') {
            expect(fault.mode).toBe('before');
            expect(snapshot(run.store)).toBe(before);
          } else {
            expect(details['outcome']).toBe('unknown');
            expect(fault.mode).not.toBe('before');
            expect(pending, 'an unknown outcome keeps its intent').toBeDefined();
          }
          // Whatever happened, once no late write can land the next operation settles it: the
          // stores are then as a clean run or as before, never in between.
          run.clock.advance(LATE_WRITE_BOUND_MS + 1);
          await run.engine.repair();
          expect(parsePending(run.leases, run.store), 'nothing is left to settle').toBeUndefined();
          expect([before, snapshot(cleanRun)]).toContain(snapshot(run.store));
          expectConsistent(run.store);
        });
      }
    }
  });

  it('remove deletes a private key an earlier, pre-journal remove left behind', async () => {
    const t = setup(trustedServerStore());
    await t.manager.rotateKey('spare');
    await t.manager.rotateKey('third');
    await t.manager.deleteKey('spare');
    // What a release that unpublished first and deleted the private key second could leave.
    t.store.secrets.set('spare', DEV_SEED);
    const again = await t.engine.mutate({ operation: 'remove', id: 'spare' });
    expect(again.deletedOrphanSecret).toBe('spare');
    expect(t.store.secrets.has('spare')).toBe(false);
    expectConsistent(t.store);
  });

  it('refuses to delete, as an orphan, a private key Trusted Server still publishes behind the keyring', async () => {
    const t = setup(trustedServerStore());
    await t.manager.rotateKey('ours');
    // Trusted Server's own rotate: a key and its items, no keyring entry.
    t.store.secrets.set('ts-own', DEV_SEED);
    t.store.items.set('ts-own', DEV_JWK.replace('ts-2025-10-A', 'ts-own'));
    t.store.items.set('active-kids', 'ts-2025-10-A,ours,ts-own');
    t.store.items.set('current-kid', 'ts-own');
    const before = snapshot(t.store);
    // The drift is folded first: Trusted Server signs with ts-own, so it is the ACTIVE key set.
    await expect(t.engine.mutate({ operation: 'remove', id: 'ts-own' })).rejects.toMatchObject({
      code: 'invalid_transition',
      message: 'cannot remove active key set',
    });
    expect(snapshot(t.store)).toBe(before);
    expect(t.store.secrets.has('ts-own')).toBe(true);
  });

  it('never deletes the new private key while a config update that names it may still land', async () => {
    const run = locked(trustedServerStore());
    run.store.fail({ call: 'patchConfigItems', mode: 'partial', applied: 2 });
    const error = await run.manager.rotateKey('fresh').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'outcome_unknown',
      message: expect.stringMatching(/outcome of this rotate is unknown/),
      details: { outcome: 'unknown', created_secret: 'fresh', keyring_version_if_committed: 1 },
    });
    expect(run.store.secrets.has('fresh')).toBe(true);
    // Until the bound, the deployment is refused rather than settled by guesswork.
    await expect(run.manager.rotateKey('other')).rejects.toMatchObject({
      code: 'operation_in_progress',
      details: { pending_intent: { create_secret: 'fresh' } },
    });
    run.clock.advance(LATE_WRITE_BOUND_MS + 1);
    const next = await run.manager.rotateKey('other');
    expect(next.result.settled).toMatch(
      /rotate .* had not committed; 2 config item\(s\) restored, deleted private key fresh/,
    );
    expect(run.store.secrets.has('fresh')).toBe(false);
    expectConsistent(run.store);
  });
});

/** An engine over `store` guarded by a lease in a fake KV, with the clock it uses. */
function locked(store: FakeKeyStore) {
  const clock = manualClock();
  const leases = new FakeLeaseStore();
  const engine = new KeyringEngine({
    api: store,
    clock,
    random: counterRandom(),
    deployment: 'default',
    keyLifetimeDays: 90,
    guard: new KvLease(leases, clock, { holder: 'test', requestId: 'r1' }),
  });
  return { store, clock, leases, engine, manager: new KeyRotationManager(engine) };
}

/** The intent of the claim on the version after the stored keyring's: the journal, if any. */
function parsePending(leases: FakeLeaseStore, store: FakeKeyStore) {
  const text = store.items.get('keyring');
  const version = text === undefined ? 0 : parseKeyring(text).version;
  const entry = leases.entries.get(claimKey('default', version + 1));
  return entry ? (parseLockRecord(entry.value)?.intent ?? undefined) : undefined;
}

function cloneStore(store: FakeKeyStore): FakeKeyStore {
  const copy = new FakeKeyStore();
  for (const [k, v] of store.items) copy.items.set(k, v);
  for (const [k, v] of store.secrets) copy.secrets.set(k, v);
  return copy;
}

describe('reading the secret names only when they can change the outcome', () => {
  /** An engine that reads the private keys as the edge does, over a store with a keyring. */
  async function withKeyring() {
    const t = engineOver(trustedServerStore(), { edgeKeys: true });
    await t.engine.mutate({ operation: 'adopt' });
    t.store.calls.length = 0;
    return t;
  }

  it('reads only the config items for a change when nothing drifted', async () => {
    const t = await withKeyring();
    await t.engine.mutate({ operation: 'prepare', kid: 'next' });
    expect(t.store.calls.filter((c) => c === 'readConfigItems' || c === 'listSecretNames')).toEqual(
      ['readConfigItems'],
    );
  });

  it('lists them when Trusted Server changed the items, and flags a kid brought in without a key', async () => {
    const t = await withKeyring();
    // Trusted Server's rotate, half done: the JWK and active-kids, no private key.
    t.store.items.set('ts-half', DEV_JWK.replace(DEV_KID, 'ts-half'));
    t.store.items.set('active-kids', `${DEV_KID},ts-half`);
    const result = await t.engine.mutate({ operation: 'prepare', kid: 'next' });
    expect(t.store.calls).toContain('listSecretNames');
    expect(findKeyset(result.after, 'ts-half')).toMatchObject({
      state: 'DEACTIVATED',
      unusable: { code: 'key_material_missing' },
    });
  });

  it('keeps a key set flagged for a missing private key when a later change does not list them', async () => {
    const t = await withKeyring();
    t.store.items.set('ts-half', DEV_JWK.replace(DEV_KID, 'ts-half'));
    t.store.items.set('active-kids', `${DEV_KID},ts-half`);
    await t.engine.mutate({ operation: 'prepare', kid: 'next' });
    t.store.calls.length = 0;
    const later = await t.engine.mutate({ operation: 'prepare', kid: 'later' });
    expect(t.store.calls).not.toContain('listSecretNames');
    expect(findKeyset(later.after, 'ts-half').unusable?.code).toBe('key_material_missing');
  });

  it('does not pick a kid whose private key exists unlisted (an orphan), read as the edge reads it', async () => {
    const t = await withKeyring();
    const dated = dateKid(t.clock.now());
    t.store.secrets.set(dated, DEV_SEED); // an orphan under today's kid
    const result = await t.engine.mutate({ operation: 'prepare' });
    expect(result.keyset?.id).not.toBe(dated);
    expect(result.keyset?.id.startsWith(dated)).toBe(true);
    expect(t.store.secrets.get(dated)).toBe(DEV_SEED);
    await expect(t.engine.mutate({ operation: 'prepare', kid: dated })).rejects.toMatchObject({
      code: 'kid_exists',
      message: expect.stringContaining('a private key by that name exists'),
    });
  });

  it('refuses to activate a key set whose private key is gone, naming it missing after listing them', async () => {
    const t = await withKeyring();
    await t.engine.mutate({ operation: 'prepare', kid: 'next' });
    t.store.secrets.delete('next');
    t.store.calls.length = 0;
    await expect(t.engine.mutate({ operation: 'activate', id: 'next' })).rejects.toMatchObject({
      code: 'key_material_missing',
    });
    expect(t.store.calls).toContain('listSecretNames');
  });
});

describe('items a stopped bulk left behind', () => {
  it('neither folds back a removed kid whose JWK item was left nor keeps the item past the next commit', async () => {
    const t = engineOver(trustedServerStore(), { edgeKeys: true });
    await t.engine.mutate({ operation: 'prepare', kid: 'gone' });
    await t.engine.mutate({ operation: 'taint', id: 'gone' });
    const jwk = t.store.items.get('gone') ?? '';
    await t.engine.mutate({ operation: 'remove', id: 'gone' });
    // What a bulk that stopped before its deletions leaves: the removed kid's JWK item.
    t.store.items.set('gone', jwk);
    const next = await t.engine.mutate({ operation: 'prepare', kid: 'after' });
    expect(next.after.keysets.map((k) => k.id)).not.toContain('gone');
    expect(t.store.items.has('gone')).toBe(false);
    expectConsistent(t.store);
  });

  it('adopt rewrites the key documents a bulk that stopped after the keyring did not write', async () => {
    const t = engineOver(trustedServerStore(), { edgeKeys: true });
    const before = await t.engine.mutate({ operation: 'prepare', kid: 'one' });
    const stale = t.store.items.get('jwks-document');
    await t.engine.mutate({ operation: 'prepare', kid: 'two' });
    t.store.items.set('jwks-document', stale ?? '');
    const adopted = await t.engine.mutate({ operation: 'adopt' });
    expect(adopted.after.version).toBe(before.after.version + 2);
    expect(t.store.items.get('jwks-document')).toContain('two');
    expectConsistent(t.store);
  });
});

describe('a keyring that went back to an earlier version', () => {
  it('goes on from the stored documents’ version when the keyring item was deleted, settling no old claim', async () => {
    const run = locked(trustedServerStore());
    await run.manager.rotateKey('first');
    await run.manager.rotateKey('second');
    run.clock.advance(LATE_WRITE_BOUND_MS * 3);
    // The keyring item deleted by hand: the next change adopts Trusted Server's items, at the
    // version of the stored documents (2), not at 0, whose next claim is the first rotate's.
    run.store.items.delete('keyring');
    const settled: string[] = [];
    const settle = run.engine.settle.bind(run.engine);
    run.engine.settle = async (intent) => {
      settled.push(intent.operation);
      return settle(intent);
    };
    const next = await run.manager.rotateKey('third');
    expect(settled).toEqual([]);
    expect(next.result.after.version).toBe(3);
    expect([...run.store.secrets.keys()].sort()).toEqual(
      ['first', 'second', 'third', DEV_KID].sort(),
    );
    expect(run.store.items.get('current-kid')).toBe('third');
    expectConsistent(run.store);
  });
});
