// The rotation engine: reads a deployment's authoritative state through the management API,
// applies one lifecycle operation and commits it in the order docs/architecture.md gives: intent
// journal first, then the private key, then one bulk config update, secret deletions last. A write
// whose outcome is unknown is never compensated: its intent stays in the journal and is settled
// once no late write can land (see ./journal.ts).
import { generateSeed, publicKeyOf } from '../crypto/ed25519.js';
import { TskError, hasCode } from '../errors.js';
import { publicJwk } from '../keys/jwk.js';
import { assertKidFormat, assertNewKid, dateKid, uniqueKid } from '../keys/kid.js';
import { encodeSeed } from '../keys/seed-encoding.js';
import type { Clock, ConfigItemOp, EdgeSecrets, KeyStoreApi, Random } from '../ports.js';
import {
  expiryOf,
  isRetired,
  parseKeyring,
  serializeKeyring,
  type Keyring,
  type Keyset,
} from './document.js';
import { diagnose, type DoctorReport } from './doctor.js';
import {
  contentEtag,
  endorsedSource,
  keyDocumentBody,
  type KeyDocumentSource,
} from './key-documents.js';
import { assertEndorsable, planEndorsement, type EndorsementPlan } from './endorsement.js';
import { endorsedKeys, isKeyLog, KEY_LOG_ITEM, parseKeyLog } from './key-log.js';
import { keyLogFindings, keyLogSummary } from './key-log-report.js';
import { readStores } from './store-reading.js';
import { describeSettlement, planSettlement, type Intent, type IntentBody } from './journal.js';
import { LATE_WRITE_BOUND_MS, type Claim, type MutationGuard } from './lease.js';
import { writeOutcome } from './outcome.js';
import { parseActiveKids } from '../keys/active-kids.js';
import { ITEM_KEYS, itemOpsFor, loadKeyring, type LoadedKeyring } from './store-items.js';
import { adoptCheck, assertFoldable, materialCheck } from './drift.js';
import { probeFolded } from './store-fold.js';
import { findKeyset, transition, type Operation } from './transitions.js';

export type { Claim, MutationGuard } from './lease.js';

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
  /** How long after it was sent a write may still land; default LATE_WRITE_BOUND_MS. */
  lateWriteBoundMs?: number;
  /**
   * When the schedule next changes a keyring (ms), stored with the key documents so the edge can
   * cap their max-age without reading the keyring; absent: no schedule.
   */
  nextTransitionAt?: (keyring: Keyring) => number | null;
  /**
   * The deployment's private keys as the edge reads them: what activation checks a key against
   * (the management API cannot read a secret back). Absent: only their names are checked.
   */
  privateKeys?: EdgeSecrets;
  /** A taint's cutoff skew in seconds (`verify.taint_cutoff_skew_seconds`); default 60. */
  taintCutoffSkewSeconds?: number;
}

/** One request to change the keyring. */
export interface MutationRequest {
  /** `adopt` folds Trusted Server's drift into the keyring and changes nothing else. */
  operation: Operation | 'adopt';
  /** The key set operated on (activate, taint, deactivate, restore, remove). */
  id?: string;
  /** A chosen kid for prepare/rotate (by default `ts-YYYY-MM-DD`); for adopt, a kid it must fold. */
  kid?: string;
  /**
   * What the caller last saw (If-Match), refused with 412 when it no longer holds: a keyring
   * version, or the content ETag (`"h…"`) of a key document rendered from Trusted Server's items.
   */
  ifMatch?: number | string;
  /**
   * Check every precondition and plan the writes, but write nothing: no lease, no journal, no
   * store. The result carries `plan`; `after` is the keyring the real call would commit.
   */
  dryRun?: boolean;
  /**
   * A rule the change must pass against the authoritative keyring, checked under the lease before
   * any write (the activation dwell); it throws to refuse.
   */
  precondition?: (before: Keyring, nowMs: number) => void;
}

/** The writes a dry run found the operation would make, in order. */
export interface MutationPlan {
  /** The private key it would create (prepare, rotate). */
  createSecret?: string;
  /** The one bulk config update. */
  configOps: ConfigItemOp[];
  /** The private key it would delete last (remove). */
  deleteSecret?: string;
  /** An earlier operation's unsettled intent the real call would settle before its own change. */
  settlesFirst?: string;
}

