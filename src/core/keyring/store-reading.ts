// The one reading of a deployment's stores (docs/architecture.md, "Reading the stores"): given
// the config items (the `keyring` document and Trusted Server's `current-kid`, `active-kids` and
// per-kid JWKs), what is published now, which kid signs, each kid's state, and every way Trusted
// Server's items drift from the keyring. The edge routes (JWKS, discovery, verify, sign) and the
// admin API (keyset list, doctor, every mutation) all read through here, so the admin view can
// never call a key ACTIVE that the edge does not serve.
//
// The rule: Trusted Server's items say what is live, because Trusted Server's signer reads
// `current-kid` and `signing_keys/<current-kid>` on every request whatever the keyring says. The
// keyring adds what Trusted Server has no words for (TAINTED, history, a JWK its item lost).
import { TskError } from '../errors.js';
import { parseActiveKids } from '../keys/active-kids.js';
import { parseJwkItem, type PublicJwk } from '../keys/jwk.js';
import { RESERVED_ITEM_KEYS } from '../keys/kid.js';
import { parseKeyring, type Keyring, type Keyset, type KeysetState } from './document.js';

/** Trusted Server's items and the keyring, by config item key. */
export const STORE_KEYS = {
  currentKid: 'current-kid',
  activeKids: 'active-kids',
  keyring: 'keyring',
} as const;

/** Every way Trusted Server's items can disagree with the keyring (or with themselves). */
export type DriftCode =
  /** A kid Trusted Server publishes (its rotate) that the keyring does not list. */
  | 'kid_added'
  /** A kid the keyring publishes that `active-kids` no longer lists (its deactivate). */
  | 'kid_removed'
  /** A kid the keyring lists as DEACTIVATED that `active-kids` lists again. */
  | 'kid_republished'
  /** A kid the keyring lists whose JWK item is gone (its delete). */
  | 'kid_deleted'
  /** A JWK item for a kid the keyring does not list and nobody publishes (a rotate half done). */
  | 'kid_unlisted'
  /** `current-kid` names another kid than the keyring's ACTIVE one. */
  | 'current_changed'
  /** `current-kid` is not in `active-kids`: Trusted Server's own JWKS lacks its signing key. */
  | 'current_not_published'
  /** `active-kids` exists but `current-kid` does not: Trusted Server's signer cannot sign. */
  | 'current_missing'
  /** `current-kid` has no valid JWK anywhere: nothing it signs can be verified. */
  | 'current_without_jwk'
  /** A kid in `active-kids` with no valid JWK anywhere: partners cannot fetch it. */
  | 'published_without_jwk'
  /** A JWK item's `x` differs from the keyring's. */
  | 'jwk_changed'
  /** A JWK item of a listed kid is not a valid Ed25519 JWK for it (the keyring's is used). */
  | 'jwk_invalid';

/** One disagreement, in words the admin API, doctor and the audit trail share. */
export interface Drift {
  code: DriftCode;
  kid?: string;
  /** `error`: a signature or a partner's fetch fails now; `warning`: folded by the next change. */
  severity: 'error' | 'warning';
  message: string;
}

/** A key set as the stores say it is now. */
export interface ReadKeyset {
  id: string;
  state: KeysetState;
  jwk: PublicJwk;
  /** TAINTED only: when, and its cutoff (`./taint-cutoff.ts`), from the keyring. */
  tainted_at?: string;
  taint_cutoff?: string;
}

/** What the stores say, read one way for everyone. */
export interface StoreReading {
  /** The keyring as stored, or null (none, or corrupt: see `corrupt`). */
  keyring: Keyring | null;
  /** Why the `keyring` item could not be read, when it exists but is invalid. */
  corrupt?: string;
  /** The keyring version, or null for a store written only by Trusted Server's tools. */
  version: number | null;
  /** Every key set, in its state as served now; published ones are what the JWKS holds. */
  keysets: ReadKeyset[];
  /** The kid Trusted Server's signer uses (the one ACTIVE key set), or null when none can sign. */
  signingKid: string | null;
  drift: Drift[];
  /** Kids named by `active-kids` or `current-kid` that have no valid JWK and are left out. */
  skipped: string[];
}

/** Where a kid's JWK item stands. */
type ItemJwk = { jwk: PublicJwk } | 'absent' | 'invalid' | 'unread';

/**
 * Reads the stores. `items` holds config items by key; `complete` says it holds every item (the
 * management API's read) rather than only those the edge fetched (`edgeItemKeys`): then an absent
 * JWK of an unpublished kid means "not read", not "deleted", and unlisted JWK items are not seen.
 */
