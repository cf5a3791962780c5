// The intent journal: before its first write, an operation records what it will write and what
// it will create or delete, in the deployment's lock record. If the operation then dies, or a
// write's outcome is unknown (a timeout: the write may still land later), the next operation on
// the deployment, or `doctor`, settles it from an authoritative read once no late write can land
// any more: it completes an update that landed and undoes one that did not. Nothing is ever
// compensated while a write that may still land could refer to it. See docs/architecture.md,
// "Commit order, unknown outcomes and the intent journal".
import * as z from 'zod/mini';
import type { ConfigItemOp } from '../ports.js';
import { parseKeyring, type Keyring } from './document.js';
import { KEY_LOG_ITEM } from './key-log.js';
import { derivedItems, ITEM_KEYS } from './store-items.js';

const iso = z.iso.datetime();

const IntentSchema = z.object({
  operation: z.string(),
  request_id: z.string(),
  holder: z.string(),
  recorded_at: iso,
  /** The keyring version the operation started from. */
  before_version: z.number(),
  /**
   * The exact `keyring` item text the operation's config update writes. Finding it in the store
   * is the proof that the update landed (nothing else writes this version under the lock).
   */
  keyring: z.string(),
  /** Every config item the update writes or deletes, with the value it had before (null: absent). */
  restore: z.record(z.string(), z.nullable(z.string())),
  /**
   * The value the update gives each of those items (null: deletes it). A settlement changes an
   * item only while it holds one of the two values, so a write by someone else in between (Trusted
   * Server's tools) is never overwritten. Absent in intents recorded before it existed.
   */
  write: z.optional(z.record(z.string(), z.nullable(z.string()))),
  /** A private key this operation creates; it did not exist when the operation was planned. */
  create_secret: z.optional(z.string()),
  /** A private key this operation deletes once the key is unpublished (remove). */
  delete_secret: z.optional(z.string()),
});

/** One operation's recorded intent. Holds names, public JWKs and versions: never a secret. */
export type Intent = z.infer<typeof IntentSchema>;

/** An intent as the engine states it; the lease adds who recorded it. */
export type IntentBody = Omit<Intent, 'request_id' | 'holder'>;

const HolderSchema = z.object({
  operation: z.string(),
  holder: z.string(),
  request_id: z.string(),
  started_at: iso,
  expires_at: iso,
});

/** Who holds a deployment's lease, and until when. */
export type LeaseHolderRecord = z.infer<typeof HolderSchema>;

const LockRecordSchema = z.object({
  /** The operation running now; null when none is (only a pending intent is left). */
  lease: z.nullable(HolderSchema),
  /** An intent whose outcome is not settled yet. */
  intent: z.nullable(IntentSchema),
  /** From when the intent may be settled (no write it made can land any more). */
  settles_at: z.optional(iso),
});

/** A deployment's record in the lock store: its lease and its journal. */
export type LockRecord = z.infer<typeof LockRecordSchema>;

/**
 * Parses a lock record; a record in the earlier format (a bare lease) reads as a lease without
 * an intent. Null when unreadable (then it is treated as abandoned once the bound has passed).
 */
export function parseLockRecord(text: string): LockRecord | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const record = LockRecordSchema.safeParse(json);
  if (record.success) return record.data;
  const bare = HolderSchema.safeParse(json);
  return bare.success ? { lease: bare.data, intent: null } : null;
}

/** The record as stored. */
export function serializeLockRecord(record: LockRecord): string {
  return JSON.stringify(record);
}

/**
 * When a pending intent may be settled: the time its operation marked, or else (the operation
 * died without saying) the end of its lease plus the late-write bound, since no write starts
 * after the lease ends and none lands later than the bound after it started.
 */
export function settlesAtMs(record: LockRecord, lateWriteBoundMs: number): number {
  if (record.settles_at !== undefined) return Date.parse(record.settles_at);
  if (record.lease !== null) return Date.parse(record.lease.expires_at) + lateWriteBoundMs;
  return 0;
}

