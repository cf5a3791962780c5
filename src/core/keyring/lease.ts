// The per-deployment lock, as claims on keyring versions: an operation that read keyring version
// N writes one KV entry, `<deployment>@<N+1>` in `keyring_locks`, with add-only semantics, holding
// its lease and its intent journal. Two operations that read the same version claim the same key
// and the second is refused at once (it never waits); an operation that read a version another
// has since committed finds the keyring moved on and claims the next one. A committed operation
// writes nothing more: its claim is history. Only a claim whose operation did not commit is ever
// rewritten, always by reading it, checking it is still ours and writing with
// `if-generation-match`, so a stale read-back can never strand a claim; a claim that may still
// have a write in flight is taken over only after its lease and the late-write bound have passed.
import { TskError } from '../errors.js';
import type { Clock, LeaseStoreApi, VersionedValue } from '../ports.js';
import {
  parseLockRecord,
  serializeLockRecord,
  settlesAtMs,
  type Intent,
  type IntentBody,
  type LeaseHolderRecord,
  type LockRecord,
} from './journal.js';
import { writeOutcome } from './outcome.js';
import type { Operation } from './transitions.js';

/** How long an operation may hold a lease; an older lease is presumed abandoned. */
export const OPERATION_BOUND_MS = 120_000;

/**
 * How long after it was sent a management-API write may still land. A write whose answer never
 * came is treated as possibly landing until then, and nothing it could refer to is undone before.
 */
export const LATE_WRITE_BOUND_MS = 120_000;

/** Who is asking, for the lease record and for the refusal others get. */
export interface LeaseHolder {
  /** The admin token id, or another actor name. */
  holder: string;
  requestId: string;
}

/**
 * The KV key of the claim on a deployment's keyring version: an operation that read version N
 * claims N + 1, the version its commit writes. Two operations that read the same version claim
 * the same key, and only one `add` can succeed.
 */
export function claimKey(deployment: string, version: number): string {
  return `${deployment}@${version}`;
}

/**
 * The key of the single lock record earlier releases kept per deployment. Only doctor and repair
 * still read it, so an intent left there by an earlier release is reported and settled.
 */
export function legacyLockKey(deployment: string): string {
  return deployment;
}

/** A held claim on a keyring version: its bound, and how to end it when it did not commit. */
export interface Claim {
  expiresAtMs: number;
  /**
   * Nothing the operation wrote can land (it wrote nothing, or settled what it wrote): removes
   * the claim, so the next operation need not wait out its bound.
   */
  free(): Promise<void>;
  /**
   * A write's outcome is unknown: the intent stays, settleable from `settlesAtMs`. If this write
   * fails, the intent still settles after the lease's bound plus the late-write bound.
   */
  leave(settlesAtMs: number): Promise<void>;
}

/** Settles a previous operation's intent; called with the claim held. */
export type SettleIntent = (intent: Intent) => Promise<string>;

/**
 * What `claim` came to: the claim, or (when the version was held by an earlier operation whose
 * intent could now be settled) the settlement's report, after which the caller reads again.
 */
export type ClaimOutcome = { claim: Claim } | { settled: string };

/** Serializes mutations of one deployment; absent, the engine neither locks nor journals. */
export interface MutationGuard {
  /**
   * Claims keyring version `version` (the one the operation's commit writes) with the operation's
   * intent, in one write; throws `operation_in_progress` when another operation holds it or its
   * intent may still have a write in flight. An earlier intent there that may be settled is
   * settled through `settle`, and the outcome says so: the stores changed, so read again.
   */
  claim(
    deployment: string,
    version: number,
    operation: Operation | 'adopt',
    intent: IntentBody,
    settle: SettleIntent,
  ): Promise<ClaimOutcome>;
  /**
   * Settles an unsettled intent on `version` (or in the earlier single lock record), if one may
   * be settled now and was planned from `keyring` (the stored item; an intent planned from
   * another is history and is cleared unsettled): what `doctor --repair` does. Throws
   * `operation_in_progress` as `claim` would.
   */
  repair(
    deployment: string,
    version: number,
    settle: SettleIntent,
    keyring: string | null,
  ): Promise<string | undefined>;
  /**
   * The record that matters for a deployment at keyring version `version - 1`: the claim on
   * `version` (an operation running or unsettled), else an earlier release's lock record; null
   * when there is neither.
   */
  inspect(deployment: string, version: number): Promise<LockRecord | 'unreadable' | null>;
  /**
   * What `claim` would find, for a dry run, without writing anything: throws
   * `operation_in_progress` exactly when `claim` would; otherwise resolves to the earlier intent
   * it would settle first, if any.
   */
  check?(deployment: string, version: number): Promise<{ pending?: Intent }>;
}

