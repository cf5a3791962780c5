import { describe, expect, it } from 'vitest';
import { KeyringEngine } from '../../src/core/keyring/engine.js';
import { TskError } from '../../src/core/errors.js';
import { parseLockRecord, type IntentBody } from '../../src/core/keyring/journal.js';
import { parseSettings } from '../../src/core/settings.js';
import {
  claimKey,
  KvLease,
  LATE_WRITE_BOUND_MS,
  legacyLockKey,
  OPERATION_BOUND_MS,
} from '../../src/core/keyring/lease.js';
import { counterRandom, FakeKeyStore, manualClock } from '../support/fake-key-store.js';
import { FakeLeaseStore } from '../support/fake-lease-store.js';

const alice = { holder: 'alice', requestId: 'r1' };
const bob = { holder: 'bob', requestId: 'r2' };
const noSettle = async (): Promise<string> => {
  throw new Error('nothing should be settled here');
};

function record(store: FakeLeaseStore, key = 'default@4') {
  const entry = store.entries.get(key);
  return entry ? parseLockRecord(entry.value) : null;
}

const INTENT: IntentBody = {
  operation: 'rotate',
  recorded_at: '2026-11-22T09:00:00.000Z',
  before_version: 3,
  keyring: '{"schema":1}',
  restore: { keyring: null },
  create_secret: 'ts-2026-11-22',
};

/** Claims version 4 (the one INTENT, read at version 3, commits) and expects to get it. */
async function claimed(
  lease: KvLease,
  deployment = 'default',
  operation: 'rotate' | 'taint' = 'rotate',
) {
  const outcome = await lease.claim(deployment, 4, operation, INTENT, noSettle);
  if (!('claim' in outcome)) throw new Error('expected a claim');
  return outcome.claim;
}

