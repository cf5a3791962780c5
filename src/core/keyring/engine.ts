// The rotation engine: reads a deployment's authoritative state through the management API,
// applies one lifecycle operation and commits it in docs/architecture.md's commit order: private
// key first, then one bulk config update, secret deletions last; undoes what it wrote on failure.
import { generateSeed, publicKeyOf } from '../crypto/ed25519.js';
import { TskError, hasCode } from '../errors.js';
import { publicJwk } from '../keys/jwk.js';
import { assertKidFormat, assertNewKid, dateKid, uniqueKid } from '../keys/kid.js';
import { encodeSeed } from '../keys/seed-encoding.js';
import type { Clock, ConfigItemOp, KeyStoreApi, Random } from '../ports.js';
import { expiryOf, serializeKeyring, type Keyring, type Keyset } from './document.js';
import {
  ITEM_KEYS,
  itemOpsFor,
  loadKeyring,
  revertOps,
  type LoadedKeyring,
} from './store-items.js';
import { findKeyset, transition, type Operation } from './transitions.js';

/** A held lease: its deadline and how to give it back. */
export interface Lease {
  expiresAtMs: number;
  release(): Promise<void>;
}

/** Serializes mutations of one deployment (the KV lease); absent, the engine does not lock. */
export interface MutationGuard {
  /** Takes the deployment's lease for `operation` or throws `operation_in_progress`. */
  acquire(deployment: string, operation: Operation): Promise<Lease>;
}

/** What the engine needs. */
export interface EngineDeps {
  api: KeyStoreApi;
  clock: Clock;
  random: Random;
  deployment: string;
  keyLifetimeDays: number;
  guard?: MutationGuard;
  /** Bound of one management-API call: no write starts unless it can finish inside the lease. */
  callTimeoutMs?: number;
}

/** One request to change the keyring. */
export interface MutationRequest {
  operation: Operation;
  /** The key set operated on (activate, taint, deactivate, restore, remove). */
  id?: string;
  /** A chosen kid for prepare/rotate; by default `ts-YYYY-MM-DD`. */
  kid?: string;
  /** The keyring version the caller last saw (If-Match); a mismatch is refused with 412. */
  ifMatch?: number;
}

/** What a committed mutation did. */
export interface MutationResult {
  operation: Operation;
  /** The key set operated on, as it is now (as it was, for remove); absent for an orphan cleanup. */
  keyset?: Keyset;
  /** Set when `remove` found no key set but deleted a private key left by an interrupted remove. */
  deletedOrphanSecret?: string;
  before: Keyring;
  after: Keyring;
  adopted: boolean;
  /** Things that went wrong after the commit and need no action now (e.g. a lease not released). */
  warnings: string[];
}

/** A commit in flight, as recovery needs it. */
interface CommitAttempt {
  before: Keyring;
  after: Keyring;
  items: ReadonlyMap<string, string>;
  ops: ConfigItemOp[];
  createdSecret: string | undefined;
}

/** Applies lifecycle operations to one deployment's stores. */
export class KeyringEngine {
  constructor(private readonly deps: EngineDeps) {}

  /** The authoritative keyring (adopting a Trusted Server–only store in memory if needed). */
  async read(): Promise<LoadedKeyring & { items: Map<string, string> }> {
    const items = await this.deps.api.readConfigItems();
    const loaded = loadKeyring(items, {
      deployment: this.deps.deployment,
      nowMs: this.deps.clock.now(),
      keyLifetimeDays: this.deps.keyLifetimeDays,
    });
    return { ...loaded, items };
  }

  /** Runs one operation under the deployment's lease, if a guard is configured. */
  async mutate(request: MutationRequest): Promise<MutationResult> {
    if (request.id !== undefined) assertKidFormat(request.id);
    if (request.kid !== undefined) assertNewKid(request.kid);
    const lease = await this.deps.guard?.acquire(this.deps.deployment, request.operation);
    let result: MutationResult | undefined;
    try {
      result = await this.commit(request, lease);
      return result;
    } finally {
      try {
        await lease?.release();
      } catch {
        // The commit stands; the lease lapses at its bound. Say so, but do not fail the operation.
        result?.warnings.push(
          'the deployment lease could not be released; it expires within 120 s',
        );
      }
    }
  }