/** What settling an intent does to the stores. */
export interface Settlement {
  /** True when the operation's config update is in the store: it committed. */
  landed: boolean;
  /**
   * True when it had not landed but is completed rather than undone: a remove, which deletes the
   * private key before its update, can only go forward.
   */
  rolledForward: boolean;
  /** Config writes that complete a landed update, or put back what a failed one changed. */
  configOps: ConfigItemOp[];
  /** Private keys to delete: a removed key's, or one an update that did not land created. */
  deleteSecrets: string[];
  /** Items someone else changed since the update (neither its value nor the earlier one): left as they are. */
  leftAlone: string[];
}

/**
 * Decides, from an authoritative read of the config items and the secret names, how to settle an
 * intent. Landed, or a removal (whose private key may already be gone, so it only goes
 * forward): the items it touched are brought to what its keyring implies and a removed key's
 * private key is deleted. Otherwise: the items it touched get their earlier values back
 * and the private key it created, if it exists, is deleted (after the items are restored: the
 * caller applies `configOps` first, and deletes nothing if that fails).
 */
export function planSettlement(
  intent: IntentBody,
  items: ReadonlyMap<string, string>,
  secretNames: ReadonlySet<string>,
): Settlement {
  const landed = items.get(ITEM_KEYS.keyring) === intent.keyring;
  // A removal deletes its private key before its update: once that key is gone (its deletion
  // landed, or someone else deleted it) the removal can only be completed.
  const keyGone = intent.delete_secret !== undefined && !secretNames.has(intent.delete_secret);
  const forward = landed || keyGone;
  const configOps: ConfigItemOp[] = [];
  const deleteSecrets: string[] = [];
  const leftAlone: string[] = [];
  const written = intent.write;
  // With the values the update wrote on record, an item is only moved from one of its two known
  // values to the other: a third value is someone else's write (Trusted Server's tools) made
  // since, which the next operation folds in as drift rather than this settlement overwrites.
  const ours = (key: string, have: string | undefined): boolean => {
    if (written === undefined || !(key in written)) return true;
    const before = intent.restore[key] ?? null;
    const after = written[key] ?? null;
    const value = have ?? null;
    if (value === before || value === after) return true;
    if (!leftAlone.includes(key)) leftAlone.push(key);
    return false;
  };
  // Kids someone else's value of Trusted Server's items publishes keep their JWK whatever this
  // settlement would do: deleting it would publish a kid partners cannot fetch.
  // A removal whose private key may be gone: the kid it removes must end unpublished.
  const removing = forward ? intent.delete_secret : undefined;
  let unpublished = false;
  const foreignKids = (): Set<string> => {
    const kids = new Set<string>();
    for (const key of [ITEM_KEYS.activeKids, ITEM_KEYS.currentKid]) {
      if (!leftAlone.includes(key)) continue;
      for (const kid of (items.get(key) ?? '').split(',')) if (kid.trim()) kids.add(kid.trim());
    }
    if (unpublished && removing !== undefined) kids.delete(removing);
    return kids;
  };
  const keepJwks = (ops: ConfigItemOp[]): ConfigItemOp[] => {
    const kept = foreignKids();
    return ops.filter((op) => {
      if (op.op !== 'delete' || !kept.has(op.key)) return true;
      if (!leftAlone.includes(op.key)) leftAlone.push(op.key);
      return false;
    });
  };
  for (const key of [ITEM_KEYS.activeKids, ITEM_KEYS.currentKid]) {
    if (key in intent.restore) ours(key, items.get(key));
  }
  if (forward) {
    const after: Keyring = parseKeyring(intent.keyring);
    const derived = derivedItems(after);
    const wanted = (key: string): string | undefined =>
      written !== undefined && key in written ? (written[key] ?? undefined) : derived.get(key);
    // JWKs and `active-kids` before `current-kid`, deletions last, as a commit orders them.
    for (const key of orderedKeys(Object.keys(intent.restore))) {
      const want = wanted(key);
      const have = items.get(key);
      if (want !== undefined && have !== want && ours(key, have)) {
        configOps.push({ op: 'upsert', key, value: want });
      }
    }
    for (const key of Object.keys(intent.restore)) {
      const have = items.get(key);
      if (wanted(key) === undefined && have !== undefined && ours(key, have)) {
        configOps.push({ op: 'delete', key });
      }
    }
    // Someone else's `active-kids` (Trusted Server's rotate, which keeps the kids it found) that
    // still lists the removed kid gets exactly that kid taken out and keeps everything else it
    // says: the kid's private key is deleted (or being deleted), so it must not stay published.
    const foreignList = items.get(ITEM_KEYS.activeKids);
    if (
      removing !== undefined &&
      leftAlone.includes(ITEM_KEYS.activeKids) &&
      foreignList !== undefined &&
      items.get(ITEM_KEYS.currentKid)?.trim() !== removing
    ) {
      const kids = foreignList.split(',').map((k) => k.trim());
      if (kids.includes(removing)) {
        const rest = kids.filter((k) => k !== '' && k !== removing);
        const at = configOps.findIndex((op) => op.key !== KEY_LOG_ITEM);
        const op: ConfigItemOp = { op: 'upsert', key: ITEM_KEYS.activeKids, value: rest.join(',') };
        // Before the keyring and the JWK deletions, as a commit orders it.
        configOps.splice(at === -1 ? configOps.length : at, 0, op);
        unpublished = true;
      }
    }
    configOps.splice(0, configOps.length, ...keepJwks(configOps));
    const gone = intent.delete_secret;
    if (
      gone !== undefined &&
      secretNames.has(gone) &&
      !after.keysets.some((k) => k.id === gone) &&
      !foreignKids().has(gone)
    ) {
      deleteSecrets.push(gone);
    }
  } else {
    // In reverse commit order, so a kid is unpublished before its JWK goes.
    for (const key of orderedKeys(Object.keys(intent.restore)).reverse()) {
      const before = intent.restore[key] ?? null;
      const have = items.get(key);
      if ((have ?? null) === before || !ours(key, have)) continue;
      if (before === null) configOps.push({ op: 'delete', key });
      else configOps.push({ op: 'upsert', key, value: before });
    }
    const created = intent.create_secret;
    // A key someone else now publishes under that name (Trusted Server's rotate to the same kid,
    // in a value of its items this update did not write) is theirs, whatever created it.
    const foreign = (key: string): string | undefined =>
      leftAlone.includes(key) ? items.get(key) : undefined;
    configOps.splice(0, configOps.length, ...keepJwks(configOps));
    const claimed =
      created !== undefined &&
      (foreign(ITEM_KEYS.currentKid)?.trim() === created ||
        (foreign(ITEM_KEYS.activeKids) ?? '').split(',').some((k) => k.trim() === created));
    if (created !== undefined && secretNames.has(created) && !claimed) deleteSecrets.push(created);
  }
  return { landed, rolledForward: forward && !landed, configOps, deleteSecrets, leftAlone };
}