/** Bounds of the lock; tests shrink them. */
export interface LockBounds {
  operationMs: number;
  lateWriteMs: number;
}

/** How many times a compare-and-set is retried when a read proves stale. */
const CAS_ATTEMPTS = 5;

/**
 * Claims keyring versions, and keeps the intent journal, in a KV store (`keyring_locks`). On the
 * happy path an operation makes one write here, the claim, and none after its commit: a later
 * operation reads the committed version and claims the next one. See docs/architecture.md,
 * "Concurrency: claims on keyring versions".
 */
export class KvLease implements MutationGuard {
  private readonly bounds: LockBounds;

  constructor(
    private readonly store: LeaseStoreApi,
    private readonly clock: Clock,
    private readonly who: LeaseHolder,
    bounds: Partial<LockBounds> = {},
  ) {
    this.bounds = {
      operationMs: bounds.operationMs ?? OPERATION_BOUND_MS,
      lateWriteMs: bounds.lateWriteMs ?? LATE_WRITE_BOUND_MS,
    };
  }

  async inspect(deployment: string, version: number): Promise<LockRecord | 'unreadable' | null> {
    for (const key of [claimKey(deployment, version), legacyLockKey(deployment)]) {
      const entry = await this.store.get(key);
      if (entry === null) continue;
      const record = parseLockRecord(entry.value);
      if (record === null) return 'unreadable';
      if (record.lease !== null || record.intent !== null) return record;
    }
    return null;
  }

  async check(deployment: string, version: number): Promise<{ pending?: Intent }> {
    const now = this.clock.now();
    const entry = await this.store.get(claimKey(deployment, version));
    if (entry === null) return {};
    const record = parseLockRecord(entry.value);
    this.refuseIfBusy(deployment, record, now);
    const pending = record?.intent ?? null;
    return pending ? { pending } : {};
  }

  async claim(
    deployment: string,
    version: number,
    operation: Operation | 'adopt',
    body: IntentBody,
    settle: SettleIntent,
  ): Promise<ClaimOutcome> {
    const now = this.clock.now();
    const key = claimKey(deployment, version);
    const mine = this.holderRecord(operation, now);
    const intent: Intent = { ...body, request_id: mine.request_id, holder: mine.holder };
    const value = serializeLockRecord({ lease: mine, intent });
    if (await this.firstWrite(() => this.store.add(key, value))) {
      return { claim: this.handle(deployment, key, mine) };
    }
    const current = await this.store.get(key);
    if (current === null) {
      // Freed between our add and our read: one more add, and no more.
      if (await this.firstWrite(() => this.store.add(key, value))) {
        return { claim: this.handle(deployment, key, mine) };
      }
      throw inProgress(deployment, await this.current(key), this.bounds, now);
    }
    const record = parseLockRecord(current.value);
    this.refuseIfBusy(deployment, record, now);
    const pending = record?.intent ?? null;
    // A claim planned from another keyring than the one this operation read is history from
    // before the keyring went back to an earlier version (its item deleted or restored by hand):
    // settling it would put back items from that time. Taken over like a free claim.
    if (pending === null || plannedFrom(pending) !== plannedFrom(body)) {
      // Freed, abandoned without an intent, unreadable, or history: take it only if nobody else
      // did first.
      if (!(await this.firstWrite(() => this.store.replace(key, value, current.generation)))) {
        throw inProgress(deployment, await this.current(key), this.bounds, now);
      }
      return { claim: this.handle(deployment, key, mine) };
    }
    return { settled: await this.settleOn(deployment, key, current, pending, mine, settle) };
  }