describe('KvLease: claims on keyring versions', () => {
  it('lets one operation claim a version and refuses a second at once, naming the holder', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await claimed(new KvLease(store, clock, alice));
    expect([...store.entries.keys()]).toEqual([claimKey('default', 4)]);
    expect(record(store)).toMatchObject({
      lease: { holder: 'alice', operation: 'rotate' },
      intent: { ...INTENT, request_id: 'r1', holder: 'alice' },
    });
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'taint', INTENT, noSettle),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      message: expect.stringContaining('rotate by alice since 2026-11-22T09:00:00.000Z'),
      details: { lease: { operation: 'rotate', holder: 'alice', request_id: 'r1' } },
    });
    // Refused before any store write: alice gives the version back, and bob gets it.
    await held.free();
    expect(store.entries.size).toBe(0);
    await claimed(new KvLease(store, clock, bob), 'default', 'taint');
    expect(record(store)?.lease).toMatchObject({ holder: 'bob', operation: 'taint' });
  });

  it('needs no write after a commit: the next operation claims the next version', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await claimed(new KvLease(store, clock, alice)); // committed version 4; the claim is history
    const next = await new KvLease(store, clock, bob).claim(
      'default',
      5,
      'taint',
      { ...INTENT, before_version: 4 },
      noSettle,
    );
    expect('claim' in next).toBe(true);
    expect([...store.entries.keys()].sort()).toEqual(['default@4', 'default@5']);
  });

  it('never blocks another deployment', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await claimed(new KvLease(store, clock, alice));
    await claimed(new KvLease(store, clock, bob), 'staging');
    expect(record(store, 'staging@4')?.lease?.holder).toBe('bob');
    expect(record(store)?.lease?.holder).toBe('alice');
  });

  it('takes over a claim without an intent left by a dead operation only after the bound', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const dead = {
      lease: {
        operation: 'rotate',
        holder: 'alice',
        request_id: 'r1',
        started_at: new Date(clock.now()).toISOString(),
        expires_at: new Date(clock.now() + OPERATION_BOUND_MS).toISOString(),
      },
      intent: null,
    };
    await store.add('default@4', JSON.stringify(dead));
    clock.advance(OPERATION_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, noSettle),
    ).rejects.toMatchObject({ code: 'operation_in_progress' });
    clock.advance(2);
    await claimed(new KvLease(store, clock, bob));
    expect(record(store)?.lease?.holder).toBe('bob');
  });

  it('does not free a claim someone else has taken over', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const stale = await claimed(new KvLease(store, clock, alice));
    clock.advance(OPERATION_BOUND_MS + LATE_WRITE_BOUND_MS + 1);
    const settledByBob = await new KvLease(store, clock, bob).claim(
      'default',
      4,
      'rotate',
      INTENT,
      async () => 'settled r1',
    );
    expect(settledByBob).toEqual({ settled: 'settled r1' });
    await claimed(new KvLease(store, clock, bob));
    await expect(stale.free()).rejects.toMatchObject({ code: 'operation_in_progress' });
    expect(record(store)?.lease?.holder).toBe('bob');
  });

  it('refuses when two take over the same free claim and the other wins', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await store.add('default@4', JSON.stringify({ lease: null, intent: null }));
    // Bob reads the free record, but Carol replaces it before Bob's replace lands.
    const original = store.replace.bind(store);
    store.replace = async (key, value, generation) => {
      const carol = {
        lease: {
          operation: 'taint',
          holder: 'carol',
          request_id: 'r3',
          started_at: new Date(clock.now()).toISOString(),
          expires_at: new Date(clock.now() + OPERATION_BOUND_MS).toISOString(),
        },
        intent: null,
      };
      await original(key, JSON.stringify(carol), generation);
      return original(key, value, generation);
    };
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, noSettle),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      details: { lease: { holder: 'carol' } },
    });
  });

  it('replaces an unreadable claim record through compare-and-set, not by overwriting it', async () => {
    const store = new FakeLeaseStore();
    await store.add('default@4', 'garbage');
    const generation = store.entries.get('default@4')?.generation;
    const replace = store.replace.bind(store);
    const seen: string[] = [];
    store.replace = async (key, value, gen) => {
      seen.push(gen);
      return replace(key, value, gen);
    };
    await claimed(new KvLease(store, manualClock(), bob));
    expect(seen).toEqual([generation]);
    expect(record(store)?.lease?.holder).toBe('bob');
  });

  it('reads a lease in the earlier format (a bare lease) as a lease without an intent', () => {
    const bare = {
      operation: 'rotate',
      holder: 'alice',
      request_id: 'r1',
      started_at: '2026-11-22T09:00:00.000Z',
      expires_at: '2026-11-22T09:02:00.000Z',
    };
    expect(parseLockRecord(JSON.stringify(bare))).toEqual({ lease: bare, intent: null });
  });

  it('keeps generations past 2^53 exact', async () => {
    const store = new FakeLeaseStore();
    const held = await claimed(new KvLease(store, manualClock(), alice));
    const generation = store.entries.get('default@4')?.generation ?? '';
    expect(BigInt(generation) > 2n ** 53n).toBe(true);
    await held.free();
    expect(store.entries.size).toBe(0);
  });

  it('survives a stale read: a failed compare-and-set is retried while the record is still ours', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await claimed(new KvLease(store, clock, alice));
    const get = store.get.bind(store);
    let stale = 2;
    store.get = async (key) => {
      const entry = await get(key);
      // The first reads answer an older generation, as a lagging replica would.
      if (entry && stale-- > 0)
        return { ...entry, generation: (BigInt(entry.generation) - 1n).toString() };
      return entry;
    };
    await held.leave(clock.now());
    expect(record(store)).toMatchObject({
      lease: null,
      intent: { operation: 'rotate', request_id: 'r1', holder: 'alice' },
    });
  });

  it.each([
    [{}, 240],
    [{ operationMs: 5000 }, 125],
  ])(
    'says no key store was changed when the claim failed ambiguously (bounds %j)',
    async (bounds, seconds) => {
      const store = new FakeLeaseStore();
      const add = store.add.bind(store);
      store.add = async (key, value) => {
        await add(key, value); // the write lands ...
        throw new TskError('upstream_timeout', 'Fastly API did not answer'); // ... its answer does not
      };
      await expect(
        new KvLease(store, manualClock(), alice, bounds).claim(
          'default',
          4,
          'rotate',
          INTENT,
          noSettle,
        ),
      ).rejects.toMatchObject({
        code: 'upstream_timeout',
        // The bound in force, not a number written beside it.
        message: expect.stringMatching(
          new RegExp(
            `no key store was changed; if the claim was taken after all, the next change settles it after ${seconds} s$`,
          ),
        ),
        details: { committed: false, outcome: 'not_committed' },
      });
    },
  );
});

