// The endorsed key log (docs/key-log.md) as the engine writes it: the root, endorsements by the
// ACTIVE key in the same bulk as the key, checkpoints that keep the item bounded, adopt <kid>, and
// what is never endorsed (a key written straight into the stores).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyring, serializeKeyring, type Keyring } from '../../src/core/keyring/document.js';
import {
  endorsedKeys,
  isKeyLog,
  keyFingerprint,
  keyLogProblem,
  MAX_LOG_ENTRIES,
  parseKeyLog,
  serializeKeyLog,
  startKeyLog,
  unendorsedKids,
  type KeyLog,
} from '../../src/core/keyring/key-log.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import type { SchedulePolicy } from '../../src/core/schedule/policy.js';
import { runSchedule } from '../../src/core/schedule/run.js';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { FakeKeyStore } from '../support/fake-key-store.js';
import { DEV_JWK, DEV_KID, engineOver, trustedServerStore } from '../support/engine-setup.js';
import { expectConsistent } from '../support/consistency.js';
import { checkKeyLog } from '../support/crash-model.js';

const setup = (store = new FakeKeyStore()) => engineOver(store, { edgeKeys: true });

function logOf(store: FakeKeyStore): KeyLog {
  const log = parseKeyLog(store.items.get('key-log'));
  if (log === null || !isKeyLog(log)) throw new Error('no readable key log');
  return log;
}

function keyringOf(store: FakeKeyStore): Keyring {
  return parseKeyring(store.items.get('keyring') ?? '');
}

/**
 * A rogue key written straight into the stores, as a stolen API token can (it can create a
 * secret, never read one); `withSecret: false` leaves its private key out.
 */
async function writeRogue(store: FakeKeyStore, kid: string, withSecret = true): Promise<void> {
  const seed = new Uint8Array(32).fill(7);
  if (withSecret) store.secrets.set(kid, Buffer.from(seed).toString('base64'));
  store.items.set(kid, JSON.stringify(publicJwk(kid, await publicKeyOf(seed))));
  store.items.set('active-kids', `${store.items.get('active-kids')},${kid}`);
}

