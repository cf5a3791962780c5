import { describe, expect, it } from 'vitest';
import { parseKeyring, serializeKeyring, type Keyring } from '../../src/core/keyring/document.js';
import {
  describeSettlement,
  parseLockRecord,
  planSettlement,
  type IntentBody,
} from '../../src/core/keyring/journal.js';
import { derivedItems, itemOpsFor } from '../../src/core/keyring/store-items.js';
import type { ConfigItemOp } from '../../src/core/ports.js';

const JWK = (kid: string, x: string) => ({
  kty: 'OKP' as const,
  crv: 'Ed25519' as const,
  x,
  alg: 'EdDSA' as const,
  kid,
});
const X1 = 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw';
const X2 = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';
const T = '2026-11-22T09:00:00.000Z';

function keyring(version: number, keysets: Keyring['keysets']): Keyring {
  return { schema: 1, deployment: 'default', version, updated_at: T, keysets };
}

const before = keyring(3, [
  { id: 'old', state: 'ACTIVE', jwk: JWK('old', X1), issued_at: T, expires_at: T, activated_at: T },
]);
const after = keyring(4, [
  {
    id: 'old',
    state: 'PREPARED',
    jwk: JWK('old', X1),
    issued_at: T,
    expires_at: T,
    activated_at: T,
  },
  { id: 'new', state: 'ACTIVE', jwk: JWK('new', X2), issued_at: T, expires_at: T, activated_at: T },
]);

/** The items a committed `before` leaves, and the intent of the rotate that leads to `after`. */
function rotateIntent(): { items: Map<string, string>; ops: ConfigItemOp[]; intent: IntentBody } {
  const items = derivedItems(before);
  const ops = itemOpsFor(items, before, after);
  const intent: IntentBody = {
    operation: 'rotate',
    recorded_at: T,
    before_version: 3,
    keyring: serializeKeyring(after),
    restore: Object.fromEntries(ops.map((op) => [op.key, items.get(op.key) ?? null])),
    create_secret: 'new',
  };
  return { items, ops, intent };
}

function apply(items: Map<string, string>, ops: readonly ConfigItemOp[]): void {
  for (const op of ops) {
    if (op.op === 'delete') items.delete(op.key);
    else items.set(op.key, op.value);
  }
}

/** The intent as the engine records it now: with the value the update writes to each item. */
function withWrites(intent: IntentBody, ops: readonly ConfigItemOp[]): IntentBody {
  return {
    ...intent,
    write: Object.fromEntries(ops.map((op) => [op.key, op.op === 'delete' ? null : op.value])),
  };
}

describe('planSettlement next to Trusted Server writing the same items', () => {
  it('does not put back an item Trusted Server changed since an update that did not land, nor delete a key it now publishes', () => {
    const { items, ops, intent } = rotateIntent();
    apply(items, ops.slice(0, 2)); // the new JWK and active-kids, not the keyring
    // Then Trusted Server's own rotate to the same kid: its active-kids and current-kid.
    items.set('active-kids', 'old,new');
    items.set('current-kid', 'new');
    items.set('active-kids', 'old,new,ts-extra');
    const plan = planSettlement(withWrites(intent, ops), items, new Set(['old', 'new']));
    expect(plan.landed).toBe(false);
    // current-kid holds the value this update would have written too: indistinguishable, so it
    // is put back; active-kids is Trusted Server's, and the kid it publishes keeps JWK and key.
    expect(plan.leftAlone).toEqual(['active-kids', 'new']);
    expect(plan.configOps).toEqual([{ op: 'upsert', key: 'current-kid', value: 'old' }]);
    expect(plan.deleteSecrets).toEqual([]);
  });

  it('does not complete over an item Trusted Server changed since an update that landed', () => {
    const { items, ops, intent } = rotateIntent();
    apply(items, ops);
    items.set('current-kid', 'ts-later'); // Trusted Server's rotate after ours
    const plan = planSettlement(withWrites(intent, ops), items, new Set(['old', 'new']));
    expect(plan).toEqual({
      landed: true,
      rolledForward: false,
      configOps: [],
      deleteSecrets: [],
      leftAlone: ['current-kid'],
    });
    expect(describeSettlement({ ...intent, request_id: 'r1' }, plan)).toContain(
      'left current-kid as someone else wrote them since',
    );
  });

  it('still restores and completes its own values exactly as before', () => {
    const { items, ops, intent } = rotateIntent();
    apply(items, ops.slice(0, 2));
    const plan = planSettlement(withWrites(intent, ops), items, new Set(['old', 'new']));
    expect(plan.leftAlone).toEqual([]);
    expect(plan.deleteSecrets).toEqual(['new']);
    apply(items, plan.configOps);
    expect(items).toEqual(derivedItems(before));
  });
});

