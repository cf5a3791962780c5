// The whole lifecycle matrix: every operation × every state, with the expected outcome.
import { describe, expect, it } from 'vitest';
import type { Keyring, Keyset, KeysetState } from '../../src/core/keyring/document.js';
import {
  isKeysetAction,
  KEYSET_ACTIONS,
  KEYSET_OPERATIONS,
  transition,
  type KeysetOperation,
} from '../../src/core/keyring/transitions.js';
import { keysetTransitions } from '../../src/cli/commands/keyset-transition.js';

const NOW = '2026-11-22T10:00:00.000Z';
const x = 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw';

function keyset(id: string, state: KeysetState): Keyset {
  return {
    id,
    state,
    jwk: { kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA', kid: id },
    issued_at: '2026-11-01T00:00:00.000Z',
    expires_at: '2027-01-30T00:00:00.000Z',
  };
}

/** A keyring with the target in `state` beside an ACTIVE key and a PREPARED spare. */
function ring(state: KeysetState): Keyring {
  const others =
    state === 'ACTIVE'
      ? [keyset('spare', 'PREPARED')]
      : [keyset('signer', 'ACTIVE'), keyset('spare', 'PREPARED')];
  return {
    schema: 1,
    deployment: 'default',
    version: 7,
    updated_at: NOW,
    keysets: [keyset('target', state), ...others],
  };
}

type Expect = KeysetState | 'removed' | { refuse: string };
const MATRIX: Record<KeysetOperation, Record<KeysetState, Expect>> = {
  activate: {
    PREPARED: 'ACTIVE',
    ACTIVE: { refuse: 'key set is already active' },
    TAINTED: { refuse: 'cannot activate tainted key set' },
    DEACTIVATED: { refuse: 'cannot activate deactivated key set' },
  },
  taint: {
    PREPARED: 'TAINTED',
    ACTIVE: { refuse: 'cannot taint active key set' },
    TAINTED: { refuse: 'key set is already tainted' },
    DEACTIVATED: { refuse: 'cannot taint deactivated key set' },
  },
  deactivate: {
    PREPARED: 'DEACTIVATED',
    ACTIVE: { refuse: 'cannot deactivate active key set' },
    TAINTED: 'DEACTIVATED',
    DEACTIVATED: { refuse: 'key set is already deactivated' },
  },
  restore: {
    PREPARED: { refuse: 'cannot restore prepared key set' },
    ACTIVE: { refuse: 'cannot restore active key set' },
    TAINTED: { refuse: 'cannot restore tainted key set' },
    DEACTIVATED: 'PREPARED',
  },
  remove: {
    PREPARED: 'removed',
    ACTIVE: { refuse: 'cannot remove active key set' },
    TAINTED: 'removed',
    DEACTIVATED: 'removed',
  },
};

const cases = Object.entries(MATRIX).flatMap(([op, row]) =>
  Object.entries(row).map(([state, expected]) => ({
    op: op as KeysetOperation,
    state: state as KeysetState,
    expected,
  })),
);

describe('transition matrix', () => {
  it.each(cases)('$op on a $state key set → $expected', ({ op, state, expected }) => {
    const before = ring(state);
    const snapshot = JSON.stringify(before);
    if (typeof expected === 'object') {
      expect(() => transition(before, op, { id: 'target', nowIso: NOW })).toThrow(
        expect.objectContaining({ code: 'invalid_transition', message: expected.refuse }),
      );
    } else {
      const after = transition(before, op, { id: 'target', nowIso: NOW });
      const target = after.keysets.find((k) => k.id === 'target');
      if (expected === 'removed') expect(target).toBeUndefined();
      else expect(target?.state).toBe(expected);
      expect(after.keysets.filter((k) => k.state === 'ACTIVE')).toHaveLength(1);
    }
    expect(JSON.stringify(before)).toBe(snapshot); // pure: the input is never mutated
  });

  it('activate demotes the previous ACTIVE key set to PREPARED, so activating it again rolls back', () => {
    const after = transition(ring('PREPARED'), 'activate', { id: 'target', nowIso: NOW });
    expect(after.keysets.map((k) => [k.id, k.state])).toEqual([
      ['target', 'ACTIVE'],
      ['signer', 'PREPARED'],
      ['spare', 'PREPARED'],
    ]);
    expect(after.keysets[0]?.activated_at).toBe(NOW);
    const back = transition(after, 'activate', { id: 'signer', nowIso: NOW });
    expect(back.keysets.find((k) => k.state === 'ACTIVE')?.id).toBe('signer');
  });

  it('records the time of each transition', () => {
    expect(
      transition(ring('PREPARED'), 'taint', { id: 'target', nowIso: NOW }).keysets[0]?.tainted_at,
    ).toBe(NOW);
    expect(
      transition(ring('TAINTED'), 'deactivate', { id: 'target', nowIso: NOW }).keysets[0]
        ?.deactivated_at,
    ).toBe(NOW);
  });

  it('refuses to take away the last published key even without an ACTIVE one', () => {
    const lone: Keyring = { ...ring('PREPARED'), keysets: [keyset('target', 'PREPARED')] };
    expect(() => transition(lone, 'deactivate', { id: 'target', nowIso: NOW })).toThrow(
      expect.objectContaining({
        code: 'last_active_key',
        message: 'Cannot deactivate the last active key',
      }),
    );
    expect(() => transition(lone, 'remove', { id: 'target', nowIso: NOW })).toThrow(
      expect.objectContaining({
        code: 'last_active_key',
        message: 'Cannot remove the last active key',
      }),
    );
  });

  it('answers keyset_not_found for an unknown id', () => {
    expect(() => transition(ring('PREPARED'), 'taint', { id: 'nope', nowIso: NOW })).toThrow(
      expect.objectContaining({ code: 'keyset_not_found' }),
    );
  });

  it('rotate adds the new key set as ACTIVE and keeps the previous one published', () => {
    const after = transition(ring('PREPARED'), 'rotate', {
      created: keyset('fresh', 'PREPARED'),
      nowIso: NOW,
    });
    expect(after.keysets.find((k) => k.id === 'fresh')?.state).toBe('ACTIVE');
    expect(after.keysets.find((k) => k.id === 'signer')?.state).toBe('PREPARED');
  });
});

describe('what is derived from the table', () => {
  it('lists the operations in the table order, and the path actions without remove', () => {
    expect(KEYSET_OPERATIONS).toEqual(['activate', 'taint', 'deactivate', 'restore', 'remove']);
    expect(KEYSET_ACTIONS).toEqual(['activate', 'taint', 'deactivate', 'restore']);
    expect(isKeysetAction('taint')).toBe(true);
    expect(isKeysetAction('remove')).toBe(false);
    expect(isKeysetAction('toString')).toBe(false);
  });

  it('gives tsctl one keyset command per action', () => {
    expect(keysetTransitions.map((c) => c.words)).toEqual(
      KEYSET_ACTIONS.map((action) => ['keyset', action]),
    );
  });
});