describe('the key log', () => {
  it('makes the first key of a new deployment the root: self-endorsed, pinned by its fingerprint', async () => {
    const { store, engine } = setup();
    const result = await engine.mutate({ operation: 'rotate' });
    const kid = result.keyset?.id ?? '';
    const log = logOf(store);
    expect(log).toMatchObject({ format: 'trusted-server-keys/key-log', version: 1 });
    expect(log.root).toMatchObject({ seq: 0, kid, endorser: kid, prev: '' });
    expect(log.entries).toEqual([]);
    // Computed independently: base64url SHA-256 of the raw 32-byte public key.
    const raw = Buffer.from(result.keyset?.jwk.x ?? '', 'base64url');
    expect(raw).toHaveLength(32);
    expect(log.root_fingerprint).toBe(createHash('sha256').update(raw).digest('base64url'));
    const keyring = keyringOf(store);
    expect(keyring.key_log).toEqual({ root_kid: kid, root_fingerprint: log.root_fingerprint });
    expect(keyring.keysets[0]?.endorsed_at).toBeDefined();
    expect(await keyLogProblem(log)).toBeNull();
  });

  it('starts the log of a deployment that predates it from its ACTIVE key, which endorses the new one', async () => {
    const { store, engine } = setup(trustedServerStore());
    const result = await engine.mutate({ operation: 'prepare' });
    const log = logOf(store);
    expect(log.root.kid).toBe(DEV_KID);
    expect(log.entries).toHaveLength(1);
    expect(log.entries[0]).toMatchObject({ seq: 1, kid: result.keyset?.id, endorser: DEV_KID });
    expect(result.warnings).toEqual([]);
    expect(await keyLogProblem(log)).toBeNull();
    // The discovery document stored with the commit names the root and no unendorsed kid.
    const discovery = store.items.get('discovery-document') ?? '';
    const body = JSON.parse(discovery.slice(discovery.indexOf('\n', discovery.indexOf('\n') + 1)));
    expect(body).toMatchObject({
      key_log: { root_kid: DEV_KID, root_fingerprint: log.root_fingerprint },
      unendorsed_kids: [],
    });
  });

  it('is written by the same bulk update as the key, before the key is published', async () => {
    const store = trustedServerStore();
    const bulks: string[][] = [];
    const patch = store.patchConfigItems.bind(store);
    store.patchConfigItems = (ops) => {
      bulks.push(ops.map((op) => op.key));
      return patch(ops);
    };
    const { engine } = setup(store);
    await engine.mutate({ operation: 'prepare' });
    expect(bulks).toHaveLength(1);
    expect(bulks[0]?.[0]).toBe('key-log');
    expect(bulks[0]).toContain('keyring');
  });

  it('holds its invariants after every prefix of the bulk update (a bulk Fastly applies in part)', async () => {
    for (const operation of ['prepare', 'rotate'] as const) {
      const { store, engine } = setup(trustedServerStore());
      await engine.mutate({ operation: 'prepare', kid: 'first' });
      const planned = await engine.mutate({ operation, kid: 'second', dryRun: true });
      const ops = planned.plan?.configOps ?? [];
      expect(ops.map((op) => op.key)).toContain('key-log');
      // The journal's keyring: the one an unsettled intent would hold while the bulk lands.
      const pending = serializeKeyring(planned.after);
      for (let n = 0; n <= ops.length; n++) {
        const items = new Map(store.items);
        for (const op of ops.slice(0, n)) {
          if (op.op === 'delete') items.delete(op.key);
          else items.set(op.key, op.value);
        }
        checkKeyLog(
          items,
          n < ops.length ? pending : undefined,
          `${operation}, ${n} of ${ops.length} applied`,
        );
      }
    }
  });

  it('does not endorse a key written straight into the stores, nor a fold of it', async () => {
    const { store, engine } = setup(trustedServerStore());
    await engine.mutate({ operation: 'prepare' });
    await writeRogue(store, 'rogue');
    // A change folds the drift into the keyring: the rogue key is kept, unendorsed.
    await engine.mutate({ operation: 'adopt' });
    const keyring = keyringOf(store);
    const rogue = keyring.keysets.find((k) => k.id === 'rogue');
    expect(rogue?.state).toBe('PREPARED');
    expect(rogue?.endorsed_at).toBeUndefined();
    expect(endorsedKeys(logOf(store)).has('rogue')).toBe(false);
    expect(unendorsedKids(logOf(store), keyring.keysets)).toEqual(['rogue']);
    const discovery = store.items.get('discovery-document') ?? '';
    expect(discovery).toContain('"unendorsed_kids":["rogue"]');
  });

  it('reports a log replaced whole (another root that vouches for a rogue key), and a log removed', async () => {
    const { store, engine } = setup(trustedServerStore());
    await engine.mutate({ operation: 'prepare' });
    const root = logOf(store).root_fingerprint;
    expect((await engine.diagnose()).findings.map((f) => f.code)).not.toContain('key_log_invalid');
    // A stolen API token writes a rogue key and a log of its own that verifies on its own: rooted
    // at the rogue key, so it "endorses" it. The keyring names the root the service started with.
    await writeRogue(store, 'rogue');
    const rogueLog = await startKeyLog(
      'default',
      { kid: 'rogue', seed: new Uint8Array(32).fill(7) },
      '2026-11-22T09:00:00.000Z',
    );
    expect(await keyLogProblem(rogueLog)).toBeNull();
    store.items.set('key-log', serializeKeyLog(rogueLog));
    const replaced = (await engine.diagnose()).findings.find((f) => f.code === 'key_log_invalid');
    expect(replaced?.message).toContain(`is not the root the keyring records (${root})`);
    // And one who deletes the log does not make the deployment look as if it never had one.
    store.items.delete('key-log');
    const removed = (await engine.diagnose()).findings.find((f) => f.code === 'key_log_invalid');
    expect(removed?.message).toContain(
      `the key-log item is gone, though the keyring records the root ${root}`,
    );
  });

  it('adopt <kid> endorses a published key that can sign, with the key the log vouches for', async () => {
    const { store, engine } = setup(trustedServerStore());
    await engine.mutate({ operation: 'prepare' });
    // Trusted Server's own rotate: a key with its private key, made current behind our back.
    const seed = new Uint8Array(32).fill(9);
    store.secrets.set('ts-own', Buffer.from(seed).toString('base64'));
    store.items.set('ts-own', JSON.stringify(publicJwk('ts-own', await publicKeyOf(seed))));
    store.items.set('active-kids', `${store.items.get('active-kids')},ts-own`);
    store.items.set('current-kid', 'ts-own');
    const result = await engine.mutate({ operation: 'adopt', kid: 'ts-own' });
    const log = logOf(store);
    const entry = log.entries.find((e) => e.kid === 'ts-own');
    // ts-own is ACTIVE now and unendorsed: the newest key set the log vouches for endorses it.
    expect(entry?.endorser).not.toBe('ts-own');
    expect(endorsedKeys(log).has(entry?.endorser ?? '')).toBe(true);
    expect(result.after.keysets.find((k) => k.id === 'ts-own')?.endorsed_at).toBeDefined();
    expect(await keyLogProblem(log)).toBeNull();
    // Adopting it again changes nothing.
    const again = await engine.mutate({ operation: 'adopt', kid: 'ts-own' });
    expect(again.after.version).toBe(again.before.version);
  });

  it('adopt <kid> refuses a key set that is not published or cannot sign (409 codes)', async () => {
    const { store, engine } = setup(trustedServerStore());
    const prepared = await engine.mutate({ operation: 'prepare' });
    const id = prepared.keyset?.id ?? '';
    await engine.mutate({ operation: 'deactivate', id });
    await expect(engine.mutate({ operation: 'adopt', kid: id })).rejects.toMatchObject({
      code: 'keyset_not_published',
    });
    await writeRogue(store, 'rogue', false);
    // Made current, it stays published though it has no private key: nothing can sign with it.
    store.items.set('current-kid', 'rogue');
    await expect(engine.mutate({ operation: 'adopt', kid: 'rogue' })).rejects.toMatchObject({
      code: 'key_material_missing',
    });
    expect(endorsedKeys(logOf(store)).has('rogue')).toBe(false);
  });

  it('never extends a log that does not verify: prepare warns, adopt <kid> refuses', async () => {
    const { store, engine } = setup(trustedServerStore());
    await engine.mutate({ operation: 'prepare' });
    const log = logOf(store);
    const forged = {
      ...log,
      entries: log.entries.map((e) => ({ ...e, x: DEV_JWK.slice(30, 73) })),
    };
    store.items.set('key-log', JSON.stringify(forged));
    const result = await engine.mutate({ operation: 'prepare', kid: 'next-one' });
    expect(result.warnings.join(' ')).toMatch(/next-one is published without an endorsement/);
    expect(store.items.get('key-log')).toBe(JSON.stringify(forged));
    expect(result.after.keysets.find((k) => k.id === 'next-one')?.endorsed_at).toBeUndefined();
    await expect(engine.mutate({ operation: 'adopt', kid: 'next-one' })).rejects.toMatchObject({
      code: 'key_log_invalid',
    });
  });

  it('survives three years of daily schedule runs: every key it prepares is endorsed, removed ones fold away', async () => {
    const { store, engine, clock } = setup(trustedServerStore());
    const DAY = 86_400_000;
    const policy: SchedulePolicy = {
      lifetimeMs: 90 * DAY,
      prepareBeforeMs: 7 * DAY,
      activateBeforeMs: 5 * DAY,
      dwellMs: 60_000,
      taintAfterMs: 2 * DAY,
      removeAfterMs: 4 * DAY,
      removeRetired: true,
    };
    const operations = new Set<string>();
    for (let day = 0; day < 1200; day++) {
      const run = await runSchedule({ engine, policy, now: () => clock.now() });
      for (const step of run.applied) operations.add(step.operation);
      expect(run.applied.flatMap((s) => s.warnings)).toEqual([]);
      clock.advance(DAY);
    }
    expect([...operations].sort()).toEqual(
      expect.arrayContaining(['activate', 'prepare', 'remove']),
    );
    const log = logOf(store);
    expect(log.root.kid).toBe(DEV_KID);
    expect(log.checkpoint).not.toBeNull();
    expect(await keyLogProblem(log)).toBeNull();
    const keyring = keyringOf(store);
    expect(
      unendorsedKids(
        log,
        keyring.keysets.filter((k) => k.state !== 'DEACTIVATED'),
      ),
    ).toEqual([]);
    expect((store.items.get('key-log') ?? '').length).toBeLessThanOrEqual(8000);
  });

  it('stays bounded and verifiable over 100 rotations with removals, folding into checkpoints', async () => {
    const { store, engine, clock } = setup();
    let maxChars = 0;
    for (let i = 0; i < 100; i++) {
      await engine.mutate({ operation: 'rotate' });
      // Keep the previous key published; deactivate and remove the ones before it.
      const keyring = keyringOf(store);
      const old = keyring.keysets.filter((k) => k.state === 'PREPARED').slice(0, -1);
      for (const k of old) {
        await engine.mutate({ operation: 'deactivate', id: k.id });
        await engine.mutate({ operation: 'remove', id: k.id });
      }
      maxChars = Math.max(maxChars, (store.items.get('key-log') ?? '').length);
      clock.advance(86_400_000);
    }
    const text = store.items.get('key-log') ?? '';
    const log = logOf(store);
    expect(text.length).toBeLessThanOrEqual(8000);
    expect(maxChars).toBeLessThanOrEqual(8000);
    expect(log.entries.length).toBeLessThanOrEqual(MAX_LOG_ENTRIES);
    expect(log.checkpoint?.seq).toBeGreaterThan(80);
    expect(log.entries.at(-1)?.seq).toBe(99);
    expect(await keyLogProblem(log)).toBeNull();
    const keyring = keyringOf(store);
    expect(unendorsedKids(log, keyring.keysets)).toEqual([]);
    expect(log.root_fingerprint).toBe(await keyFingerprint(log.root.x));
    expectConsistent(store);
    console.log(
      `key log after 100 rotations: ${text.length} characters (largest ${maxChars}); ${log.entries.length} entries after a checkpoint vouching for ${log.checkpoint?.keys.length} keys`,
    );
  });
});