/** What a committed mutation did. */
export interface MutationResult {
  operation: Operation | 'adopt';
  /** The key set operated on, as it is now (as it was, for remove); absent for an orphan cleanup. */
  keyset?: Keyset;
  /** Set when `remove` found no key set but deleted a private key left by an interrupted remove. */
  deletedOrphanSecret?: string;
  before: Keyring;
  after: Keyring;
  adopted: boolean;
  /** What folding Trusted Server's drift into the keyring changed, one line each (audited). */
  folded: string[];
  /** An earlier operation's intent this one settled first, described for the audit trail. */
  settled?: string;
  /** Things that went wrong after the commit and need no action now (e.g. a lease not released). */
  warnings: string[];
  /** Set by a dry run only: what the real call would write. Nothing was written. */
  plan?: MutationPlan;
}

/** One attempt of an operation: its claim, and what to do with the claim when it ends. */
interface Run {
  /** The claim on the keyring version this attempt commits (absent without a guard, or before). */
  claim?: Claim;
  /** The update landed: the claim is history and nothing more is written to it. */
  committed?: boolean;
  /** Not committed: keep the intent, settleable from this time; absent: free the claim. */
  keepUntilMs?: number;
}

/**
 * The claimed version was held by an earlier operation, now settled (`report`), or was committed
 * by another operation since this one read (no report): read again and plan again.
 */
class Resettled extends Error {
  constructor(readonly report?: string) {
    super(report ?? 'the keyring moved on');
  }
}

/** Settle-and-read-again rounds one operation makes before it gives up. */
const CLAIM_ROUNDS = 3;

/** Applies lifecycle operations to one deployment's stores. */
export class KeyringEngine {
  /**
   * The private keys as the edge reads them, each read at most once per engine (one request):
   * the fold's probes, activation's check, adopt's and the key log's all ask for the same few
   * keys, and Fastly allows 5 secret reads a request. Only found keys are kept (a key created
   * during the request may appear later in it).
   */
  private readonly privateKeys: EdgeSecrets | undefined;

  constructor(private readonly deps: EngineDeps) {
    const source = deps.privateKeys;
    if (source) {
      const seen = new Map<string, string>();
      this.privateKeys = {
        get: async (name) => {
          const known = seen.get(name);
          if (known !== undefined) return known;
          const value = await source.get(name);
          if (value !== null) seen.set(name, value);
          return value;
        },
      };
    }
  }

  /**
   * The authoritative keyring (adopting a Trusted Server–only store in memory if needed), from one
   * management-API read of the config items. The secret store's names are listed too only when
   * they can change the outcome: when the reading shows drift or no keyring (a kid brought in must
   * be checked for its private key), when asked (`withNames`), or when the edge's private keys are
   * not at hand. Otherwise the keyring's own flags stand, and the few checks a mutation needs read
   * the private keys as the edge does (docs/architecture.md, "Reading the stores").
   */
  async read(
    withNames = false,
  ): Promise<
    LoadedKeyring & { items: Map<string, string>; secretNames: ReadonlySet<string> | undefined }
  > {
    return this.readFrom(await this.deps.api.readConfigItems(), withNames);
  }

  /** The config items, as `read` starts (one management-API read). */
  readItems(): Promise<Map<string, string>> {
    return this.deps.api.readConfigItems();
  }

  /**
   * The keyring `items` fold to when the secret store holds exactly `secretNames` (when given; a
   * kid outside them is missing its private key), without reading anything.
   */
  fold(items: ReadonlyMap<string, string>, secretNames?: ReadonlySet<string>): LoadedKeyring {
    return loadKeyring(items, {
      deployment: this.deps.deployment,
      nowMs: this.deps.clock.now(),
      keyLifetimeDays: this.deps.keyLifetimeDays,
      ...(secretNames ? { secretNames } : {}),
    });
  }

  /** `read` from config items already read. */
  async readFrom(
    items: Map<string, string>,
    withNames = false,
  ): Promise<
    LoadedKeyring & { items: Map<string, string>; secretNames: ReadonlySet<string> | undefined }
  > {
    let loaded = this.fold(items);
    let secretNames: ReadonlySet<string> | undefined;
    if (withNames || !this.privateKeys || loaded.adopted || loaded.folded.length > 0) {
      secretNames = new Set(await this.deps.api.listSecretNames());
      loaded = this.fold(items, secretNames);
    }
    // Key sets the fold brought in have their private key read once, as the edge reads it.
    if (this.privateKeys) {
      const lines = await probeFolded(loaded, loaded.reading.keyring, this.privateKeys);
      loaded.folded.push(...lines);
    }
    return { ...loaded, items, secretNames };
  }

