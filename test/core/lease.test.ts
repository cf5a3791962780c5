import { describe, expect, it } from 'vitest';
import { KeyringEngine } from '../../src/core/keyring/engine.js';
import { TskError } from '../../src/core/errors.js';
import { KvLease, OPERATION_BOUND_MS } from '../../src/core/keyring/lease.js';
import { counterRandom, FakeKeyStore, manualClock } from '../support/fake-key-store.js';
import { FakeLeaseStore } from '../support/fake-lease-store.js';

const alice = { holder: 'alice', requestId: 'r1' };
const bob = { holder: 'bob', requestId: 'r2' };

describe('KvLease', () => {
  it('lets one operation in and refuses a second at once, naming the holder', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const held = await new KvLease(store, clock, alice).acquire('default', 'rotate');
    await expect(new KvLease(store, clock, bob).acquire('default', 'taint')).rejects.toMatchObject({
      code: 'operation_in_progress',
      message: expect.stringContaining('rotate by alice since 2026-11-22T09:00:00.000Z'),
      details: { lease: { operation: 'rotate', holder: 'alice', request_id: 'r1' } },
    });
    await held.release();
    expect(store.entries.size).toBe(0);
    await new KvLease(store, clock, bob).acquire('default', 'taint');
  });

  it('never blocks another deployment', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate');
    await expect(
      new KvLease(store, clock, bob).acquire('staging', 'rotate'),
    ).resolves.toBeDefined();
  });

  it('takes over a lease left by a crashed operation only after the 120 s bound', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate'); // never released
    clock.advance(OPERATION_BOUND_MS - 1);
    await expect(new KvLease(store, clock, bob).acquire('default', 'rotate')).rejects.toMatchObject(
      { code: 'operation_in_progress' },
    );
    clock.advance(2);
    const held = await new KvLease(store, clock, bob).acquire('default', 'rotate');
    expect(JSON.parse(store.entries.get('default')?.value ?? '{}')).toMatchObject({
      holder: 'bob',
    });
    await held.release();
  });

  it('does not release a lease someone else has taken over', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const stale = await new KvLease(store, clock, alice).acquire('default', 'rotate');
    clock.advance(OPERATION_BOUND_MS + 1);
    await new KvLease(store, clock, bob).acquire('default', 'rotate');
    await stale.release();
    expect(JSON.parse(store.entries.get('default')?.value ?? '{}')).toMatchObject({
      holder: 'bob',
    });
  });

  it('refuses when two take over the same stale lease and the other wins', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    await new KvLease(store, clock, alice).acquire('default', 'rotate');
    clock.advance(OPERATION_BOUND_MS + 1);
    // Bob reads the stale lease, but Carol replaces it before Bob's replace lands.
    const original = store.replace.bind(store);
    store.replace = async (key, value, generation) => {
      await original(
        key,
        JSON.stringify({
          operation: 'taint',
          holder: 'carol',
          request_id: 'r3',
          started_at: new Date(clock.now()).toISOString(),
          expires_at: new Date(clock.now() + OPERATION_BOUND_MS).toISOString(),
        }),
        generation,
      );
      return original(key, value, generation);
    };
    await expect(new KvLease(store, clock, bob).acquire('default', 'rotate')).rejects.toMatchObject(
      {
        code: 'operation_in_progress',
        details: { lease: { holder: 'carol' } },
      },
    );
  });

  it('treats an unreadable lease value as stale only through compare-and-set', async () => {
    const store = new FakeLeaseStore();
    await store.add('default', 'garbage');
    await expect(
      new KvLease(store, manualClock(), bob).acquire('default', 'rotate'),
    ).resolves.toBeDefined();
  });

  it('says the lease may be held until its bound when taking it failed ambiguously', async () => {
    const store = new FakeLeaseStore();
    const add = store.add.bind(store);
    store.add = async (key, value) => {
      await add(key, value); // the write lands ...
      throw new TskError('upstream_timeout', 'Fastly API did not answer'); // ... its answer does not
    };
    await expect(
      new KvLease(store, manualClock(), alice).acquire('default', 'rotate'),
    ).rejects.toMatchObject({
      code: 'upstream_timeout',
      message: expect.stringMatching(
        /nothing was changed; if the lease was taken, it lapses within 120 s$/,
      ),
      details: { committed: false },
    });
  });
});

describe('engine under a lease', () => {
  it('releases the lease after success and after a refusal', async () => {
    const store = new FakeLeaseStore();
    const clock = manualClock();
    const engine = new KeyringEngine({
      api: new FakeKeyStore(),
      clock,
      random: counterRandom(),
      deployment: 'default',
      keyLifetimeDays: 90,
      guard: new KvLease(store, clock, alice),
    });
    await engine.mutate({ operation: 'rotate' });
    expect(store.entries.size).toBe(0);
    await expect(engine.mutate({ operation: 'taint', id: 'nope' })).rejects.toMatchObject({
      code: 'keyset_not_found',
    });
    expect(store.entries.size).toBe(0);
  });

  it('does not start a write that could outlive the lease', async () => {
    const leases = new FakeLeaseStore();
    const clock = manualClock();
    const keys = new FakeKeyStore();
    const engine = new KeyringEngine({
      api: keys,
      clock,
      random: counterRandom(),
      deployment: 'default',
      keyLifetimeDays: 90,
      guard: new KvLease(leases, clock, alice),
      callTimeoutMs: 15_000,
    });
    const read = keys.readConfigItems.bind(keys);
    keys.readConfigItems = async () => {
      clock.advance(OPERATION_BOUND_MS - 10_000); // the read took almost the whole bound
      return read();
    };
    await expect(engine.mutate({ operation: 'rotate' })).rejects.toMatchObject({
      code: 'upstream_timeout',
    });
    expect(keys.secrets.size).toBe(0);
    expect(keys.items.size).toBe(0);
  });

  it('reports a lease it could not release as a warning, not a failure', async () => {
    const leases = new FakeLeaseStore();
    leases.remove = async () => {
      throw new Error('KV down');
    };
    const clock = manualClock();
    const engine = new KeyringEngine({
      api: new FakeKeyStore(),
      clock,
      random: counterRandom(),
      deployment: 'default',
      keyLifetimeDays: 90,
      guard: new KvLease(leases, clock, alice),
    });
    const result = await engine.mutate({ operation: 'rotate' });
    expect(result.warnings).toEqual([
      'the deployment lease could not be released; it expires within 120 s',
    ]);
  });
});