  async repair(
    deployment: string,
    version: number,
    settle: SettleIntent,
    keyring: string | null,
  ): Promise<string | undefined> {
    const now = this.clock.now();
    const mine = this.holderRecord('repair', now);
    const reports: string[] = [];
    for (const key of [legacyLockKey(deployment), claimKey(deployment, version)]) {
      const current = await this.store.get(key);
      if (current === null) continue;
      const record = parseLockRecord(current.value);
      this.refuseIfBusy(deployment, record, now);
      const pending = record?.intent ?? null;
      if (pending !== null && plannedFrom(pending) === keyring) {
        reports.push(await this.settleOn(deployment, key, current, pending, mine, settle));
      } else if (!(await this.store.remove(key, current.generation))) {
        // An abandoned claim without an intent, an unreadable one, or one planned from a keyring
        // that is no longer the stored one (history, never settled): cleared if still as read.
        throw inProgress(deployment, await this.current(key), this.bounds, now);
      } else if (pending !== null) {
        reports.push(
          `cleared an earlier ${pending.operation} (request ${pending.request_id}) planned from another keyring than the stored one, without settling it`,
        );
      }
    }
    return reports.length > 0 ? reports.join('; ') : undefined;
  }

  private holderRecord(operation: string, now: number): LeaseHolderRecord {
    return {
      operation,
      holder: this.who.holder,
      request_id: this.who.requestId,
      started_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.bounds.operationMs).toISOString(),
    };
  }

  /** The two refusals: a live lease, or an intent a write may still land for. */
  private refuseIfBusy(deployment: string, record: LockRecord | null, now: number): void {
    if (record?.lease && Date.parse(record.lease.expires_at) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
    if (record?.intent && settlesAtMs(record, this.bounds.lateWriteMs) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
  }

  /**
   * Takes over a claim whose intent may be settled (keeping the intent in the record until it is,
   * so a crash while settling loses nothing), settles it, and removes the claim.
   */
  private async settleOn(
    deployment: string,
    key: string,
    current: VersionedValue,
    pending: Intent,
    mine: LeaseHolderRecord,
    settle: SettleIntent,
  ): Promise<string> {
    const now = this.clock.now();
    const takeover: LockRecord = {
      lease: mine,
      intent: pending,
      settles_at: new Date(now).toISOString(),
    };
    if (!(await this.store.replace(key, serializeLockRecord(takeover), current.generation))) {
      throw inProgress(deployment, await this.current(key), this.bounds, now);
    }
    let settled: string;
    try {
      settled = await settle(pending);
    } catch (err) {
      // Give the claim back but keep the intent: settleable at once by whoever comes next if the
      // failed write was refused; only after the late-write bound if it may still land.
      const wait = writeOutcome(err) === 'unknown' ? this.bounds.lateWriteMs : 0;
      await this.rewrite(deployment, key, mine, () => ({
        lease: null,
        intent: pending,
        settles_at: new Date(this.clock.now() + wait).toISOString(),
      })).catch(() => undefined);
      throw unsettled(deployment, pending, err);
    }
    // Settled: the version is free again (if the settled update had landed, nobody reads the
    // version before it any more, so nobody claims this key again).
    await this.rewrite(deployment, key, mine, () => null);
    return settled;
  }

  private async current(key: string): Promise<LockRecord | null> {
    const entry = await this.store.get(key);
    return entry === null ? null : parseLockRecord(entry.value);
  }

  private handle(deployment: string, key: string, mine: LeaseHolderRecord): Claim {
    return {
      expiresAtMs: Date.parse(mine.expires_at),
      free: async () => {
        await this.rewrite(deployment, key, mine, () => null);
      },
      leave: async (at) => {
        await this.rewrite(deployment, key, mine, (record) => ({
          lease: null,
          intent: record.intent,
          settles_at: new Date(at).toISOString(),
        }));
      },
    };
  }

  /**
   * Replaces (or, for null, deletes) the record while it is still ours. A compare-and-set that
   * fails although the record still reads as ours means the read was stale: read and try again.
   */
  private async rewrite(
    deployment: string,
    key: string,
    mine: LeaseHolderRecord,
    next: (record: LockRecord) => LockRecord | null,
  ): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await this.store.get(key);
      const record = entry ? parseLockRecord(entry.value) : null;
      if (!entry || !record || !isMine(record, mine)) {
        throw new TskError(
          'operation_in_progress',
          `the claim on deployment "${deployment}" is no longer held by this operation (it ran past its bound and was taken over)`,
          { details: { lease: record?.lease ?? null } },
        );
      }
      const value = next(record);
      if (await this.writeBack(key, entry, value)) return;
    }
    throw new TskError(
      'upstream_failed',
      `the lock record of deployment "${deployment}" kept changing under a compare-and-set`,
    );
  }

  private async writeBack(
    key: string,
    entry: VersionedValue,
    value: LockRecord | null,
  ): Promise<boolean> {
    if (value === null || (value.lease === null && value.intent === null)) {
      return this.store.remove(key, entry.generation);
    }
    return this.store.replace(key, serializeLockRecord(value), entry.generation);
  }

  /** The claim's write: if its outcome is unknown, nothing else was changed. */
  private async firstWrite(write: () => Promise<boolean>): Promise<boolean> {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof TskError)) throw err;
      // A claim that landed after all holds an intent: it is settled (there is nothing to undo)
      // once its lease and the late-write bound have passed.
      const bound = Math.round((this.bounds.operationMs + this.bounds.lateWriteMs) / 1000);
      throw new TskError(
        err.code,
        `${err.message}. Claiming the deployment's next keyring version failed, so no key store was changed; if the claim was taken after all, the next change settles it after ${bound} s`,
        { cause: err, details: { ...err.details, committed: false, outcome: 'not_committed' } },
      );
    }
  }
}

