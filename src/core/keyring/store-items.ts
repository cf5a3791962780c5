// The keyring as config items: what a keyring implies for `jwks_store` (Trusted Server's
// `current-kid`, `active-kids` and per-kid JWKs, plus `keyring`), how a store is read back into a
// keyring, including adoption of stores written only by Trusted Server's tools, and the ordered
// bulk operations that move a store from one keyring to the next.
import { formatActiveKids } from '../keys/active-kids.js';
import type { ConfigItemOp } from '../ports.js';
import { DOCUMENT_ITEM_KEYS, renderDocumentItem } from './key-documents.js';
import {
  activeKeyset,
  parseKeyring,
  publishedKeysets,
  serializeKeyring,
  type Keyring,
} from './document.js';
import { foldReading } from './store-fold.js';
import { readStores, STORE_KEYS, type Drift, type StoreReading } from './store-reading.js';

/** Config item keys with fixed meaning. */
export const ITEM_KEYS = {
  ...STORE_KEYS,
  jwksDocument: DOCUMENT_ITEM_KEYS.jwks,
  discoveryDocument: DOCUMENT_ITEM_KEYS.discovery,
} as const;

/** Facts needed to fold the stores into a keyring (and adopt a store that has none yet). */
export interface AdoptionContext {
  deployment: string;
  nowMs: number;
  keyLifetimeDays: number;
  /** The secret store's names, when read: a kid without a private key is flagged unusable. */
  secretNames?: ReadonlySet<string>;
}

/** A keyring read from config items, and how it was obtained. */
export interface LoadedKeyring {
  /** The keyring folded from the stores: what the next commit builds on. */
  keyring: Keyring;
  /** True when no `keyring` item existed and the document was built from Trusted Server's items. */
  adopted: boolean;
  /** Kids listed in `active-kids` or `current-kid` that had no valid JWK and were left out. */
  skipped: string[];
  /** How Trusted Server's items disagree with the stored keyring (empty when they agree). */
  drift: Drift[];
  /** What folding changed, one line each (empty when nothing drifted). */
  folded: string[];
  /** The reading the keyring was folded from. */
  reading: StoreReading;
}

/**
 * Reads the keyring from all of a deployment's config items through the one reading of the
 * stores (`./store-reading.ts`) and folds any drift into it (`./store-fold.ts`). Without a
 * `keyring` item the store is adopted: `current-kid` becomes ACTIVE, the other `active-kids`
 * PREPARED, any other item holding a JWK for its own key DEACTIVATED (Trusted Server's deactivate
 * keeps JWK and key), and a kid that cannot sign is flagged unusable.
 */
export function loadKeyring(
  items: ReadonlyMap<string, string>,
  ctx: AdoptionContext,
): LoadedKeyring {
  const reading = readStores(items, true);
  const { keyring, adopted, folded } = foldReading(reading, ctx);
  // Without a keyring item, versions go on from the stored documents' (the item deleted by hand):
  // a version this service committed before is never reused, so its claim stays history.
  if (adopted) keyring.version = Math.max(keyring.version, documentVersion(items));
  return { keyring, adopted, skipped: reading.skipped, drift: reading.drift, folded, reading };
}

/**
 * The config items a keyring implies, `keyring` included, and the key documents rendered from it
 * (left out when one would exceed the item limit: the edge then reads the keyring).
 */
export function derivedItems(
  keyring: Keyring,
  nextTransitionAtMs: number | null = null,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keyring.keysets) out.set(k.id, JSON.stringify(k.jwk));
  out.set(ITEM_KEYS.activeKids, formatActiveKids(publishedKeysets(keyring).map((k) => k.id)));
  const active = activeKeyset(keyring);
  if (active) out.set(ITEM_KEYS.currentKid, active.id);
  const text = serializeKeyring(keyring);
  out.set(ITEM_KEYS.keyring, text);
  // Rendered from the keyring as read back, so the stored bytes are the ones the edge would
  // render from the `keyring` item (member order included).
  const canonical = parseKeyring(text);
  for (const kind of ['jwks', 'discovery'] as const) {
    const value = renderDocumentItem(kind, canonical, nextTransitionAtMs);
    if (value !== null) out.set(DOCUMENT_ITEM_KEYS[kind], value);
  }
  return out;
}

/** The stored documents, after `keyring` in a commit: any prefix holding one holds the keyring. */
const DOCUMENT_KEYS: readonly string[] = [DOCUMENT_ITEM_KEYS.jwks, DOCUMENT_ITEM_KEYS.discovery];

/**
 * The bulk operations that take `current` items to `next`'s. Order matters if Fastly applies a
 * bulk request partially: JWKs first, then `active-kids`, `current-kid`, `keyring`, the stored
 * documents, and deletions of dropped JWKs last, so every prefix publishes no kid without its JWK
 * and holds no document newer than the keyring.
 */
export function itemOpsFor(
  current: ReadonlyMap<string, string>,
  previous: Keyring,
  next: Keyring,
  nextTransitionAtMs: number | null = null,
): ConfigItemOp[] {
  const wanted = derivedItems(next, nextTransitionAtMs);
  const ops: ConfigItemOp[] = [];
  const upsert = (key: string): void => {
    const value = wanted.get(key);
    if (value !== undefined && current.get(key) !== value) ops.push({ op: 'upsert', key, value });
  };
  for (const k of next.keysets) upsert(k.id);
  upsert(ITEM_KEYS.activeKids);
  upsert(ITEM_KEYS.currentKid);
  upsert(ITEM_KEYS.keyring);
  for (const key of DOCUMENT_KEYS) {
    if (wanted.has(key)) upsert(key);
    else if (current.has(key)) ops.push({ op: 'delete', key });
  }
  if (!wanted.has(ITEM_KEYS.currentKid) && current.has(ITEM_KEYS.currentKid)) {
    ops.push({ op: 'delete', key: ITEM_KEYS.currentKid });
  }
  const kept = new Set(next.keysets.map((k) => k.id));
  for (const k of previous.keysets) {
    if (!kept.has(k.id) && current.has(k.id)) ops.push({ op: 'delete', key: k.id });
  }
  // A removed kid's JWK item that an earlier bulk left behind (its deletions never landed).
  for (const id of next.retired ?? []) {
    if (!kept.has(id) && current.has(id) && !ops.some((op) => op.key === id)) {
      ops.push({ op: 'delete', key: id });
    }
  }
  return ops;
}

/**
 * Operations that put back, for every key `ops` touched, the value it had in `original`; in
 * reverse order, so a kid is unpublished before its JWK goes.
 */
export function revertOps(
  ops: readonly ConfigItemOp[],
  original: ReadonlyMap<string, string>,
  now: ReadonlyMap<string, string>,
): ConfigItemOp[] {
  const out: ConfigItemOp[] = [];
  for (const { key } of [...ops].reverse()) {
    const before = original.get(key);
    if (before === now.get(key)) continue;
    out.push(before === undefined ? { op: 'delete', key } : { op: 'upsert', key, value: before });
  }
  return out;
}

/** The highest keyring version a stored key document was rendered from (0: none). */
function documentVersion(items: ReadonlyMap<string, string>): number {
  let version = 0;
  for (const key of Object.values(DOCUMENT_ITEM_KEYS)) {
    // A document rendered from a keyring starts with its ETag, the version: `"12"`.
    const first = /^"(\d{1,15})"\n/.exec(items.get(key) ?? '');
    if (first) version = Math.max(version, Number(first[1]));
  }
  return version;
}
