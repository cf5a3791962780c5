// The hot path's view of a deployment: what the edge Config Store says is published and which
// key signs, read through the one reading of the stores (`./store-reading.ts`) from the items the
// edge fetches: the keyring, `current-kid` and `active-kids`, then the JWK item of every kid those
// publish. When Trusted Server's items drifted from the keyring, this is what its signer uses.
import { TskError } from '../errors.js';
import type { PublicJwk } from '../keys/jwk.js';
import type { EdgeConfig } from '../ports.js';
import { PUBLISHED_STATES, type Keyring, type KeysetState } from './document.js';
import { readEdgeItems, readStores } from './store-reading.js';

/** A key set as the edge sees it. */
export interface EdgeKeyset {
  id: string;
  state: KeysetState;
  jwk: PublicJwk;
  /** TAINTED only: when, and its cutoff (`./taint-cutoff.ts`). */
  tainted_at?: string;
  taint_cutoff?: string;
}

/** The edge's view of a deployment. */
export interface EdgeKeyring {
  /** The keyring version, or null for a store written only by Trusted Server's tools. */
  version: number | null;
  /** Every key set the store knows, published or not. */
  keysets: EdgeKeyset[];
  /** The whole keyring, when the store has one (the schedule's times live there). */
  keyring?: Keyring;
  /** True when Trusted Server's items disagree with the keyring (the view follows them). */
  drifted?: boolean;
}

/**
 * Reads the edge view; a corrupt `keyring` item falls back to Trusted Server's items. With
 * `onlyKids` (`/verify-signature`: the one kid it verifies), only those kids' JWK items are read
 * and `keysets` holds only those kids, each exactly as the full reading has it (no `drifted`:
 * the other kids' items were not read).
 */
export async function readEdgeKeyring(
  config: EdgeConfig,
  onlyKids?: readonly string[],
): Promise<EdgeKeyring & { corrupt?: string }> {
  const reading = readStores(await readEdgeItems((key) => config.get(key), onlyKids), false);
  return {
    version: reading.version,
    keysets: onlyKids ? reading.keysets.filter((k) => onlyKids.includes(k.id)) : reading.keysets,
    ...(reading.keyring ? { keyring: reading.keyring } : {}),
    // A partial reading's drift list speaks of items it did not read: left out.
    ...(reading.drift.length > 0 && !onlyKids ? { drifted: true } : {}),
    ...(reading.corrupt !== undefined ? { corrupt: reading.corrupt } : {}),
  };
}

/** The key sets partners see. */
export function publishedEdgeKeysets(view: EdgeKeyring): EdgeKeyset[] {
  return view.keysets.filter((k) => PUBLISHED_STATES.has(k.state));
}

/** The signing key set (what Trusted Server's signer uses) or `no_active_key`. */
export function activeEdgeKeyset(view: EdgeKeyring): EdgeKeyset {
  const active = view.keysets.find((k) => k.state === 'ACTIVE');
  if (!active)
    throw new TskError(
      'no_active_key',
      'no ACTIVE key set is published; rotate or activate a key first',
    );
  return active;
}
