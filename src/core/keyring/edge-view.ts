// The hot path's view of a deployment: what the edge Config Store says is published and which
// key signs. One config read when the `keyring` item exists; Trusted Server's items otherwise.
import { TskError } from '../errors.js';
import { parseActiveKids } from '../keys/active-kids.js';
import { parseJwkItem, type PublicJwk } from '../keys/jwk.js';
import type { EdgeConfig } from '../ports.js';
import { PUBLISHED_STATES, parseKeyring, type Keyring, type KeysetState } from './document.js';
import { ITEM_KEYS } from './store-items.js';

/** A key set as the edge sees it. */
export interface EdgeKeyset {
  id: string;
  state: KeysetState;
  jwk: PublicJwk;
}

/** The edge's view of a deployment. */
export interface EdgeKeyring {
  /** The keyring version, or null for a store written only by Trusted Server's tools. */
  version: number | null;
  /** Every key set the store knows, published or not. */
  keysets: EdgeKeyset[];
  /** The whole keyring, when the store has one (the schedule's times live there). */
  keyring?: Keyring;
}

/** Reads the edge view; a corrupt `keyring` item falls back to Trusted Server's items. */
export async function readEdgeKeyring(
  config: EdgeConfig,
): Promise<EdgeKeyring & { corrupt?: string }> {
  const stored = await config.get(ITEM_KEYS.keyring);
  if (stored !== null) {
    try {
      const keyring = parseKeyring(stored);
      return {
        version: keyring.version,
        keysets: keyring.keysets.map(({ id, state, jwk }) => ({ id, state, jwk })),
        keyring,
      };
    } catch (err) {
      const fallback = await readTrustedServerItems(config);
      return { ...fallback, corrupt: err instanceof TskError ? err.message : 'invalid keyring' };
    }
  }
  return readTrustedServerItems(config);
}

async function readTrustedServerItems(config: EdgeConfig): Promise<EdgeKeyring> {
  const [activeKids, current] = await Promise.all([
    config.get(ITEM_KEYS.activeKids),
    config.get(ITEM_KEYS.currentKid),
  ]);
  const kids = parseActiveKids(activeKids);
  const jwks = await Promise.all(kids.map((kid) => config.get(kid)));
  const keysets: EdgeKeyset[] = [];
  kids.forEach((id, i) => {
    const text = jwks[i];
    const jwk = text == null ? null : parseJwkItem(text, id);
    if (jwk) keysets.push({ id, state: id === current?.trim() ? 'ACTIVE' : 'PREPARED', jwk });
  });
  return { version: null, keysets };
}

/** The key sets partners see. */
export function publishedEdgeKeysets(view: EdgeKeyring): EdgeKeyset[] {
  return view.keysets.filter((k) => PUBLISHED_STATES.has(k.state));
}

/** The signing key set or `no_active_key`. */
export function activeEdgeKeyset(view: EdgeKeyring): EdgeKeyset {
  const active = view.keysets.find((k) => k.state === 'ACTIVE');
  if (!active)
    throw new TskError(
      'no_active_key',
      'no ACTIVE key set is published; rotate or activate a key first',
    );
  return active;
}