describe('planSettlement', () => {
  it('completes a landed update whose bulk stopped after the keyring, and keeps the new key', () => {
    const { items, ops, intent } = rotateIntent();
    apply(items, ops); // everything landed ...
    items.set('current-kid', 'old'); // ... but Trusted Server's current-kid is behind
    const plan = planSettlement(intent, items, new Set(['old', 'new']));
    expect(plan).toEqual({
      landed: true,
      rolledForward: false,
      configOps: [{ op: 'upsert', key: 'current-kid', value: 'new' }],
      deleteSecrets: [],
      leftAlone: [],
    });
  });

  it('puts back what an update that did not land changed, in reverse order, and deletes only the key it created', () => {
    const { items, ops, intent } = rotateIntent();
    apply(items, ops.slice(0, 2)); // the new JWK and active-kids, not the keyring
    const plan = planSettlement(intent, items, new Set(['old', 'new', 'unrelated']));
    expect(plan.landed).toBe(false);
    expect(plan.configOps).toEqual([
      { op: 'upsert', key: 'active-kids', value: 'old' },
      { op: 'delete', key: 'new' },
    ]);
    expect(plan.deleteSecrets).toEqual(['new']);
    apply(items, plan.configOps);
    expect(items).toEqual(derivedItems(before));
  });

  /** The stores at `after`, and the intent of removing its key set `old` (from version 4). */
  function removal() {
    const removed = keyring(5, [after.keysets[1]!]);
    const items = derivedItems(after);
    const ops = itemOpsFor(items, after, removed);
    const intent: IntentBody = {
      operation: 'remove',
      recorded_at: T,
      before_version: 4,
      keyring: serializeKeyring(removed),
      restore: Object.fromEntries(ops.map((op) => [op.key, items.get(op.key) ?? null])),
      write: Object.fromEntries(ops.map((op) => [op.key, op.op === 'delete' ? null : op.value])),
      delete_secret: 'old',
    };
    return { removed, items, intent };
  }

  it('completes a removal whether or not its update landed: its private key goes first', () => {
    const { removed, items, intent } = removal();
    // Not landed and the private key still there: the removal never started; nothing to do.
    expect(planSettlement(intent, items, new Set(['old', 'new']))).toMatchObject({
      landed: false,
      rolledForward: false,
      configOps: [],
      deleteSecrets: [],
    });
    // Not landed, the private key gone (the remove stopped between the two): rolled forward.
    const forward = planSettlement(intent, items, new Set(['new']));
    expect(forward).toMatchObject({ landed: false, rolledForward: true, deleteSecrets: [] });
    apply(items, forward.configOps);
    expect(items).toEqual(derivedItems(removed));
    expect(describeSettlement(intent, forward)).toMatch(
      /was completed \(a removal only goes forward\)/,
    );
    // Landed: nothing left but the private key, if it is still there.
    expect(planSettlement(intent, items, new Set(['old', 'new']))).toEqual({
      landed: true,
      rolledForward: false,
      configOps: [],
      deleteSecrets: ['old'],
      leftAlone: [],
    });
    expect(planSettlement(intent, items, new Set(['new'])).deleteSecrets).toEqual([]);
  });

  it("takes the removed kid out of Trusted Server's active-kids written since, keeping its own kids", () => {
    const { items, intent } = removal();
    // Trusted Server's rotate, after the key was deleted and before the update: it kept 'old'.
    items.set('ts-own', JSON.stringify(JWK('ts-own', X1)));
    items.set('active-kids', `${items.get('active-kids')},ts-own`);
    items.set('current-kid', 'ts-own');
    const plan = planSettlement(intent, items, new Set(['new', 'ts-own']));
    expect(plan.rolledForward).toBe(true);
    apply(items, plan.configOps);
    expect(items.get('active-kids')?.split(',')).not.toContain('old');
    expect(items.get('active-kids')?.split(',')).toContain('ts-own');
    expect(items.get('current-kid')).toBe('ts-own');
    expect(items.has('old')).toBe(false);
  });

  it('still finds a landed update landed when a first settlement was interrupted after its config writes', () => {
    // Built in another member order than the schema's (as transitions add timestamps).
    const reordered = keyring(4, [
      {
        id: 'old',
        state: 'TAINTED',
        jwk: JWK('old', X1),
        issued_at: T,
        expires_at: T,
        tainted_at: T,
        activated_at: T,
      } as Keyring['keysets'][number],
      after.keysets[1]!,
    ]);
    const items = derivedItems(before);
    const ops = itemOpsFor(items, before, reordered);
    const intent: IntentBody = {
      operation: 'taint',
      recorded_at: T,
      before_version: 3,
      keyring: serializeKeyring(reordered),
      restore: Object.fromEntries(ops.map((op) => [op.key, items.get(op.key) ?? null])),
    };
    apply(items, ops);
    const first = planSettlement(intent, items, new Set(['old', 'new']));
    apply(items, first.configOps);
    expect(planSettlement(intent, items, new Set(['old', 'new'])).landed).toBe(true);
    expect(serializeKeyring(parseKeyring(intent.keyring))).toBe(intent.keyring);
  });

  it('describes what it did in one line for the audit trail', () => {
    const { items, intent } = rotateIntent();
    const plan = planSettlement(intent, items, new Set(['old', 'new']));
    expect(describeSettlement({ ...intent, request_id: 'r9' }, plan)).toBe(
      'rotate (request r9, from keyring version 3) had not committed; no config item needed restored, deleted private key new',
    );
  });
});

describe('parseLockRecord', () => {
  it('refuses what is not a lock record', () => {
    expect(parseLockRecord('garbage')).toBeNull();
    expect(parseLockRecord('{"lease":{"holder":1},"intent":null}')).toBeNull();
  });
});