/** One line for the audit trail and the log: what a settlement found and did. */
export function describeSettlement(
  intent: IntentBody & { request_id?: string },
  settlement: Settlement,
): string {
  const request = intent.request_id ? `request ${intent.request_id}, ` : '';
  const what = `${intent.operation} (${request}from keyring version ${intent.before_version})`;
  const verdict = settlement.landed
    ? 'had committed'
    : settlement.rolledForward
      ? 'had not committed, and was completed (a removal only goes forward)'
      : 'had not committed';
  const items = settlement.configOps.length;
  const secrets = settlement.deleteSecrets.length
    ? `, deleted private key ${settlement.deleteSecrets.join(', ')}`
    : '';
  const alone = settlement.leftAlone.length
    ? `; left ${settlement.leftAlone.join(', ')} as someone else wrote them since`
    : '';
  return `${what} ${verdict}; ${items === 0 ? 'no config item needed' : `${items} config item(s)`} ${settlement.landed || settlement.rolledForward ? 'completed' : 'restored'}${secrets}${alone}`;
}

const FIXED_ORDER: readonly string[] = [
  ITEM_KEYS.activeKids,
  ITEM_KEYS.currentKid,
  ITEM_KEYS.keyring,
  ITEM_KEYS.jwksDocument,
  ITEM_KEYS.discoveryDocument,
];

/**
 * The key log first (docs/key-log.md), then JWK items, `active-kids`, `current-kid`, `keyring` and
 * the documents: a commit's order.
 */
function orderedKeys(keys: readonly string[]): string[] {
  const jwks = keys.filter((k) => !FIXED_ORDER.includes(k) && k !== KEY_LOG_ITEM);
  const log = keys.includes(KEY_LOG_ITEM) ? [KEY_LOG_ITEM] : [];
  return [...log, ...jwks, ...FIXED_ORDER.filter((k) => keys.includes(k))];
}