  /**
   * Runs one operation, under a claim on the keyring version it commits if a guard is configured.
   * When that version was held by an earlier operation whose intent could be settled, it is
   * settled and the operation starts again from a fresh read (at most `CLAIM_ROUNDS` times).
   */
  async mutate(request: MutationRequest): Promise<MutationResult> {
    if (request.id !== undefined) assertKidFormat(request.id);
    if (request.kid !== undefined) assertNewKid(request.kid);
    if (request.dryRun) return this.preview(request);
    let settled: string | undefined;
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const run: Run = {};
      try {
        const result = await this.commit(request, run);
        if (settled !== undefined) result.settled = settled;
        return result;
      } catch (err) {
        if (err instanceof Resettled) {
          if (err.report !== undefined) {
            settled = settled === undefined ? err.report : `${settled}; ${err.report}`;
          }
          continue;
        }
        // The settlement happened even if this operation then failed: the audit trail must say so.
        if (settled === undefined || !(err instanceof TskError)) throw err;
        throw new TskError(err.code, err.message, {
          cause: err.cause,
          details: { ...err.details, settled },
        });
      } finally {
        await this.end(run);
      }
    }
    throw new TskError(
      'operation_in_progress',
      `deployment "${this.deps.deployment}" kept changing while this ${request.operation} settled earlier operations; nothing of this ${request.operation} was written. List the key sets and retry`,
      { details: { settled, committed: false, outcome: 'not_committed' } },
    );
  }

  /** Claims the version `intent` commits; an earlier intent settled there means: read again. */
  private async claim(operation: Operation | 'adopt', intent: IntentBody, run: Run): Promise<void> {
    const guard = this.deps.guard;
    if (!guard) return;
    let outcome;
    try {
      outcome = await guard.claim(
        this.deps.deployment,
        intent.before_version + 1,
        operation,
        intent,
        (i) => this.settle(i),
      );
    } catch (err) {
      // Held by the operation that committed that version after this one read (its claim stays
      // as history): not a conflict with a running change, but a stale read. Read again.
      if (hasCode(err, 'operation_in_progress') && (await this.movedOn(intent.before_version))) {
        throw new Resettled();
      }
      throw err;
    }
    if ('settled' in outcome) throw new Resettled(outcome.settled);
    run.claim = outcome.claim;
  }

  /** True when the stored keyring is past `version` (false also when that cannot be read). */
  private async movedOn(version: number): Promise<boolean> {
    const text = await this.storedKeyring();
    try {
      return text !== undefined && parseKeyring(text).version > version;
    } catch {
      return false;
    }
  }

  /** The `keyring` item as stored now; undefined when absent or when it cannot be read. */
  private async storedKeyring(): Promise<string | undefined> {
    try {
      return (await this.deps.api.readConfigItems()).get(ITEM_KEYS.keyring);
    } catch {
      return undefined;
    }
  }

  /**
   * A dry run: the checks the operation would make (the lease or an intent not yet settleable,
   * If-Match, the transition table, a kid in use, the item size limit) and what it would commit
   * and write, without taking the lease or writing anything.
   */
  private async preview(request: MutationRequest): Promise<MutationResult> {
    const result = await this.commit(request, {}, true);
    const { pending } =
      (await this.deps.guard?.check?.(this.deps.deployment, result.before.version + 1)) ?? {};
    if (pending && result.plan) {
      result.plan.settlesFirst = `${pending.operation} (request ${pending.request_id})`;
    }
    return result;
  }

  /** Doctor's report: every disagreement between the stores, the keyring and the journal. */
  async diagnose(): Promise<DoctorReport> {
    const { api, guard, clock, deployment, keyLifetimeDays } = this.deps;
    const [items, names] = await Promise.all([api.readConfigItems(), api.listSecretNames()]);
    // The claim on the next version: an operation running, or one that did not finish.
    const version = readStores(items, true).keyring?.version ?? 0;
    const lock = guard ? await guard.inspect(deployment, version + 1) : null;
    const report = diagnose({
      deployment,
      items,
      secretNames: new Set(names),
      lock,
      nowMs: clock.now(),
      lateWriteMs: this.lateBound(),
      keyLifetimeDays,
    });
    // The key log's findings (docs/key-log.md), from the same read.
    const reading = readStores(items, true);
    const summary = await keyLogSummary(items, reading.keysets, reading.keyring?.key_log);
    const findings = keyLogFindings(summary, deployment);
    if (findings.length === 0) return report;
    const all = [...report.findings, ...findings];
    return { ...report, findings: all, healthy: all.every((f) => f.severity === 'info') };
  }

  /**
   * Settles an earlier operation's intent if one may be settled now (on the claim of the next
   * keyring version, or in an earlier release's lock record), and clears a claim left by a dead
   * operation. What `doctor --repair` does; resolves to what was settled, if anything.
   */
  async repair(): Promise<{ settled?: string }> {
    const guard = this.deps.guard;
    if (!guard) return {};
    const items = await this.deps.api.readConfigItems();
    const version = readStores(items, true).keyring?.version ?? 0;
    const settled = await guard.repair(
      this.deps.deployment,
      version + 1,
      (i) => this.settle(i),
      items.get(ITEM_KEYS.keyring) ?? null,
    );
    return settled === undefined ? {} : { settled };
  }

  /**
   * Settles an earlier operation's intent from an authoritative read: completes an update that
   * landed (or a removal whose private key is gone), or puts back what one that did not land
   * changed and deletes the key it created. A created key is deleted only after the config is
   * put right, a removed one before its key is unpublished, as the operations order them; if a
   * write fails, the intent stays. Returns one line describing what it did.
   */
  async settle(intent: Intent | IntentBody): Promise<string> {
    const { api } = this.deps;
    const items = await api.readConfigItems();
    const names = new Set(await api.listSecretNames());
    const plan = planSettlement(intent, items, names);
    // A removal's private key first, as the removal itself orders it: if the update then stops
    // part way, nothing of the removal is left but config items the next commit writes anyway.
    const removal = plan.deleteSecrets.filter((name) => name === intent.delete_secret);
    for (const name of removal) await api.deleteSecret(name);
    if (plan.configOps.length > 0) await api.patchConfigItems(plan.configOps);
    for (const name of plan.deleteSecrets)
      if (!removal.includes(name)) await api.deleteSecret(name);
    return describeSettlement(intent, plan);
  }

  /**
   * An attempt that claimed a version and did not commit ends its claim: freed when nothing it
   * wrote can land, left with its intent otherwise. A committed attempt writes nothing more. If
   * this write fails, the intent stays in the claim and settles after its bounds; the outcome
   * the caller is told stands.
   */
  private async end(run: Run): Promise<void> {
    const claim = run.claim;
    if (!claim || run.committed) return;
    try {
      if (run.keepUntilMs === undefined) await claim.free();
      else await claim.leave(run.keepUntilMs);
    } catch {
      // Settled after the claim's bound plus the late-write bound by the next operation.
    }
  }

  /** Refuses to start a write that might still run when the claim's bound has passed. */
  private checkDeadline(claim: Claim | undefined): void {
    if (!claim) return;
    const budget = this.deps.callTimeoutMs ?? 15_000;
    if (this.deps.clock.now() + budget > claim.expiresAtMs) {
      throw new TskError(
        'upstream_timeout',
        'the operation ran out of its lease before its first write; nothing was changed',
        { details: { committed: false, outcome: 'not_committed' } },
      );
    }
  }

  /** When an intent whose settlement failed with `err` may be settled again. */
  private settleRetryAt(err: unknown): number {
    const wait = writeOutcome(err) === 'unknown' ? this.lateBound() : 0;
    return this.deps.clock.now() + wait;
  }

  private lateBound(): number {
    return this.deps.lateWriteBoundMs ?? LATE_WRITE_BOUND_MS;
  }

  private async commit(
    request: MutationRequest,
    run: Run,
    dryRun = false,
  ): Promise<MutationResult> {
    const { api, clock } = this.deps;
    const read = await this.read();
    const { keyring: before, items, adopted, folded } = read;
    assertFoldable(read, request.operation);
    if (typeof request.ifMatch === 'string') {
      await assertContentMatches(request.ifMatch, read.reading, before);
    } else if (request.ifMatch !== undefined && request.ifMatch !== before.version) {
      throw new TskError(
        'keyring_version_mismatch',
        `the keyring is at version ${before.version}, not ${request.ifMatch}; list the key sets and retry`,
        { details: { keyring: before } },
      );
    }
    const nowMs = clock.now();
    const nowIso = new Date(nowMs).toISOString();
    if (request.operation === 'adopt') {
      adoptCheck(read, request.kid);
      // `adopt <kid>` endorses the kid (docs/key-log.md): it must be published and able to sign.
      if (request.kid !== undefined) {
        await assertEndorsable(before, request.kid, this.privateKeys);
      }
      // Nothing drifted, the keyring exists, the items it implies are all there (a bulk that
      // stopped after the keyring leaves the documents behind) and the kid (if any) is endorsed:
      // nothing is written.
      const complete =
        itemOpsFor(items, before, before, this.deps.nextTransitionAt?.(before) ?? null).length ===
        0;
      if (
        !adopted &&
        folded.length === 0 &&
        complete &&
        (request.kid === undefined || alreadyEndorsed(before, items, request.kid))
      ) {
        return { operation: 'adopt', before, after: before, adopted, folded, warnings: [] };
      }
    }
    const created = await this.createdKeyset(request, before, items, nowMs, read.secretNames);
    const id = created?.keyset.id ?? request.id ?? '';
    if (request.operation === 'remove' && !before.keysets.some((k) => k.id === id)) {
      return {
        ...(await this.removeOrphanSecret(id, before, items, adopted, dryRun, run)),
        folded,
      };
    }
    // Activating (or restoring) a key that cannot sign is refused, naming why, before any write.
    try {
      await materialCheck(request.operation, id, before, read.secretNames, this.privateKeys);
    } catch (err) {
      // The edge cannot read the key: the secret names tell "not there yet" from "not there".
      if (read.secretNames !== undefined || !hasCode(err, 'key_not_propagated')) throw err;
      const names = new Set(await api.listSecretNames());
      await materialCheck(request.operation, id, before, names, this.privateKeys);
    }
    // Then the caller's rule (the activation dwell): a key that can never sign says so first.
    try {
      request.precondition?.(before, nowMs);
    } catch (err) {
      if (!(err instanceof TskError)) throw err;
      throw new TskError(err.code, err.message, { details: { ...err.details, keyring: before } });
    }
    const removed = request.operation === 'remove' ? findKeyset(before, id) : undefined;
    let after: Keyring;
    try {
      after =
        request.operation === 'adopt'
          ? { ...before, keysets: before.keysets.map((k) => ({ ...k })), updated_at: nowIso }
          : transition(before, request.operation, {
              id,
              nowIso,
              ...(created ? { created: created.keyset } : {}),
              ...(this.deps.taintCutoffSkewSeconds !== undefined
                ? { taintCutoffSkewSeconds: this.deps.taintCutoffSkewSeconds }
                : {}),
            });
    } catch (err) {
      // A refusal shows the keyring it was judged against, so the caller can see why.
      if (!(err instanceof TskError)) throw err;
      throw new TskError(err.code, err.message, { details: { ...err.details, keyring: before } });
    }
    after.version = before.version + 1;
    // The key it brings in is endorsed in the key log, written by the same bulk (docs/key-log.md).
    const target = created ? id : request.operation === 'adopt' ? request.kid : undefined;
    const endorsement: EndorsementPlan =
      target === undefined
        ? {}
        : await planEndorsement({
            deployment: this.deps.deployment,
            before,
            after,
            stored: items.get(KEY_LOG_ITEM) ?? null,
            target,
            ...(created ? { createdSeed: created.seed } : {}),
            privateKeys: this.privateKeys,
            nowIso,
            strict: request.operation === 'adopt',
          });
    const ops = itemOpsFor(items, before, after, this.deps.nextTransitionAt?.(after) ?? null);
    // First in the bulk: every prefix that publishes the key (its JWK, active-kids, the keyring)
    // holds its endorsement; one that holds only the endorsement is settled by the journal.
    if (endorsement.log !== undefined && items.get(KEY_LOG_ITEM) !== endorsement.log) {
      ops.unshift({ op: 'upsert', key: KEY_LOG_ITEM, value: endorsement.log });
    }
    const endorsementWarnings = endorsement.warning ? [endorsement.warning] : [];
    // The root it named and the marks it set, in the members' canonical order (as read back).
    if (endorsement.log !== undefined) after = parseKeyring(serializeKeyring(after));
    const intent: IntentBody = {
      operation: request.operation,
      recorded_at: nowIso,
      before_version: before.version,
      keyring: serializeKeyring(after),
      restore: Object.fromEntries(ops.map((op) => [op.key, items.get(op.key) ?? null])),
      write: Object.fromEntries(ops.map((op) => [op.key, op.op === 'delete' ? null : op.value])),
      ...(created ? { create_secret: id } : {}),
      ...(removed ? { delete_secret: removed.id } : {}),
    };
    if (dryRun) {
      const previewed =
        request.operation === 'adopt' ? undefined : (removed ?? findKeyset(after, id));
      return {
        operation: request.operation,
        ...(previewed ? { keyset: previewed } : {}),
        before,
        after,
        adopted,
        folded,
        warnings: endorsementWarnings,
        plan: {
          ...(created ? { createSecret: id } : {}),
          configOps: ops,
          ...(removed ? { deleteSecret: removed.id } : {}),
        },
      };
    }
    // Measured from when the call gave up: every attempt of it (retries included) was sent by then.
    const unknown = (err: unknown): TskError => {
      run.keepUntilMs = clock.now() + this.lateBound();
      return unknownOutcome(err, intent, run.keepUntilMs, before);
    };

    // Nothing is written to the key stores unless the claim holds the intent first: the claim is
    // the operation's first write, and its journal.
    await this.claim(request.operation, intent, run);
    this.checkDeadline(run.claim);
    if (created) {
      try {
        await api.createSecret(id, created.secret);
      } catch (err) {
        if (hasCode(err, 'secret_exists')) {
          throw new TskError(
            'kid_exists',
            `a private key named "${id}" already exists in the secret store; choose another kid (tsctl doctor shows whether it is an orphan)`,
            { details: { outcome: 'not_committed', committed: false } },
          );
        }
        if (writeOutcome(err) === 'refused') throw notCommitted(err);
        throw unknown(err);
      }
    }
    if (removed) {
      // The private key goes before the key is unpublished, so that nothing is left to do once
      // the update commits. A removed key never signs (only TAINTED and DEACTIVATED key sets are
      // removed), so until the update lands it is a published key partners can still verify,
      // without a private key nobody signs with; the claim names it, and if this operation
      // stops here the next one (or tsctl doctor --repair) completes the removal.
      try {
        await api.deleteSecret(removed.id);
      } catch (err) {
        if (writeOutcome(err) === 'refused') throw notCommitted(err);
        throw unknown(err);
      }
    }
    this.checkDeadlineAfterWrite(run);
    // Set when the bulk's answer was lost but the keyring is in: the items after it (the stored
    // key documents) may be missing, so the journal completes them below.
    let landedUnanswered = false;
    try {
      await api.patchConfigItems(ops);
    } catch (err) {
      if (writeOutcome(err) === 'unknown') {
        // Positive evidence is final: if the new keyring is already there, it committed.
        if (!(await this.landedNow(intent))) throw unknown(err);
        landedUnanswered = true;
      } else if (removed) {
        // Refused, after the private key was deleted: the removal can only go forward. The claim
        // keeps it, settleable at once; settling completes the update.
        run.keepUntilMs = clock.now();
        throw notCommitted(
          err,
          `the private key of "${removed.id}" is already deleted; the claim keeps the removal, and the next operation on this deployment or tsctl doctor --repair completes it`,
        );
      } else {
        // Refused: it will not land later, so it can be settled now (restoring any part a
        // non-atomic bulk applied, and deleting the key this operation created).
        try {
          await this.settle(intent);
        } catch (cleanup) {
          run.keepUntilMs = this.settleRetryAt(cleanup);
          throw notCommitted(
            err,
            `the cleanup failed too (${describe(cleanup)}); the journal keeps it and the next operation or tsctl doctor --repair finishes it`,
          );
        }
        throw notCommitted(err);
      }
    }
    // The keyring committed: the claim is history. What may be left (the items after the keyring
    // that a bulk whose answer was lost may have missed) is completed from the journal now; if
    // that fails, the next commit writes them (every commit derives all items from its keyring).
    run.committed = true;
    const warnings: string[] = [...endorsementWarnings];
    if (landedUnanswered) {
      try {
        await this.settle(intent);
      } catch (err) {
        warnings.push(
          `the keyring committed, but completing Trusted Server's items failed (${describe(err)}); the next operation completes them`,
        );
      }
    }
    const keyset = request.operation === 'adopt' ? undefined : (removed ?? findKeyset(after, id));
    return {
      operation: request.operation,
      ...(keyset ? { keyset } : {}),
      before,
      after,
      adopted,
      folded,
      warnings,
    };
  }

  /**
   * Between the private key and the config update: if the claim is too short for the update,
   * stop. The key is kept in the claim's journal, which the next operation settles.
   */
  private checkDeadlineAfterWrite(run: Run): void {
    if (!run.claim) return;
    const budget = this.deps.callTimeoutMs ?? 15_000;
    if (this.deps.clock.now() + budget <= run.claim.expiresAtMs) return;
    run.keepUntilMs = this.deps.clock.now();
    throw notCommitted(
      new TskError('upstream_timeout', 'the operation ran out of its claim between two writes'),
      'what it wrote stays in the journal until the next operation settles it',
    );
  }

  /** True when the intent's keyring is in the store now (false also when that cannot be read). */
  private async landedNow(intent: IntentBody): Promise<boolean> {
    return (await this.storedKeyring()) === intent.keyring;
  }

  private async createdKeyset(
    request: MutationRequest,
    keyring: Keyring,
    items: ReadonlyMap<string, string>,
    nowMs: number,
    secrets: ReadonlySet<string> | undefined,
  ): Promise<{ keyset: Keyset; secret: string; seed: Uint8Array } | undefined> {
    if (request.operation !== 'prepare' && request.operation !== 'rotate') return undefined;
    // A new kid must miss config items, key sets and private keys alike: a private key the
    // keyring does not list (left by an interrupted remove, or Trusted Server's own) must never
    // become the journal's "created by this operation", or settling could delete it. The names
    // are those listed with the config items when the read listed them; otherwise the edge's
    // reading of the private keys answers for a candidate (an old orphan is there; one created
    // in the last seconds is caught by the create-only write, which then refuses).
    const seen = new Set<string>();
    const taken = (kid: string): boolean =>
      items.has(kid) ||
      keyring.keysets.some((k) => k.id === kid) ||
      (secrets?.has(kid) ?? false) ||
      seen.has(kid) ||
      isRetired(keyring, kid);
    const atEdge = async (kid: string): Promise<boolean> => {
      if (secrets !== undefined || !this.privateKeys) return false;
      if ((await this.privateKeys.get(kid)) === null) return false;
      seen.add(kid);
      return true;
    };
    let kid: string;
    if (request.kid !== undefined) {
      if (
        isRetired(keyring, request.kid) &&
        !items.has(request.kid) &&
        !secrets?.has(request.kid)
      ) {
        throw new TskError(
          'kid_exists',
          `kid "${request.kid}" was used by a key set that has been removed; a kid is never reused, since partners may still cache its old key: choose a unique kid`,
        );
      }
      if (taken(request.kid) || (await atEdge(request.kid))) {
        const why =
          secrets?.has(request.kid) || seen.has(request.kid)
            ? ' (a private key by that name exists; tsctl doctor shows whether it is an orphan)'
            : '';
        throw new TskError(
          'kid_exists',
          `kid "${request.kid}" already exists${why}; choose a unique kid`,
        );
      }
      kid = request.kid;
    } else {
      kid = uniqueKid(dateKid(nowMs), taken, this.deps.random);
      for (let tries = 0; tries < 4 && (await atEdge(kid)); tries++) {
        kid = uniqueKid(dateKid(nowMs), taken, this.deps.random);
      }
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
    return { keyset, secret: encodeSeed(seed), seed };
  }

  /**
   * `remove` of an id the keyring does not list: if a private key by that name is left (an
   * earlier remove was interrupted after unpublishing), delete it; otherwise `keyset_not_found`.
   * Such a key is unpublished by construction, so deleting it cannot break verification.
   */
  private async removeOrphanSecret(
    id: string,
    keyring: Keyring,
    items: ReadonlyMap<string, string>,
    adopted: boolean,
    dryRun: boolean,
    run: Run,
  ): Promise<Omit<MutationResult, 'folded'>> {
    const names = await this.deps.api.listSecretNames();
    if (!names.includes(id)) findKeyset(keyring, id);
    // A key Trusted Server's items still name (its own rotate, behind the keyring's back) may be
    // the one its signer uses: deleting it would leave a published kid without its private key.
    const published = parseActiveKids(items.get(ITEM_KEYS.activeKids) ?? null);
    if (items.has(id) || published.includes(id) || items.get(ITEM_KEYS.currentKid)?.trim() === id) {
      throw new TskError(
        'invalid_transition',
        `"${id}" is not in the keyring but Trusted Server's items still name it (its JWK, active-kids or current-kid); its private key is kept. tsctl doctor shows the disagreement`,
        { details: { keyring } },
      );
    }
    if (!dryRun) {
      // Under a claim on the next version like any change, so that it cannot delete a private
      // key an operation running now has just created. Its intent changes no item; the claim is
      // freed once the key is gone (a deletion in doubt is completed by whoever settles it).
      const text = items.get(ITEM_KEYS.keyring) ?? serializeKeyring(keyring);
      const intent: IntentBody = {
        operation: 'remove',
        recorded_at: new Date(this.deps.clock.now()).toISOString(),
        before_version: keyring.version,
        keyring: text,
        restore: {},
        write: {},
        delete_secret: id,
      };
      await this.claim('remove', intent, run);
      try {
        await this.deps.api.deleteSecret(id);
      } catch (err) {
        if (writeOutcome(err) === 'refused') throw notCommitted(err);
        run.keepUntilMs = this.deps.clock.now() + this.lateBound();
        throw err;
      }
    }
    return {
      operation: 'remove',
      before: keyring,
      after: keyring,
      adopted,
      deletedOrphanSecret: id,
      warnings: [],
      ...(dryRun ? { plan: { configOps: [], deleteSecret: id } } : {}),
    };
  }
}