/**
 * The `keyring` item an intent was planned from (null: none), as its `restore` records it; for an
 * intent that writes no item (an orphan's deletion), the keyring it names.
 */
function plannedFrom(intent: IntentBody): string | null {
  return 'keyring' in intent.restore ? (intent.restore['keyring'] ?? null) : intent.keyring;
}

function isMine(record: LockRecord, mine: LeaseHolderRecord): boolean {
  return (
    record.lease !== null &&
    record.lease.request_id === mine.request_id &&
    record.lease.started_at === mine.started_at
  );
}

function inProgress(
  deployment: string,
  record: LockRecord | null,
  bounds: LockBounds,
  nowMs: number,
): TskError {
  const held = record?.lease ?? null;
  const live = held !== null && Date.parse(held.expires_at) > nowMs;
  const intent = record?.intent ?? null;
  if (record && intent && !live) {
    const atMs = settlesAtMs(record, bounds.lateWriteMs);
    const at = new Date(atMs).toISOString();
    return new TskError(
      'operation_in_progress',
      `deployment "${deployment}" has an earlier ${intent.operation} (request ${intent.request_id}) whose outcome is not settled; a write it sent may still land until ${at}. Retry after that (the next operation settles it), or run tsctl doctor to see it`,
      {
        details: {
          lease: held,
          pending_intent: intent,
          settles_at: at,
          retryAfterSeconds: Math.max(1, Math.ceil((atMs - nowMs) / 1000)),
        },
      },
    );
  }
  const who = held
    ? `${held.operation} by ${held.holder} since ${held.started_at}`
    : 'another operation';
  const wait = live ? Math.max(1, Math.ceil((Date.parse(held.expires_at) - nowMs) / 1000)) : 1;
  return new TskError(
    'operation_in_progress',
    `deployment "${deployment}" is being changed (${who}); list the key sets and try again when it is done`,
    { details: held ? { lease: held, retryAfterSeconds: wait } : {} },
  );
}

function unsettled(deployment: string, intent: Intent, cause: unknown): TskError {
  const base = cause instanceof TskError ? cause : undefined;
  return new TskError(
    base?.code ?? 'upstream_failed',
    `an earlier ${intent.operation} on deployment "${deployment}" (request ${intent.request_id}) could not be settled (${base?.message ?? 'unknown error'}); nothing else was changed. Retry, or run tsctl doctor`,
    { cause, details: { committed: false, outcome: 'not_committed', pending_intent: intent } },
  );
}
