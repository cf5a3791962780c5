// The planner's rules on hand-made keyrings (pure: no I/O, times from the key sets' own stamps).
import { describe, expect, it } from 'vitest';
import type { Keyring, Keyset } from '../../src/core/keyring/document.js';
import { dueTransitions, pendingTransitions, planAhead } from '../../src/core/schedule/planner.js';
import type { SchedulePolicy } from '../../src/core/schedule/policy.js';

const DAY = 86_400_000;
const T0 = Date.parse('2027-01-01T00:00:00.000Z');
const iso = (days: number) => new Date(T0 + days * DAY).toISOString();
const POLICY: SchedulePolicy = {
  lifetimeMs: 90 * DAY,
  prepareBeforeMs: 30 * DAY,
  activateBeforeMs: 7 * DAY,
  dwellMs: 240_000,
  taintAfterMs: 30 * DAY,
  removeAfterMs: 30 * DAY,
  removeRetired: true,
};
const X = 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw';
const key = (id: string, state: Keyset['state'], extra: Partial<Keyset> = {}): Keyset => ({
  id,
  state,
  jwk: { kty: 'OKP', crv: 'Ed25519', x: X, alg: 'EdDSA', kid: id },
  issued_at: iso(0),
  expires_at: iso(90),
  ...extra,
});
const ring = (...keysets: Keyset[]): Keyring => ({
  schema: 1,
  deployment: 'default',
  version: 5,
  updated_at: iso(0),
  keysets,
});
const brief = (ts: Array<{ operation: string; keyset: string | null; at: string }>) =>
  ts.map((t) => `${t.operation} ${t.keyset ?? '-'} ${t.at.slice(0, 10)}`);

describe('the planner', () => {
  it('prepares 30 days and activates 7 days before expiry, and retires 30 + 30 days after', () => {
    const keyring = ring(
      key('old', 'PREPARED', { activated_at: iso(-60), superseded_at: iso(0) }),
      key('cur', 'ACTIVE', { activated_at: iso(0) }),
    );
    expect(brief(pendingTransitions(keyring, POLICY))).toEqual([
      'taint old 2027-01-31',
      'prepare - 2027-03-02',
    ]);
    expect(dueTransitions(keyring, T0 + 29 * DAY, POLICY)).toEqual([]);
    expect(brief(planAhead(keyring, T0, POLICY, { limit: 6 }))).toEqual([
      'taint old 2027-01-31',
      // Due at the same moment: room is made in the keyring before a key is added.
      'remove old 2027-03-02',
      'prepare - 2027-03-02',
      'activate (next key 1) 2027-03-25',
      'taint cur 2027-04-24',
      'prepare - 2027-05-01',
    ]);
  });

  it('never removes sooner than the grace period after the last signature, whoever tainted', () => {
    // An operator tainted it a day after it stopped signing; removal still waits 30 days from
    // the taint, which is after the last signature.
    const keyring = ring(
      key('old', 'TAINTED', { activated_at: iso(-60), superseded_at: iso(0), tainted_at: iso(1) }),
      key('cur', 'ACTIVE', { activated_at: iso(0) }),
    );
    expect(brief(pendingTransitions(keyring, POLICY))[0]).toBe('remove old 2027-02-01');
    // Switched off: retired keys are tainted, never removed.
    expect(
      pendingTransitions(keyring, { ...POLICY, removeRetired: false }).map((t) => t.operation),
    ).toEqual(['prepare']);
  });

  it('counts a restored key’s grace period from its restore, and never activates it', () => {
    const keyring = ring(
      key('old', 'PREPARED', {
        activated_at: iso(-60),
        superseded_at: iso(0),
        published_at: iso(40),
      }),
      key('cur', 'ACTIVE', { activated_at: iso(0), expires_at: iso(200) }),
    );
    expect(brief(pendingTransitions(keyring, POLICY))).toEqual([
      'taint old 2027-03-12',
      'prepare - 2027-06-20',
    ]);
  });

  it('with no ACTIVE key prepares at once, then activates after the dwell only', () => {
    expect(brief(pendingTransitions(ring(), POLICY))).toEqual(['prepare - 2027-01-01']);
    const prepared = ring(key('next', 'PREPARED'));
    expect(pendingTransitions(prepared, POLICY)[0]).toMatchObject({
      operation: 'activate',
      keyset: 'next',
      at: new Date(T0 + 240_000).toISOString(),
    });
  });

  it('leaves DEACTIVATED key sets and keys adopted from Trusted Server alone', () => {
    const keyring = ring(
      key('gone', 'DEACTIVATED', { deactivated_at: iso(0) }),
      key('ts-old', 'PREPARED', { superseded_at: iso(0), expires_at: iso(0) }),
      key('cur', 'ACTIVE', { activated_at: iso(0), expires_at: iso(0) }),
    );
    expect(brief(pendingTransitions(keyring, POLICY))).toEqual(['prepare - 2026-12-02']);
  });
});