describe('the intent journal in the claim', () => {
  it('keeps a left intent, refuses others until it settles, then settles it and frees the version', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await claimed(new KvLease(store, clock, alice));
    const settlesAt = clock.now() + LATE_WRITE_BOUND_MS;
    await held.leave(settlesAt);
    expect(record(store)).toMatchObject({ lease: null, intent: { request_id: 'r1' } });

    clock.advance(LATE_WRITE_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'taint', INTENT, noSettle),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      message: expect.stringContaining('whose outcome is not settled'),
      details: {
        pending_intent: { request_id: 'r1' },
        settles_at: new Date(settlesAt).toISOString(),
      },
    });

    clock.advance(1);
    const settled: string[] = [];
    const outcome = await new KvLease(store, clock, bob).claim(
      'default',
      4,
      'taint',
      INTENT,
      async (i) => {
        // While settling, the record holds bob's lease and still the intent.
        expect(record(store)).toMatchObject({
          lease: { holder: 'bob' },
          intent: { request_id: 'r1' },
        });
        settled.push(i.request_id);
        return 'settled r1';
      },
    );
    expect(settled).toEqual(['r1']);
    // Settled: the stores changed, so the caller reads again; the version is free.
    expect(outcome).toEqual({ settled: 'settled r1' });
    expect(store.entries.size).toBe(0);
  });

  it('settles a dead operation’s intent only after its lease bound plus the late-write bound', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await claimed(new KvLease(store, clock, alice)); // and then the process dies
    clock.advance(OPERATION_BOUND_MS + LATE_WRITE_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, noSettle),
    ).rejects.toMatchObject({ code: 'operation_in_progress', details: { pending_intent: {} } });
    clock.advance(1);
    expect(
      await new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, async () => 'ok'),
    ).toEqual({ settled: 'ok' });
  });

  it('keeps the intent when settling fails, and gives the claim back', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await claimed(new KvLease(store, clock, alice));
    await held.leave(clock.now());
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, async () => {
        throw new TskError('upstream_failed', 'config read failed', { details: { status: 400 } });
      }),
    ).rejects.toMatchObject({
      code: 'upstream_failed',
      message: expect.stringContaining('could not be settled'),
      details: { outcome: 'not_committed', pending_intent: { request_id: 'r1' } },
    });
    // Refused: settleable again at once; the lease itself is free.
    expect(record(store)).toMatchObject({ lease: null, intent: { request_id: 'r1' } });
    expect(
      await new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, async () => 'ok'),
    ).toEqual({ settled: 'ok' });
  });

  it('waits out the late-write bound again when a settling write timed out', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await claimed(new KvLease(store, clock, alice));
    await held.leave(clock.now());
    await expect(
      new KvLease(store, clock, bob).claim('default', 4, 'rotate', INTENT, async () => {
        throw new TskError('upstream_timeout', 'restore timed out');
      }),
    ).rejects.toMatchObject({ code: 'upstream_timeout' });
    expect(record(store)?.settles_at).toBe(
      new Date(clock.now() + LATE_WRITE_BOUND_MS).toISOString(),
    );
  });

  it('repair settles an intent left in the single lock record of earlier releases', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const left = {
      lease: null,
      intent: { ...INTENT, request_id: 'r0', holder: 'alice' },
      settles_at: new Date(clock.now()).toISOString(),
    };
    await store.add(legacyLockKey('default'), JSON.stringify(left));
    const lease = new KvLease(store, clock, bob);
    expect(await lease.inspect('default', 4)).toMatchObject({ intent: { request_id: 'r0' } });
    // Planned from the keyring stored now (INTENT's restore says there was none): settled.
    expect(await lease.repair('default', 4, async (i) => `settled ${i.request_id}`, null)).toBe(
      'settled r0',
    );
    expect(store.entries.size).toBe(0);
    expect(await lease.inspect('default', 4)).toBeNull();
  });

  it('never settles a claim planned from another keyring (history from before the keyring went back)', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    // A committed rotate's claim from long ago, planned from a keyring that is not the stored one.
    const old = { ...INTENT, restore: { keyring: '{"version":3,"old":true}' } };
    await store.add(
      'default@4',
      JSON.stringify({ lease: null, intent: { ...old, request_id: 'r0', holder: 'alice' } }),
    );
    clock.advance(OPERATION_BOUND_MS + LATE_WRITE_BOUND_MS);
    // A change planned from the keyring stored now takes the version without settling it ...
    expect(await claimed(new KvLease(store, clock, bob))).toBeDefined();
    expect(record(store)).toMatchObject({ lease: { holder: 'bob' }, intent: { request_id: 'r2' } });
    // ... and repair clears such a claim, saying so, instead of putting back its items.
    await store.remove('default@4', store.entries.get('default@4')?.generation ?? '');
    await store.add(
      'default@4',
      JSON.stringify({ lease: null, intent: { ...old, request_id: 'r0', holder: 'alice' } }),
    );
    const report = await new KvLease(store, clock, bob).repair('default', 4, noSettle, null);
    expect(report).toMatch(/cleared an earlier rotate \(request r0\) planned from another keyring/);
    expect(store.entries.size).toBe(0);
  });
});

