// The engine's rules for drift and key material (docs/architecture.md, "Drift" and "Unusable
// keys"), kept out of the engine so it only calls them: which drift a mutation may fold, what
// `adopt <kid>` must find, and the key-material check before an activation commits.
import { TskError } from '../errors.js';
import type { EdgeSecrets } from '../ports.js';
import type { Keyring } from './document.js';
import { assertActivatable } from './key-material.js';
import type { LoadedKeyring } from './store-items.js';

/**
 * Refuses a mutation whose commit would take away the kid Trusted Server signs with: when
 * `current-kid` names a kid with no JWK anywhere, the folded keyring has no ACTIVE key set and a
 * commit would delete `current-kid`. Only a rotate or an activate, which name a new signing key,
 * may go ahead (and mend it).
 */
export function assertFoldable(loaded: LoadedKeyring, operation: string): void {
  const broken = loaded.drift.find((d) => d.code === 'current_without_jwk');
  if (!broken || operation === 'rotate' || operation === 'activate') return;
  throw new TskError(
    'drift_unfoldable',
    `${broken.message}. A ${operation} would remove current-kid; rotate or activate a key set instead, which makes it the signing key`,
    { details: { drift: loaded.drift, keyring: loaded.keyring } },
  );
}

/** `adopt <kid>`: the kid must be one the stores name, so a script adopts what it meant to. */
export function adoptCheck(loaded: LoadedKeyring, kid: string | undefined): void {
  if (kid === undefined) return;
  if (loaded.keyring.keysets.some((k) => k.id === kid)) return;
  throw new TskError(
    'keyset_not_found',
    `${kid} is named by neither the keyring nor Trusted Server's items; nothing to adopt`,
    { details: { keyring: loaded.keyring } },
  );
}

/** Before `activate` or `restore` commits: the key set's key material can sign (409 otherwise). */
export async function materialCheck(
  operation: string,
  id: string,
  before: Keyring,
  secretNames: ReadonlySet<string> | undefined,
  privateKeys: EdgeSecrets | undefined,
): Promise<void> {
  if (operation !== 'activate' && operation !== 'restore') return;
  const keyset = before.keysets.find((k) => k.id === id);
  if (!keyset) return;
  try {
    await assertActivatable(keyset, operation, {
      ...(secretNames ? { secretNames } : {}),
      ...(privateKeys ? { privateKeys } : {}),
    });
  } catch (err) {
    if (!(err instanceof TskError)) throw err;
    // A refusal shows the keyring it was judged against, as every refusal of the engine does.
    throw new TskError(err.code, err.message, { details: { ...err.details, keyring: before } });
  }
}
