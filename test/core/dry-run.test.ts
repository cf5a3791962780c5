// The dry run's difference, warnings and planned writes, on hand-built keyrings with pinned
// times: what each warning needs to fire, and that it stays quiet once the risk is gone.
import { describe, expect, it } from 'vitest';
import type { Keyring, Keyset } from '../../src/core/keyring/document.js';
import {
  keyringDiff,
  plannedWrites,
  RECENT_SIGNATURE_GRACE_MS,
  stoppedSigningAt,
  warnings,
} from '../../src/core/keyring/dry-run.js';
import { transition } from '../../src/core/keyring/transitions.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function keyset(id: string, state: Keyset['state'], extra: Partial<Keyset> = {}): Keyset {
  return {
    id,
    state,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), alg: 'EdDSA', kid: id },
    issued_at: iso(T0),
    expires_at: iso(T0 + 90 * DAY),
    ...extra,
  };
}

/** old signed from T0 until new was activated at T0 + 60 d; spare never signed. */
function keyring(): Keyring {
  return {
    schema: 1,
    deployment: 'default',
    version: 7,
    updated_at: iso(T0 + 60 * DAY),
    keysets: [
      keyset('old', 'PREPARED', { activated_at: iso(T0) }),
      keyset('new', 'ACTIVE', { activated_at: iso(T0 + 60 * DAY) }),
      keyset('spare', 'PREPARED'),
    ],
  };
}

const ctx = (nowMs: number) => ({
  operation: 'remove' as const,
  nowMs,
  graceMs: RECENT_SIGNATURE_GRACE_MS,
});

describe('keyringDiff', () => {
  it('names added, removed and changed key sets, JWKS kids and the signing kid', () => {
    const before = keyring();
    const afterActivate = transition(before, 'activate', { id: 'spare', nowIso: iso(T0) });
    expect(keyringDiff(before, afterActivate)).toEqual({
      keysets: {
        added: [],
        removed: [],
        changed: [
          { id: 'new', from: 'ACTIVE', to: 'PREPARED' },
          { id: 'spare', from: 'PREPARED', to: 'ACTIVE' },
        ],
      },
      jwks: { added: [], removed: [] },
      current_kid: { before: 'new', after: 'spare', changed: true },
    });
    const afterRemove = transition(before, 'remove', { id: 'old', nowIso: iso(T0) });
    expect(keyringDiff(before, afterRemove)).toMatchObject({
      keysets: { added: [], removed: ['old'], changed: [] },
      jwks: { added: [], removed: ['old'] },
      current_kid: { changed: false },
    });
    const created = keyset('next', 'PREPARED');
    const afterPrepare = transition(before, 'prepare', { created, nowIso: iso(T0) });
    expect(keyringDiff(before, afterPrepare)).toMatchObject({
      keysets: { added: ['next'], removed: [] },
      jwks: { added: ['next'], removed: [] },
    });
  });
});

describe('warnings', () => {
  it('warns when a key leaves the JWKS less than the grace period after it stopped signing', () => {
    const before = keyring();
    const after = transition(before, 'remove', { id: 'old', nowIso: iso(T0) });
    // "old" stopped signing at T0 + 60 d; 29 days later it is within the grace period.
    const within = warnings(before, after, ctx(T0 + 89 * DAY));
    expect(within.map((w) => [w.code, w.kid])).toEqual([['recent_signatures', 'old']]);
    expect(within[0]?.message).toContain('stopped signing at 2026-03-02T00:00:00.000Z');
    expect(within[0]?.message).toContain('removed for good');
    // One day past the grace period: nothing to say.
    expect(warnings(before, after, ctx(T0 + 91 * DAY))).toEqual([]);
    // Deactivating (not removing) it is the same risk: it leaves the JWKS.
    const deactivated = transition(before, 'deactivate', { id: 'old', nowIso: iso(T0) });
    expect(warnings(before, deactivated, ctx(T0 + 61 * DAY))[0]?.message).toContain(
      'leave the JWKS',
    );
  });

  it('never warns about a key that never signed, nor about one that stays published', () => {
    const before = keyring();
    const removedSpare = transition(before, 'remove', { id: 'spare', nowIso: iso(T0) });
    expect(warnings(before, removedSpare, ctx(T0 + 61 * DAY))).toEqual([]);
    const tainted = transition(before, 'taint', { id: 'old', nowIso: iso(T0) });
    expect(warnings(before, tainted, ctx(T0 + 61 * DAY))).toEqual([]);
  });

  it('warns when the successor that would date the stop is gone from the keyring', () => {
    const before = keyring();
    before.keysets = before.keysets.filter((k) => k.id !== 'new');
    before.keysets.push(keyset('newest', 'ACTIVE'));
    expect(stoppedSigningAt(before, before.keysets[0] as Keyset)).toBe('unknown');
    const after = transition(before, 'remove', { id: 'old', nowIso: iso(T0) });
    const found = warnings(before, after, ctx(T0 + 400 * DAY));
    expect(found.map((w) => w.code)).toEqual(['recent_signatures']);
    expect(found[0]?.message).toContain('does not say when it stopped');
  });

  it('warns when the deployment would publish a single key', () => {
    const before = keyring();
    const one = transition(
      transition(before, 'remove', { id: 'spare', nowIso: iso(T0) }),
      'remove',
      { id: 'old', nowIso: iso(T0) },
    );
    const found = warnings(before, one, ctx(T0 + 200 * DAY));
    expect(found).toEqual([expect.objectContaining({ code: 'single_published_key', kid: 'new' })]);
  });
});

describe('stoppedSigningAt', () => {
  it('is the next activation after its own, across a rollback', () => {
    const k = keyring();
    expect(stoppedSigningAt(k, k.keysets[0] as Keyset)).toBe(iso(T0 + 60 * DAY));
    expect(stoppedSigningAt(k, k.keysets[2] as Keyset)).toBe('never');
    // Roll back to "old" at T0 + 61 d: "new" stopped signing then.
    const back = transition(k, 'activate', { id: 'old', nowIso: iso(T0 + 61 * DAY) });
    const fresh = back.keysets.find((x) => x.id === 'new') as Keyset;
    expect(stoppedSigningAt(back, fresh)).toBe(iso(T0 + 61 * DAY));
  });
});

describe('plannedWrites', () => {
  it('lists the writes in the order the real call makes them', () => {
    expect(
      plannedWrites({
        settlesFirst: 'rotate (request abc)',
        createSecret: 'next',
        configOps: [
          { op: 'upsert', key: 'next', value: '{}' },
          { op: 'delete', key: 'old' },
        ],
        deleteSecret: 'old',
      }),
    ).toEqual([
      'settle the earlier rotate (request abc) first (its outcome is not settled yet)',
      'create private key next',
      'one bulk config update: set next, delete old',
      'delete private key old',
    ]);
  });
});