  /** Refuses to start a write that might still run when the lease's bound has passed. */
  private checkDeadline(lease: Lease | undefined): void {
    if (!lease) return;
    const budget = this.deps.callTimeoutMs ?? 15_000;
    if (this.deps.clock.now() + budget > lease.expiresAtMs) {
      throw new TskError(
        'upstream_timeout',
        'the operation ran out of its 120 s bound before committing; nothing was changed',
      );
    }
  }

  private async commit(
    request: MutationRequest,
    lease: Lease | undefined,
  ): Promise<MutationResult> {
    const { api, clock } = this.deps;
    const { keyring: before, items, adopted } = await this.read();
    if (request.ifMatch !== undefined && request.ifMatch !== before.version) {
      throw new TskError(
        'keyring_version_mismatch',
        `the keyring is at version ${before.version}, not ${request.ifMatch}; list the key sets and retry`,
        { details: { keyring: before } },
      );
    }
    const nowMs = clock.now();
    const nowIso = new Date(nowMs).toISOString();
    const created = await this.createdKeyset(request, before, items, nowMs);
    const id = created?.keyset.id ?? request.id ?? '';
    if (request.operation === 'remove' && !before.keysets.some((k) => k.id === id)) {
      return this.removeOrphanSecret(id, before, adopted);
    }
    const removed = request.operation === 'remove' ? findKeyset(before, id) : undefined;
    let after: Keyring;
    try {
      after = transition(before, request.operation, {
        id,
        nowIso,
        ...(created ? { created: created.keyset } : {}),
      });
    } catch (err) {
      // A refusal shows the keyring it was judged against, so the caller can see why.
      if (!(err instanceof TskError)) throw err;
      throw new TskError(err.code, err.message, { details: { ...err.details, keyring: before } });
    }
    after.version = before.version + 1;
    const ops = itemOpsFor(items, before, after);

    this.checkDeadline(lease);
    if (created) {
      try {
        await api.createSecret(id, created.secret);
      } catch (err) {
        if (hasCode(err, 'secret_exists')) {
          throw new TskError(
            'kid_exists',
            `a private key named "${id}" already exists in the secret store; choose another kid`,
          );
        }
        // The create may have landed although its answer did not arrive (a timeout): take it back.
        await api.deleteSecret(id).catch(() => false);
        throw err;
      }
    }
    try {
      this.checkDeadline(lease);
      await api.patchConfigItems(ops);
    } catch (err) {
      await this.recover(err, {
        before,
        after,
        items,
        ops,
        createdSecret: created ? id : undefined,
      });
    }
    if (removed) await this.deleteRemovedSecret(removed.id, after);
    const keyset = removed ?? findKeyset(after, id);
    return { operation: request.operation, keyset, before, after, adopted, warnings: [] };
  }

