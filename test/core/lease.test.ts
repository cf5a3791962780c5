import { describe, expect, it } from 'vitest';
import { KeyringEngine } from '../../src/core/keyring/engine.js';
import { TskError } from '../../src/core/errors.js';
import { parseLockRecord, type IntentBody } from '../../src/core/keyring/journal.js';
import { parseSettings } from '../../src/core/settings.js';
import { KvLease, LATE_WRITE_BOUND_MS, OPERATION_BOUND_MS } from '../../src/core/keyring/lease.js';
import { counterRandom, FakeKeyStore, manualClock } from '../support/fake-key-store.js';
import { FakeLeaseStore } from '../support/fake-lease-store.js';

const alice = { holder: 'alice', requestId: 'r1' };
const bob = { holder: 'bob', requestId: 'r2' };
const noSettle = async (): Promise<string> => {
  throw new Error('nothing should be settled here');
};

function record(store: FakeLeaseStore, key = 'default') {
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

describe('KvLease', () => {
  it('lets one operation in and refuses a second at once, naming the holder', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'taint', noSettle),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      message: expect.stringContaining('rotate by alice since 2026-11-22T09:00:00.000Z'),
      details: { lease: { operation: 'rotate', holder: 'alice', request_id: 'r1' } },
    });
    await held.lease.release();
    expect(store.entries.size).toBe(0);
    const next = await new KvLease(store, clock, bob).acquire('default', 'taint', noSettle);
    expect(record(store)?.lease).toMatchObject({ holder: 'bob', operation: 'taint' });
    await next.lease.release();
  });

  it('never blocks another deployment', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await new KvLease(store, clock, bob).acquire('staging', 'rotate', noSettle);
    expect(record(store, 'staging')?.lease?.holder).toBe('bob');
    expect(record(store, 'default')?.lease?.holder).toBe('alice');
  });

  it('takes over a lease left by a crashed operation only after the bound', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle); // never released
    clock.advance(OPERATION_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'rotate', noSettle),
    ).rejects.toMatchObject({ code: 'operation_in_progress' });
    clock.advance(2);
    const held = await new KvLease(store, clock, bob).acquire('default', 'rotate', noSettle);
    expect(record(store)?.lease?.holder).toBe('bob');
    await held.lease.release();
    expect(store.entries.size).toBe(0);
  });

  it('does not release a lease someone else has taken over', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const stale = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    clock.advance(OPERATION_BOUND_MS + 1);
    await new KvLease(store, clock, bob).acquire('default', 'rotate', noSettle);
    await expect(stale.lease.release()).rejects.toMatchObject({ code: 'operation_in_progress' });
    expect(record(store)?.lease?.holder).toBe('bob');
  });

  it('refuses when two take over the same stale lease and the other wins', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    clock.advance(OPERATION_BOUND_MS + 1);
    // Bob reads the stale lease, but Carol replaces it before Bob's replace lands.
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
      new KvLease(store, clock, bob).acquire('default', 'rotate', noSettle),
    ).rejects.toMatchObject({
      code: 'operation_in_progress',
      details: { lease: { holder: 'carol' } },
    });
  });

  it('replaces an unreadable lock record through compare-and-set, not by overwriting it', async () => {
    const store = new FakeLeaseStore();
    await store.add('default', 'garbage');
    const generation = store.entries.get('default')?.generation;
    const replace = store.replace.bind(store);
    const seen: string[] = [];
    store.replace = async (key, value, gen) => {
      seen.push(gen);
      return replace(key, value, gen);
    };
    await new KvLease(store, manualClock(), bob).acquire('default', 'rotate', noSettle);
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
    const held = await new KvLease(store, manualClock(), alice).acquire(
      'default',
      'rotate',
      noSettle,
    );
    const generation = store.entries.get('default')?.generation ?? '';
    expect(BigInt(generation) > 2n ** 53n).toBe(true);
    await held.lease.release();
    expect(store.entries.size).toBe(0);
  });

  it('survives a stale read: a failed compare-and-set is retried while the record is still ours', async () => {
    const store = new FakeLeaseStore();
    const held = await new KvLease(store, manualClock(), alice).acquire(
      'default',
      'rotate',
      noSettle,
    );
    const get = store.get.bind(store);
    let stale = 2;
    store.get = async (key) => {
      const entry = await get(key);
      // The first reads answer an older generation, as a lagging replica would.
      if (entry && stale-- > 0)
        return { ...entry, generation: (BigInt(entry.generation) - 1n).toString() };
      return entry;
    };
    await held.lease.journal(INTENT);
    expect(record(store)?.intent).toMatchObject({
      operation: 'rotate',
      request_id: 'r1',
      holder: 'alice',
    });
    await held.lease.release();
    expect(store.entries.size).toBe(0);
  });

  it.each([
    [{}, 120],
    [{ operationMs: 5000 }, 5],
  ])(
    'says no key store was changed when taking the lease failed ambiguously (bounds %j)',
    async (bounds, seconds) => {
      const store = new FakeLeaseStore();
      const add = store.add.bind(store);
      store.add = async (key, value) => {
        await add(key, value); // the write lands ...
        throw new TskError('upstream_timeout', 'Fastly API did not answer'); // ... its answer does not
      };
      await expect(
        new KvLease(store, manualClock(), alice, bounds).acquire('default', 'rotate', noSettle),
      ).rejects.toMatchObject({
        code: 'upstream_timeout',
        // The bound in force, not a number written beside it.
        message: expect.stringMatching(
          new RegExp(
            `no key store was changed; if the lease was taken after all, it lapses within ${seconds} s$`,
          ),
        ),
        details: { committed: false, outcome: 'not_committed' },
      });
    },
  );
});