export function readStores(items: ReadonlyMap<string, string>, complete: boolean): StoreReading {
  let keyring: Keyring | null = null;
  let corrupt: string | undefined;
  const text = items.get(STORE_KEYS.keyring);
  if (text !== undefined) {
    try {
      keyring = parseKeyring(text);
    } catch (err) {
      corrupt = err instanceof TskError ? err.message : 'invalid keyring';
    }
  }
  const base = { keyring, version: keyring?.version ?? null, ...(corrupt ? { corrupt } : {}) };
  const currentRaw = items.get(STORE_KEYS.currentKid);
  const activeRaw = items.get(STORE_KEYS.activeKids);

  // No Trusted Server item at all: nothing to disagree with, the keyring says everything.
  if (currentRaw === undefined && activeRaw === undefined) {
    const keysets = (keyring?.keysets ?? []).map(({ id, state, jwk }) => ({ id, state, jwk }));
    const reading = { ...base, keysets, drift: [], skipped: [] };
    const active = keysets.find((k) => k.state === 'ACTIVE');
    if (keyring || !complete) return { ...reading, signingKid: active?.id ?? null };
    return { ...reading, keysets: unlisted(items, new Set()), signingKid: null };
  }

  const drift: Drift[] = [];
  const skipped: string[] = [];
  const listed = new Map((keyring?.keysets ?? []).map((k) => [k.id, k]));
  const itemJwk = (kid: string): ItemJwk => {
    const value = items.get(kid);
    if (value === undefined) return complete ? 'absent' : 'unread';
    const jwk = parseJwkItem(value, kid);
    return jwk ? { jwk } : 'invalid';
  };
  /** The JWK partners get for a kid: its item's, else the keyring's (an item lost or broken). */
  const jwkOf = (kid: string): PublicJwk | null => {
    const item = itemJwk(kid);
    return typeof item === 'object' ? item.jwk : (listed.get(kid)?.jwk ?? null);
  };

  const current = currentRaw?.trim() || null;
  const active = parseActiveKids(activeRaw ?? null);
  const published = new Map<string, PublicJwk>();
  for (const kid of active) {
    const jwk = jwkOf(kid);
    if (jwk) published.set(kid, jwk);
    else if (kid !== current) {
      skipped.push(kid);
      drift.push({
        code: 'published_without_jwk',
        kid,
        severity: 'error',
        message: `${kid} is in active-kids but has no valid JWK: partners cannot fetch it`,
      });
    }
  }
  let signingKid: string | null = null;
  if (current) {
    const jwk = jwkOf(current);
    if (jwk) {
      signingKid = current;
      // A partner must always be able to fetch the key that signs, listed or not.
      if (!published.has(current)) {
        published.set(current, jwk);
        drift.push({
          code: 'current_not_published',
          kid: current,
          severity: 'error',
          message: `current-kid ${current} is not in active-kids: Trusted Server's own JWKS lacks its signing key (this service serves it)`,
        });
      }
    } else {
      skipped.push(current);
      drift.push({
        code: 'current_without_jwk',
        kid: current,
        severity: 'error',
        message: `current-kid ${current} has no valid JWK: what Trusted Server signs with it cannot be verified`,
      });
    }
  } else if (keyring?.keysets.some((k) => k.state === 'ACTIVE')) {
    drift.push({
      code: 'current_missing',
      severity: 'error',
      message: "current-kid is missing: Trusted Server's signer cannot sign",
    });
  }

  const keysets: ReadKeyset[] = [];
  const seen = new Set<string>();
  for (const k of keyring?.keysets ?? []) {
    seen.add(k.id);
    const item = itemJwk(k.id);
    if (item === 'absent' && !published.has(k.id)) {
      drift.push({
        code: 'kid_deleted',
        kid: k.id,
        severity: 'warning',
        message: `${k.id} is in the keyring but its JWK item is gone (deleted behind the keyring's back)`,
      });
      continue;
    }
    if (typeof item === 'object' && item.jwk.x !== k.jwk.x) {
      drift.push({
        code: 'jwk_changed',
        kid: k.id,
        severity: 'warning',
        message: `the JWK item of ${k.id} holds another public key than the keyring: the item's is served`,
      });
    } else if (item === 'invalid') {
      drift.push({
        code: 'jwk_invalid',
        kid: k.id,
        severity: 'warning',
        message: `the JWK item of ${k.id} is not a valid Ed25519 JWK for it: the keyring's is served`,
      });
    }
    const jwk = published.get(k.id) ?? (typeof item === 'object' ? item.jwk : k.jwk);
    let state: KeysetState;
    if (k.id === signingKid) {
      state = 'ACTIVE';
      if (k.state !== 'ACTIVE') {
        drift.push({
          code: 'current_changed',
          kid: k.id,
          severity: 'warning',
          message: `current-kid is ${k.id}, which the keyring has as ${k.state}: Trusted Server signs with it`,
        });
      }
    } else if (published.has(k.id)) {
      state = k.state === 'TAINTED' ? 'TAINTED' : 'PREPARED';
      if (k.state === 'DEACTIVATED') {
        drift.push({
          code: 'kid_republished',
          kid: k.id,
          severity: 'warning',
          message: `${k.id} is DEACTIVATED in the keyring but active-kids publishes it again`,
        });
      }
    } else {
      state = 'DEACTIVATED';
      if (k.state !== 'DEACTIVATED') {
        drift.push({
          code: 'kid_removed',
          kid: k.id,
          severity: 'warning',
          message: `${k.id} is ${k.state} in the keyring but active-kids no longer publishes it`,
        });
      }
    }
    keysets.push({ id: k.id, state, jwk, ...(state === 'TAINTED' ? taintOf(k) : {}) });
  }
  for (const [id, jwk] of published) {
    if (seen.has(id)) continue;
    seen.add(id);
    const state = id === signingKid ? 'ACTIVE' : 'PREPARED';
    keysets.push({ id, state, jwk });
    if (keyring) {
      drift.push({
        code: 'kid_added',
        kid: id,
        severity: 'warning',
        message: `${id} is published${state === 'ACTIVE' ? ' and signing' : ''} but the keyring does not list it (Trusted Server's rotate)`,
      });
    }
  }
  for (const k of complete ? unlisted(items, seen) : []) {
    // The JWK item of a kid this service removed, left by a bulk update whose last part (the
    // deletions) never landed: not a key set, and the next commit deletes it (`itemOpsFor`).
    if (keyring?.retired?.includes(k.id)) continue;
    keysets.push(k);
    if (keyring) {
      drift.push({
        code: 'kid_unlisted',
        kid: k.id,
        severity: 'warning',
        message: `a JWK item for ${k.id} exists that the keyring does not list and nothing publishes`,
      });
    }
  }
  return { ...base, keysets, signingKid, drift, skipped };
}