  private async createdKeyset(
    request: MutationRequest,
    keyring: Keyring,
    items: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<{ keyset: Keyset; secret: string } | undefined> {
    if (request.operation !== 'prepare' && request.operation !== 'rotate') return undefined;
    const taken = (kid: string): boolean =>
      items.has(kid) || keyring.keysets.some((k) => k.id === kid);
    let kid: string;
    if (request.kid !== undefined) {
      if (taken(request.kid))
        throw new TskError(
          'kid_exists',
          `kid "${request.kid}" already exists; choose a unique kid`,
        );
      kid = request.kid;
    } else {
      // A generated kid must also miss private keys the keyring does not list (one left by an
      // interrupted remove), or the caller would be told to choose a kid they never chose.
      const secrets = new Set(await this.deps.api.listSecretNames());
      kid = uniqueKid(dateKid(nowMs), (k) => taken(k) || secrets.has(k), this.deps.random);
    }
    const seed = generateSeed(this.deps.random);
    const jwk = publicJwk(kid, await publicKeyOf(seed));
    const issued = new Date(nowMs).toISOString();
    const expires = expiryOf(nowMs, this.deps.keyLifetimeDays);
    const keyset: Keyset = {
      id: kid,
      state: 'PREPARED',
      jwk,
      issued_at: issued,
      expires_at: expires,
    };
    return { keyset, secret: encodeSeed(seed) };
  }

  /**
   * After a failed bulk update, finds out what landed. If the new keyring did (the answer was
   * lost, or a non-atomic bulk stopped after it), the commit stands and the rest of its items are
   * completed; otherwise everything is undone.
   */
  private async recover(cause: unknown, attempt: CommitAttempt): Promise<void> {
    const { api } = this.deps;
    let current: Map<string, string> | undefined;
    try {
      current = await api.readConfigItems();
    } catch {
      current = undefined;
    }
    if (current?.get(ITEM_KEYS.keyring) === serializeKeyring(attempt.after)) {
      const remaining = itemOpsFor(current, attempt.before, attempt.after);
      if (remaining.length === 0) return;
      try {
        await api.patchConfigItems(remaining);
        return;
      } catch (err) {
        throw new TskError(
          err instanceof TskError ? err.code : 'upstream_failed',
          `the keyring committed (version ${attempt.after.version}) but ${remaining.length} of Trusted Server's items could not be brought in line; the next operation repairs them`,
          { cause: err, details: { committed: true, keyring: attempt.after } },
        );
      }
    }
    await this.undo(cause, attempt, current);
  }

  /**
   * Puts back what a failed bulk update may have applied, then deletes the new private key.
   * If the config cannot be restored, the key is kept: a published kid must never lack it.
   */
  private async undo(
    cause: unknown,
    attempt: CommitAttempt,
    current: Map<string, string> | undefined,
  ): Promise<never> {
    const { api } = this.deps;
    const { ops, items: original, createdSecret } = attempt;
    let restored = false;
    try {
      const revert = revertOps(ops, original, current ?? (await api.readConfigItems()));
      if (revert.length > 0) await api.patchConfigItems(revert);
      restored = true;
    } catch {
      restored = false;
    }
    let keptSecret: string | undefined;
    if (createdSecret !== undefined) {
      if (restored) {
        try {
          await api.deleteSecret(createdSecret);
        } catch {
          keptSecret = createdSecret;
        }
      } else {
        keptSecret = createdSecret;
      }
    }
    const base =
      cause instanceof TskError
        ? cause
        : new TskError('internal', 'the config update failed', { cause });
    const note = restored
      ? keptSecret
        ? ` Nothing was published, but the new private key "${keptSecret}" could not be deleted; remove it with the remove operation.`
        : ' Nothing was changed.'
      : ' The config store could not be verified afterwards; list the key sets before retrying.';
    throw new TskError(base.code, `${base.message}.${note}`, {
      cause: base,
      details: {
        ...base.details,
        committed: false,
        config_restored: restored,
        ...(keptSecret ? { kept_secret: keptSecret } : {}),
      },
    });
  }

  /**
   * `remove` of an id the keyring does not list: if a private key by that name is left (an
   * earlier remove was interrupted after unpublishing), delete it; otherwise `keyset_not_found`.
   * Such a key is unpublished by construction, so deleting it cannot break verification.
   */
  private async removeOrphanSecret(
    id: string,
    keyring: Keyring,
    adopted: boolean,
  ): Promise<MutationResult> {
    const names = await this.deps.api.listSecretNames();
    if (!names.includes(id)) findKeyset(keyring, id);
    await this.deps.api.deleteSecret(id);
    return {
      operation: 'remove',
      before: keyring,
      after: keyring,
      adopted,
      deletedOrphanSecret: id,
      warnings: [],
    };
  }

  private async deleteRemovedSecret(id: string, after: Keyring): Promise<void> {
    try {
      await this.deps.api.deleteSecret(id);
    } catch (err) {
      const base = err instanceof TskError ? err : undefined;
      throw new TskError(
        base?.code ?? 'upstream_failed',
        `key set "${id}" was removed from the keyring and unpublished, but deleting its private key failed (${base?.message ?? 'unknown error'}); run remove again to delete it`,
        { cause: err, details: { committed: true, keyring: after, orphaned_secret: id } },
      );
    }
  }
}
