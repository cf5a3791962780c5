// Trusted Server's `KeyRotationManager` API, expressed through the keyring engine: rotate is
// prepare + activate in one commit, deactivate is deactivate, delete is remove.
import type { PublicJwk } from '../keys/jwk.js';
import { activeKeyset, publishedKeysets } from './document.js';
import type { KeyringEngine, MutationResult } from './engine.js';

/** What `rotateKey` reports, as Trusted Server's `KeyRotationResult`. */
export interface KeyRotationResult {
  newKid: string;
  previousKid: string | null;
  activeKids: string[];
  jwk: PublicJwk;
  result: MutationResult;
}

/** What `deactivateKey` / `deleteKey` report. */
export interface KeyDeactivationResult {
  kid: string;
  remainingActiveKids: string[];
  result: MutationResult;
}

/** Trusted Server–compatible key management over one deployment. */
export class KeyRotationManager {
  constructor(private readonly engine: KeyringEngine) {}

  /**
   * Creates a key and makes it the signing key; the previous one stays published. With `dryRun`,
   * checks and reports what it would do, writing nothing (the same for the methods below).
   */
  async rotateKey(
    kid?: string,
    ifMatch?: number | string,
    dryRun = false,
  ): Promise<KeyRotationResult> {
    const result = await this.engine.mutate({
      operation: 'rotate',
      ...(kid !== undefined ? { kid } : {}),
      ...(ifMatch !== undefined ? { ifMatch } : {}),
      dryRun,
    });
    const created = activeKeyset(result.after);
    if (!created) throw new Error('rotate committed without an ACTIVE key set');
    return {
      newKid: created.id,
      previousKid: activeKeyset(result.before)?.id ?? null,
      activeKids: publishedKeysets(result.after).map((k) => k.id),
      jwk: created.jwk,
      result,
    };
  }

  /** Stops publishing a key but keeps its JWK and private key (it can be restored). */
  async deactivateKey(
    kid: string,
    ifMatch?: number | string,
    dryRun = false,
  ): Promise<KeyDeactivationResult> {
    return this.report(
      kid,
      await this.engine.mutate({
        operation: 'deactivate',
        id: kid,
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        dryRun,
      }),
    );
  }

  /** Unpublishes a key and deletes its JWK and private key for good. */
  async deleteKey(
    kid: string,
    ifMatch?: number | string,
    dryRun = false,
  ): Promise<KeyDeactivationResult> {
    return this.report(
      kid,
      await this.engine.mutate({
        operation: 'remove',
        id: kid,
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        dryRun,
      }),
    );
  }

  /** The published kids (`active-kids`), read through the management API. */
  async listActiveKeys(): Promise<string[]> {
    const { keyring } = await this.engine.read();
    return publishedKeysets(keyring).map((k) => k.id);
  }

  /** The signing kid (`current-kid`), read through the management API; null when none. */
  async getCurrentKeyId(): Promise<string | null> {
    const { keyring } = await this.engine.read();
    return activeKeyset(keyring)?.id ?? null;
  }

  private report(kid: string, result: MutationResult): KeyDeactivationResult {
    return { kid, remainingActiveKids: publishedKeysets(result.after).map((k) => k.id), result };
  }
}
