// The keyring document: the `keyring` config item that records every key set of a deployment,
// its state and the time of each transition. Validated on every read; bounded by Fastly's
// 8,000-character config item limit before every write.
import * as z from 'zod/mini';
import { TskError } from '../errors.js';
import { PublicJwkSchema, type PublicJwk } from '../keys/jwk.js';

/** The states of docs/architecture.md's lifecycle table (removed key sets leave the document). */
export const KEYSET_STATES = ['PREPARED', 'ACTIVE', 'TAINTED', 'DEACTIVATED'] as const;
/** One key set's lifecycle state. */
export type KeysetState = (typeof KEYSET_STATES)[number];

/** States whose JWK partners see (in `active-kids` and the JWKS). */
export const PUBLISHED_STATES: ReadonlySet<KeysetState> = new Set([
  'PREPARED',
  'ACTIVE',
  'TAINTED',
]);

/** Fastly's limit on a config item's value. */
export const MAX_KEYRING_CHARS = 8000;

const timestamp = z.iso.datetime();

/** Why a key set cannot sign: the codes an activation of it is refused with (409). */
export const UNUSABLE_CODES = [
  'key_material_missing',
  'key_material_invalid',
  'key_material_mismatch',
] as const;
/** One of `UNUSABLE_CODES`. */
export type UnusableCode = (typeof UNUSABLE_CODES)[number];

/** Set on a key set whose key material was found unusable (docs/architecture.md, "Unusable keys"). */
export interface Unusable {
  code: UnusableCode;
  reason: string;
}

const KeysetSchema = z.object({
  id: z.string(),
  state: z.enum(KEYSET_STATES),
  jwk: PublicJwkSchema,
  issued_at: timestamp,
  expires_at: timestamp,
  activated_at: z.optional(timestamp),
  tainted_at: z.optional(timestamp),
  /** TAINTED: payloads whose `ts` is not before this no longer verify (`./taint-cutoff.ts`). */
  taint_cutoff: z.optional(timestamp),
  deactivated_at: z.optional(timestamp),
  /** When a restore published it again; absent: published since `issued_at`. */
  published_at: z.optional(timestamp),
  /** When it last stopped signing (another key set was activated). */
  superseded_at: z.optional(timestamp),
  unusable: z.optional(z.object({ code: z.enum(UNUSABLE_CODES), reason: z.string() })),
  /** When the service wrote this key's endorsement into the key log (docs/key-log.md). */
  endorsed_at: z.optional(timestamp),
});

const KeyringSchema = z.object({
  schema: z.literal(1),
  deployment: z.string(),
  version: z.number().check(z.int(), z.nonnegative()),
  updated_at: timestamp,
  keysets: z.array(KeysetSchema),
  /**
   * The key log's root, once the service started the log (docs/key-log.md). Before `retired`,
   * which `retireKid` appends, so a keyring object and its canonical text list members alike.
   */
  key_log: z.optional(z.object({ root_kid: z.string(), root_fingerprint: z.string() })),
  /** Kids removed from this deployment, oldest first (see `retireKid`): never issued again. */
  retired: z.optional(z.array(z.string())),
});

/** One key set (one Ed25519 key; its id is its kid). */
export interface Keyset {
  id: string;
  state: KeysetState;
  jwk: PublicJwk;
  issued_at: string;
  expires_at: string;
  activated_at?: string;
  tainted_at?: string;
  /** TAINTED: payloads whose `ts` is not before this no longer verify (`./taint-cutoff.ts`). */
  taint_cutoff?: string;
  deactivated_at?: string;
  /** When a restore published it again; absent: published since `issued_at`. */
  published_at?: string;
  /** When it last stopped signing (another key set was activated). */
  superseded_at?: string;
  /** Present when the key material cannot sign: never activated or restored, only removed. */
  unusable?: Unusable;
  /**
   * When the service wrote this key's endorsement into the key log, in the same commit as this
   * keyring (docs/key-log.md). Absent: not endorsed by this service (drift, or before the log).
   */
  endorsed_at?: string;
}

/** The whole document. */
export interface Keyring {
  schema: 1;
  deployment: string;
  version: number;
  updated_at: string;
  keysets: Keyset[];
  /** Kids removed from this deployment, oldest first; a new key never takes one. */
  retired?: string[];
  /** The key log's root, once the service started the log (docs/key-log.md): what partners pin. */
  key_log?: KeyLogRoot;
}