/** The management-API ports' calls (KeyStoreApi and LeaseStoreApi), as the local API would see them. */
const PORT_CALLS = [
  'readConfigItems',
  'listSecretNames',
  'createSecret',
  'deleteSecret',
  'patchConfigItems',
  'get',
  'add',
  'replace',
  'remove',
];

describe('engine under a lease', () => {
  function engineWith(leases: FakeLeaseStore, keys = new FakeKeyStore(), clock = manualClock()) {
    return new KeyringEngine({
      api: keys,
      clock,
      random: counterRandom(),
      deployment: 'default',
      keyLifetimeDays: 90,
      guard: new KvLease(leases, clock, alice),
      callTimeoutMs: 15_000,
    });
  }

  it('leaves only the committed claim after a success, and nothing after a refusal', async () => {
    const store = new FakeLeaseStore();
    const engine = engineWith(store);
    await engine.mutate({ operation: 'rotate' });
    expect([...store.entries.keys()]).toEqual(['default@1']);
    await expect(engine.mutate({ operation: 'taint', id: 'nope' })).rejects.toMatchObject({
      code: 'keyset_not_found',
    });
    expect([...store.entries.keys()]).toEqual(['default@1']);
  });

  it('makes one read and, for a rotate, four writes on the happy path, one of them the claim', async () => {
    const leases = new FakeLeaseStore();
    const keys = new FakeKeyStore();
    const calls: string[] = [];
    const count = <T extends object>(target: T, label: string): void => {
      for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
        const fn = (target as Record<string, unknown>)[name];
        if (!PORT_CALLS.includes(name) || typeof fn !== 'function') continue;
        (target as Record<string, unknown>)[name] = (...args: unknown[]) => {
          calls.push(`${label}.${name}`);
          return (fn as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
    };
    count(keys, 'keys');
    count(leases, 'kv');
    const engine = new KeyringEngine({
      api: keys,
      clock: manualClock(),
      random: counterRandom(),
      deployment: 'default',
      keyLifetimeDays: 90,
      guard: new KvLease(leases, manualClock(), alice),
      callTimeoutMs: 15_000,
      privateKeys: { get: async (name) => keys.secrets.get(name) ?? null },
    });
    await engine.mutate({ operation: 'adopt' }); // a keyring to start from, not counted
    calls.length = 0;
    await engine.mutate({ operation: 'rotate', kid: 'k1' });
    expect(calls).toEqual([
      'keys.readConfigItems',
      'kv.add',
      'keys.createSecret',
      'keys.patchConfigItems',
    ]);
  });

  it('records the intent in the claim before the first store write', async () => {
    const leases = new FakeLeaseStore();
    const keys = new FakeKeyStore();
    const create = keys.createSecret.bind(keys);
    let intentAtCreate: unknown;
    keys.createSecret = async (name, value) => {
      intentAtCreate = record(leases, 'default@1')?.intent;
      return create(name, value);
    };
    await engineWith(leases, keys).mutate({ operation: 'rotate', kid: 'fresh' });
    expect(intentAtCreate).toMatchObject({
      operation: 'rotate',
      create_secret: 'fresh',
      before_version: 0,
      restore: { fresh: null, 'active-kids': null, 'current-kid': null, keyring: null },
    });
  });

  it('stops between two writes when the claim would run out, keeping the key in the journal', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    const engine = engineWith(leases, keys, clock);
    const create = keys.createSecret.bind(keys);
    keys.createSecret = async (name, value) => {
      keys.createSecret = create;
      clock.advance(OPERATION_BOUND_MS - 10_000); // the write took almost the whole bound
      return create(name, value);
    };
    await expect(engine.mutate({ operation: 'rotate', kid: 'slow' })).rejects.toMatchObject({
      code: 'upstream_timeout',
      details: { outcome: 'not_committed' },
    });
    expect(keys.items.size).toBe(0);
    expect(record(leases, 'default@1')).toMatchObject({
      lease: null,
      intent: { create_secret: 'slow' },
    });
    // The next operation settles it (deleting the key nobody published) and goes ahead.
    const next = await engine.mutate({ operation: 'rotate', kid: 'next' });
    expect(next.settled).toContain('had not committed');
    expect([...keys.secrets.keys()]).toEqual(['next']);
  });

  it('reads again when another operation committed the version it read, and commits on top', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    await engineWith(leases, keys, clock).mutate({ operation: 'rotate', kid: 'first' });
    const read = keys.readConfigItems.bind(keys);
    let raced = false;
    keys.readConfigItems = async () => {
      const items = await read();
      if (!raced) {
        // Between this operation's read and its claim, another one commits the next version.
        raced = true;
        keys.readConfigItems = read;
        await engineWith(leases, keys, clock).mutate({ operation: 'prepare', kid: 'other' });
      }
      return items;
    };
    const result = await engineWith(leases, keys, clock).mutate({
      operation: 'prepare',
      kid: 'mine',
    });
    // Planned again from version 2: nothing the other change wrote is lost.
    expect(result.before.version).toBe(2);
    expect(result.after.keysets.map((k) => k.id)).toEqual(
      expect.arrayContaining(['first', 'other', 'mine']),
    );
    expect([...leases.entries.keys()].sort()).toEqual(['default@1', 'default@2', 'default@3']);
  });

  it('refuses, without reading again, while the operation holding the version has not committed', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    await engineWith(leases, keys, clock).mutate({ operation: 'rotate', kid: 'first' });
    const running = {
      lease: {
        operation: 'taint',
        holder: 'bob',
        request_id: 'r9',
        started_at: new Date(clock.now()).toISOString(),
        expires_at: new Date(clock.now() + OPERATION_BOUND_MS).toISOString(),
      },
      intent: { ...INTENT, before_version: 1, request_id: 'r9', holder: 'bob' },
    };
    await leases.add('default@2', JSON.stringify(running));
    await expect(
      engineWith(leases, keys, clock).mutate({ operation: 'prepare', kid: 'mine' }),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      message: expect.stringContaining('taint by bob'),
    });
    expect(keys.secrets.has('mine')).toBe(false);
  });

  it('settles an earlier claim on the version it reads, then reads again and commits', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    await engineWith(leases, keys, clock).mutate({ operation: 'rotate', kid: 'first' });
    // A prepare that died after creating its private key, before its update.
    const dead = engineWith(leases, keys, clock);
    const patch = keys.patchConfigItems.bind(keys);
    keys.patchConfigItems = async () => {
      throw new Error('process killed');
    };
    await expect(dead.mutate({ operation: 'prepare', kid: 'orphan' })).rejects.toThrow();
    keys.patchConfigItems = patch;
    expect(keys.secrets.has('orphan')).toBe(true);
    expect(record(leases, 'default@2')?.intent?.create_secret).toBe('orphan');
    clock.advance(OPERATION_BOUND_MS + LATE_WRITE_BOUND_MS);
    const result = await engineWith(leases, keys, clock).mutate({
      operation: 'prepare',
      kid: 'second',
    });
    expect(result.settled).toContain('prepare');
    expect(result.after.version).toBe(2);
    expect(keys.secrets.has('orphan')).toBe(false);
    expect(keys.secrets.has('second')).toBe(true);
  });
});

describe('the bounds have one definition', () => {
  it('gives the settings the lease constants as their defaults', () => {
    const settings = parseSettings({
      publisher: { domain: 'publisher.example' },
      request_signing: { config_store_id: 'c', secret_store_id: 's' },
    });
    expect(settings.fastly_api.lease_ms).toBe(OPERATION_BOUND_MS);
    expect(settings.fastly_api.late_write_ms).toBe(LATE_WRITE_BOUND_MS);
    const withApi = parseSettings({
      publisher: { domain: 'publisher.example' },
      request_signing: { config_store_id: 'c', secret_store_id: 's' },
      fastly_api: { timeout_ms: 1000 },
    });
    expect(withApi.fastly_api).toMatchObject({
      lease_ms: OPERATION_BOUND_MS,
      late_write_ms: LATE_WRITE_BOUND_MS,
    });
  });
});