describe('the intent journal in the lock record', () => {
  it('keeps a left intent, refuses others until it settles, then settles it before the next operation', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await held.lease.journal(INTENT);
    const settlesAt = clock.now() + LATE_WRITE_BOUND_MS;
    await held.lease.leave(settlesAt);
    expect(record(store)).toMatchObject({ lease: null, intent: { request_id: 'r1' } });

    clock.advance(LATE_WRITE_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'taint', noSettle),
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
    const next = await new KvLease(store, clock, bob).acquire('default', 'taint', async (i) => {
      // While settling, the record holds bob's lease and still the intent.
      expect(record(store)).toMatchObject({
        lease: { holder: 'bob' },
        intent: { request_id: 'r1' },
      });
      settled.push(i.request_id);
      return 'settled r1';
    });
    expect(settled).toEqual(['r1']);
    expect(next.settled).toBe('settled r1');
    expect(record(store)).toMatchObject({ lease: { holder: 'bob' }, intent: null });
  });

  it('settles a crashed operation’s intent only after its lease bound plus the late-write bound', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await held.lease.journal(INTENT); // and then the process dies
    clock.advance(OPERATION_BOUND_MS + LATE_WRITE_BOUND_MS - 1);
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'rotate', noSettle),
    ).rejects.toMatchObject({ code: 'operation_in_progress', details: { pending_intent: {} } });
    clock.advance(1);
    const next = await new KvLease(store, clock, bob).acquire(
      'default',
      'rotate',
      async () => 'ok',
    );
    expect(next.settled).toBe('ok');
  });

  it('keeps the intent when settling fails, and gives the lease back', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await held.lease.journal(INTENT);
    await held.lease.leave(clock.now());
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'rotate', async () => {
        throw new TskError('upstream_failed', 'config read failed', { details: { status: 400 } });
      }),
    ).rejects.toMatchObject({
      code: 'upstream_failed',
      message: expect.stringContaining('could not be settled'),
      details: { outcome: 'not_committed', pending_intent: { request_id: 'r1' } },
    });
    // Refused: settleable again at once; the lease itself is free.
    expect(record(store)).toMatchObject({ lease: null, intent: { request_id: 'r1' } });
    const again = await new KvLease(store, clock, bob).acquire(
      'default',
      'rotate',
      async () => 'ok',
    );
    expect(again.settled).toBe('ok');
  });

  it('waits out the late-write bound again when a settling write timed out', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate', noSettle);
    await held.lease.journal(INTENT);
    await held.lease.leave(clock.now());
    await expect(
      new KvLease(store, clock, bob).acquire('default', 'rotate', async () => {
        throw new TskError('upstream_timeout', 'restore timed out');
      }),
    ).rejects.toMatchObject({ code: 'upstream_timeout' });
    expect(record(store)?.settles_at).toBe(
      new Date(clock.now() + LATE_WRITE_BOUND_MS).toISOString(),
    );
  });
});

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

  it('releases the lease and clears its intent after success and after a refusal', async () => {
    const store = new FakeLeaseStore();
    const engine = engineWith(store);
    await engine.mutate({ operation: 'rotate' });
    expect(store.entries.size).toBe(0);
    await expect(engine.mutate({ operation: 'taint', id: 'nope' })).rejects.toMatchObject({
      code: 'keyset_not_found',
    });
    expect(store.entries.size).toBe(0);
  });

  it('records the intent before the first store write', async () => {
    const leases = new FakeLeaseStore();
    const keys = new FakeKeyStore();
    const create = keys.createSecret.bind(keys);
    let intentAtCreate: unknown;
    keys.createSecret = async (name, value) => {
      intentAtCreate = record(leases)?.intent;
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

  it('does not start a write that could outlive the lease', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    const engine = engineWith(leases, keys, clock);
    const read = keys.readConfigItems.bind(keys);
    keys.readConfigItems = async () => {
      clock.advance(OPERATION_BOUND_MS - 10_000); // the read took almost the whole bound
      return read();
    };
    await expect(engine.mutate({ operation: 'rotate' })).rejects.toMatchObject({
      code: 'upstream_timeout',
      details: { outcome: 'not_committed' },
    });
    expect(keys.secrets.size).toBe(0);
    expect(keys.items.size).toBe(0);
    expect(leases.entries.size).toBe(0);
  });

  it('reports a lease it could not release as a warning that says how long it stays locked', async () => {
    const leases = new FakeLeaseStore();
    leases.remove = async () => {
      throw new Error('KV down');
    };
    const result = await engineWith(leases).mutate({ operation: 'rotate' });
    expect(result.warnings).toEqual([
      'the deployment lease could not be released; the deployment stays locked for up to 120 s',
    ]);
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