/** The stored log vouches for `kid` as the keyring has it, and the keyring marks it endorsed. */
function alreadyEndorsed(
  keyring: Keyring,
  items: ReadonlyMap<string, string>,
  kid: string,
): boolean {
  const k = keyring.keysets.find((s) => s.id === kid);
  const log = parseKeyLog(items.get(KEY_LOG_ITEM));
  if (!k || k.endorsed_at === undefined || log === null || !isKeyLog(log)) return false;
  return endorsedKeys(log).get(kid) === k.jwk.x;
}

function describe(err: unknown): string {
  return err instanceof TskError ? err.message : 'unknown error';
}

/** A write that was refused: nothing of this operation is in the stores. */
function notCommitted(err: unknown, extra?: string): TskError {
  const base = err instanceof TskError ? err : new TskError('internal', 'the write failed');
  const note = extra ? ` Nothing was published, but ${extra}.` : ' Nothing was changed.';
  return new TskError(base.code, `${base.message}.${note}`, {
    cause: base,
    details: { ...base.details, committed: false, outcome: 'not_committed' },
  });
}

/**
 * A write whose answer never came: it may have landed or may still land, so nothing is undone
 * and the caller is told how to find out.
 */
function unknownOutcome(
  err: unknown,
  intent: IntentBody,
  settlesAtMs: number,
  before: Keyring,
): TskError {
  const base = err instanceof TskError ? err : new TskError('internal', 'the write failed');
  const at = new Date(settlesAtMs).toISOString();
  const code = base.code === 'upstream_timeout' ? 'upstream_timeout' : 'outcome_unknown';
  return new TskError(
    code,
    `${base.message}. The outcome of this ${intent.operation} is unknown: the write may still land until ${at}. Nothing was undone. List the key sets after that time to see whether it took effect (version ${before.version + 1} means it did); the next operation on this deployment, or tsctl doctor --repair, settles it`,
    {
      cause: base,
      details: {
        ...base.details,
        outcome: 'unknown',
        settles_at: at,
        retryAfterSeconds: Math.max(
          1,
          Math.ceil((settlesAtMs - Date.parse(intent.recorded_at)) / 1000),
        ),
        keyring_version_if_committed: before.version + 1,
        ...(intent.create_secret ? { created_secret: intent.create_secret } : {}),
      },
    },
  );
}

/**
 * `If-Match` with a content ETag: the key documents the edge renders from these stores now must
 * be the ones the caller saw (the JWKS's or the discovery document's), else 412.
 */
async function assertContentMatches(
  etag: string,
  reading: {
    version: number | null;
    keysets: KeyDocumentSource['keysets'];
    keyring: Keyring | null;
  },
  before: Keyring,
): Promise<void> {
  const source = endorsedSource(reading.version, reading.keysets, reading.keyring);
  const current = await Promise.all(
    (['jwks', 'discovery'] as const).map((kind) => contentEtag(keyDocumentBody(kind, source))),
  );
  if (current.includes(etag)) return;
  throw new TskError(
    'keyring_version_mismatch',
    `the key documents changed since ETag ${etag} (now ${current.join(' / ')}, keyring version ${before.version}); list the key sets and retry`,
    { details: { keyring: before } },
  );
}