/** The key log's root as the keyring and the discovery document name it. */
export interface KeyLogRoot {
  root_kid: string;
  /** base64url SHA-256 of the root's raw 32-byte public key. */
  root_fingerprint: string;
}

/**
 * How many removed kids a keyring remembers. Partners cache keys by kid, so a kid is never
 * issued for a second key; the memory is bounded so the document stays under Fastly's item limit
 * (200 kids of up to 25 characters take about 5,400 of its 8,000). The oldest are forgotten
 * first: a generated kid carries today's date, so it cannot collide with one that old.
 */
export const MAX_RETIRED_KIDS = 200;

/** `keyring` with `id` added to its retired kids (the oldest dropped beyond the bound). */
export function retireKid(keyring: Keyring, id: string): Keyring {
  const retired = [...(keyring.retired ?? []).filter((k) => k !== id), id];
  return { ...keyring, retired: retired.slice(-MAX_RETIRED_KIDS) };
}

/** Whether `id` was used by a key set this deployment has removed. */
export function isRetired(keyring: Pick<Keyring, 'retired'>, id: string): boolean {
  return keyring.retired?.includes(id) ?? false;
}

/** Parses and validates the stored document; `keyring_corrupt` names the first bad field. */
export function parseKeyring(text: string): Keyring {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TskError('keyring_corrupt', 'the keyring config item is not valid JSON');
  }
  const result = KeyringSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new TskError(
      'keyring_corrupt',
      `the keyring config item is invalid at ${where}: ${issue?.message ?? ''}`,
    );
  }
  const keyring = result.data as Keyring;
  assertInvariants(keyring);
  return keyring;
}

/** Serializes for the `keyring` item; `keyring_too_large` before Fastly would refuse it. */
export function serializeKeyring(keyring: Keyring): string {
  // Canonical: members in the schema's order whatever order the object was built in, so that the
  // text of a document read back is the text that was written (the journal compares them).
  const text = JSON.stringify(KeyringSchema.parse(keyring));
  if (text.length > MAX_KEYRING_CHARS) {
    throw new TskError(
      'keyring_too_large',
      `the keyring would be ${text.length} characters, over Fastly's ${MAX_KEYRING_CHARS}-character config item limit; remove retired key sets first`,
      { details: { keyring_chars: text.length, keysets: keyring.keysets.length } },
    );
  }
  return text;
}

/** `expires_at` of a key set issued at `nowMs` with a lifetime of `days`. */
export function expiryOf(nowMs: number, days: number): string {
  return new Date(nowMs + days * 86_400_000).toISOString();
}

/**
 * Since when partners have been able to fetch the key set's JWK: its last restore, else its
 * creation (a key set is published from the moment it is prepared).
 */
export function publishedSince(keyset: Pick<Keyset, 'issued_at' | 'published_at'>): string {
  return keyset.published_at ?? keyset.issued_at;
}

/** The ACTIVE key set, if any. */
export function activeKeyset(keyring: Pick<Keyring, 'keysets'>): Keyset | undefined {
  return keyring.keysets.find((k) => k.state === 'ACTIVE');
}

/** Key sets partners see, in document order. */
export function publishedKeysets(keyring: Pick<Keyring, 'keysets'>): Keyset[] {
  return keyring.keysets.filter((k) => PUBLISHED_STATES.has(k.state));
}

/** An empty keyring for a deployment that has no keys yet. */
export function emptyKeyring(deployment: string, nowIso: string): Keyring {
  return { schema: 1, deployment, version: 0, updated_at: nowIso, keysets: [] };
}

function assertInvariants(keyring: Keyring): void {
  const ids = new Set<string>();
  for (const k of keyring.keysets) {
    if (ids.has(k.id))
      throw new TskError('keyring_corrupt', `the keyring lists key set "${k.id}" twice`);
    if (k.jwk.kid !== k.id)
      throw new TskError('keyring_corrupt', `key set "${k.id}" carries the JWK of "${k.jwk.kid}"`);
    ids.add(k.id);
  }
  if (keyring.keysets.filter((k) => k.state === 'ACTIVE').length > 1) {
    throw new TskError('keyring_corrupt', 'the keyring has more than one ACTIVE key set');
  }
}