/** Items holding a valid JWK for their own key, not yet seen: unpublished key sets. */
function unlisted(items: ReadonlyMap<string, string>, seen: ReadonlySet<string>): ReadKeyset[] {
  const out: ReadKeyset[] = [];
  for (const [key, value] of items) {
    if (RESERVED_ITEM_KEYS.has(key) || seen.has(key)) continue;
    const jwk = parseJwkItem(value, key);
    if (jwk) out.push({ id: key, state: 'DEACTIVATED', jwk });
  }
  return out;
}

/**
 * The config items the edge reads for a reading (`readStores(items, false)`): the keyring,
 * `current-kid` and `active-kids` first, then the JWK item of every kid those publish. With
 * `onlyKids`, only the JWK items of those kids (and only if published): 3 reads, plus one per
 * asked kid that is published, instead of one per published kid. In an edge reading a kid's key
 * set depends only on those three items and its own JWK item, so the reading is exact for the
 * asked kids; it is not for the others (their items were not read), nor for the drift list.
 */
export async function readEdgeItems(
  get: (key: string) => Promise<string | null>,
  onlyKids?: readonly string[],
): Promise<Map<string, string>> {
  const keys = [STORE_KEYS.keyring, STORE_KEYS.currentKid, STORE_KEYS.activeKids];
  const first = await Promise.all(keys.map(get));
  const items = new Map<string, string>();
  keys.forEach((key, i) => {
    const value = first[i];
    if (value != null) items.set(key, value);
  });
  const current = items.get(STORE_KEYS.currentKid)?.trim();
  let kids = parseActiveKids(items.get(STORE_KEYS.activeKids) ?? null);
  if (current && !kids.includes(current)) kids.push(current);
  if (onlyKids) kids = kids.filter((kid) => onlyKids.includes(kid));
  const jwks = await Promise.all(kids.map(get));
  kids.forEach((kid, i) => {
    const value = jwks[i];
    if (value != null) items.set(kid, value);
  });
  return items;
}

/** A keyring's key set by id. */
export function listedKeyset(reading: StoreReading, id: string): Keyset | undefined {
  return reading.keyring?.keysets.find((k) => k.id === id);
}

/** A TAINTED key set's taint times, as the keyring records them. */
function taintOf(k: Keyset): Pick<ReadKeyset, 'tainted_at' | 'taint_cutoff'> {
  return {
    ...(k.tainted_at !== undefined ? { tainted_at: k.tainted_at } : {}),
    ...(k.taint_cutoff !== undefined ? { taint_cutoff: k.taint_cutoff } : {}),
  };
}
