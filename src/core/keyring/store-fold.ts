// Folding a reading of the stores into a keyring (docs/architecture.md, "Drift"): the keyring the
// next commit writes, in which every kid Trusted Server's items name keeps the state they give it,
// so a commit never overwrites the key Trusted Server signs with and never drops one of its keys.
// Adoption of a store written only by Trusted Server's tools is the same fold from no keyring.
import { TskError } from '../errors.js';
import type { EdgeSecrets } from '../ports.js';
import { emptyKeyring, expiryOf, type Keyring, type Keyset } from './document.js';
import { materialProblem, probeMaterial } from './key-material.js';
import type { StoreReading } from './store-reading.js';

/** Facts a fold needs beyond the reading. */
export interface FoldContext {
  deployment: string;
  nowMs: number;
  keyLifetimeDays: number;
  /** The secret store's names (management API); without them no key is found missing. */
  secretNames?: ReadonlySet<string>;
}

/** A folded keyring and what folding changed. */
export interface Folded {
  keyring: Keyring;
  /** True when no `keyring` item existed: the keyring was built from Trusted Server's items. */
  adopted: boolean;
  /** One line per change folding made, for the audit trail; empty when nothing drifted. */
  folded: string[];
}

/**
 * Folds a reading. Published kids keep the state the stores give them; a key set that cannot sign
 * (no private key, an `x` that is not a point) is flagged `unusable` and, unless Trusted Server
 * signs with it, unpublished: it helps no partner, and an invalid point can break their JWKS.
 */
export function foldReading(reading: StoreReading, ctx: FoldContext): Folded {
  if (reading.corrupt !== undefined) throw new TskError('keyring_corrupt', reading.corrupt);
  const nowIso = new Date(ctx.nowMs).toISOString();
  const stored = reading.keyring;
  const folded: string[] = reading.drift.map((d) => d.message);
  const keysets: Keyset[] = [];
  for (const k of reading.keysets) {
    const prev = stored?.keysets.find((p) => p.id === k.id);
    const keyset: Keyset = prev
      ? { ...prev, jwk: k.jwk, state: k.state }
      : {
          id: k.id,
          state: k.state,
          jwk: k.jwk,
          issued_at: nowIso,
          // Adoption: Trusted Server's items carry no dates, so a key's age is unknown; it is
          // taken as expiring now, and the rotation schedule's first run prepares a successor.
          // A kid Trusted Server added to a keyring later was made just now.
          expires_at: stored === null ? nowIso : expiryOf(ctx.nowMs, ctx.keyLifetimeDays),
        };
    // A JWK someone else replaced is not the key the log endorsed (docs/key-log.md).
    if (prev?.endorsed_at !== undefined && prev.jwk.x !== k.jwk.x) delete keyset.endorsed_at;
    // Trusted Server keeps the keys it rotated away from in active-kids: a published key set that
    // does not sign and is new to the keyring stopped signing before now (or never did), and the
    // schedule must never take it for the next key to activate.
    if (!prev && k.state === 'PREPARED') keyset.superseded_at = nowIso;
    // A mismatch is only found by reading the private key; keep it unless the JWK changed.
    // A missing private key is only found by listing the secret names; a fold without the list
    // (a mutation whose reading shows no drift, docs/architecture.md "Reading the stores") keeps
    // what the last list found.
    const kept =
      prev?.jwk.x === k.jwk.x &&
      (prev.unusable?.code === 'key_material_mismatch' ||
        (ctx.secretNames === undefined && prev.unusable?.code === 'key_material_missing'));
    const problem = kept ? prev.unusable : materialProblem(k.id, k.jwk, ctx);
    if (problem) keyset.unusable = problem;
    else delete keyset.unusable;
    if (problem && (keyset.state === 'PREPARED' || keyset.state === 'TAINTED')) {
      keyset.state = 'DEACTIVATED';
      folded.push(`${k.id} unpublished as unusable (${problem.code})`);
    } else if (problem && !prev?.unusable) {
      folded.push(`${k.id} flagged unusable (${problem.code})`);
    } else if (!problem && prev?.unusable) {
      folded.push(`${k.id} no longer unusable`);
    }
    stamp(keyset, prev, nowIso);
    keysets.push(keyset);
  }
  const keyring: Keyring = {
    ...(stored ?? emptyKeyring(ctx.deployment, nowIso)),
    keysets,
  };
  return { keyring, adopted: stored === null, folded };
}

/** Timestamps of a state the fold gave a key set. */
function stamp(keyset: Keyset, prev: Keyset | undefined, nowIso: string): void {
  if (prev?.state === keyset.state) return;
  // Trusted Server made another key current: this one stopped signing now.
  if (prev?.state === 'ACTIVE') keyset.superseded_at = nowIso;
  if (keyset.state === 'ACTIVE') keyset.activated_at = nowIso;
  if (keyset.state === 'DEACTIVATED') keyset.deactivated_at = nowIso;
}

/**
 * Private keys read per fold at most. Fastly allows 5 secret reads a request: one is the admin
 * token, one the Fastly API token, one an activation's own check.
 */
export const MAX_PROBES = 2;

/**
 * Reads the private keys of key sets the fold brought in (not in the stored keyring) and flags
 * those that do not derive their JWK's `x`; at most `MAX_PROBES`, the rest are checked when
 * activated. Returns lines for the audit trail.
 */
export async function probeFolded(
  folded: Folded,
  stored: Keyring | null,
  privateKeys: EdgeSecrets,
): Promise<string[]> {
  const lines: string[] = [];
  const fresh = folded.keyring.keysets.filter(
    (k) => !k.unusable && !stored?.keysets.some((p) => p.id === k.id),
  );
  for (const keyset of fresh.slice(0, MAX_PROBES)) {
    const problem = await probeMaterial(keyset.id, keyset.jwk, privateKeys);
    if (problem === undefined || problem === 'unseen') continue;
    keyset.unusable = problem;
    if (keyset.state === 'PREPARED' || keyset.state === 'TAINTED') {
      keyset.state = 'DEACTIVATED';
      keyset.deactivated_at = folded.keyring.updated_at;
      lines.push(`${keyset.id} unpublished as unusable (${problem.code})`);
    } else {
      lines.push(`${keyset.id} flagged unusable (${problem.code})`);
    }
  }
  return lines;
}
