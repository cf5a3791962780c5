// The per-deployment lock: one KV entry per deployment in `keyring_locks`, written only through
// the management API with compare-and-set (the edge cannot). It holds the lease of the operation
// running now and the intent journal of the last one whose outcome is not settled. A second
// operation fails at once; it never waits. No writer needs to know the generation its own write
// produced: every change reads the record, checks it is still ours, and writes with
// `if-generation-match`, so a stale read-back can never strand a lease.
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

/** A held lease: its bound, the operation's journal, and how to end it. */
export interface Lease {
  expiresAtMs: number;
  /** Records the operation's intent; must succeed before the operation's first store write. */
  journal(intent: IntentBody): Promise<void>;
  /** Ends the operation: clears its intent and gives the lease back. */
  release(): Promise<void>;
  /**
   * Ends the operation but keeps its intent for the next operation (or doctor) to settle from
   * `settlesAtMs`. If this write fails, the intent is still there and settles after the lease's
   * bound plus the late-write bound.
   */
  leave(settlesAtMs: number): Promise<void>;
}

/** Settles a previous operation's intent; called with the lease held, before the new operation. */
export type SettleIntent = (intent: Intent) => Promise<string>;

/** Serializes mutations of one deployment; absent, the engine neither locks nor journals. */
export interface MutationGuard {
  /**
   * Takes the deployment's lease for `operation`, or throws `operation_in_progress`. An earlier
   * intent that may be settled is settled first through `settle`; its report is returned.
   */
  acquire(
    deployment: string,
    operation: Operation | 'repair' | 'adopt',
    settle: SettleIntent,
  ): Promise<{ lease: Lease; settled?: string }>;
  /** The deployment's lock record as stored (for doctor); null when there is none. */
  inspect(deployment: string): Promise<LockRecord | 'unreadable' | null>;
  /**
   * What `acquire` would find, for a dry run, without writing anything: throws
   * `operation_in_progress` exactly when `acquire` would; otherwise resolves to the earlier
   * intent `acquire` would settle first, if any.
   */
  check?(deployment: string): Promise<{ pending?: Intent }>;
}

/** Bounds of the lock; tests shrink them. */
export interface LockBounds {
  operationMs: number;
  lateWriteMs: number;
}

/** How many times a compare-and-set is retried when a read proves stale. */
const CAS_ATTEMPTS = 5;

/** Takes and releases deployment leases, and keeps their journals, in a KV store. */
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

  async inspect(deployment: string): Promise<LockRecord | 'unreadable' | null> {
    const entry = await this.store.get(deployment);
    if (entry === null) return null;
    return parseLockRecord(entry.value) ?? 'unreadable';
  }

  async check(deployment: string): Promise<{ pending?: Intent }> {
    const now = this.clock.now();
    const entry = await this.store.get(deployment);
    if (entry === null) return {};
    const record = parseLockRecord(entry.value);
    // The same two refusals as `acquire`, in the same order; anything else it would take over.
    if (record?.lease && Date.parse(record.lease.expires_at) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
    const pending = record?.intent ?? null;
    if (pending && record && settlesAtMs(record, this.bounds.lateWriteMs) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
    return pending ? { pending } : {};
  }

  async acquire(
    deployment: string,
    operation: Operation | 'repair' | 'adopt',
    settle: SettleIntent,
  ): Promise<{ lease: Lease; settled?: string }> {
    const now = this.clock.now();
    const mine: LeaseHolderRecord = {
      operation,
      holder: this.who.holder,
      request_id: this.who.requestId,
      started_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.bounds.operationMs).toISOString(),
    };
    const fresh = serializeLockRecord({ lease: mine, intent: null });
    if (await this.firstWrite(() => this.store.add(deployment, fresh))) {
      return { lease: this.handle(deployment, mine) };
    }
    const current = await this.store.get(deployment);
    if (current === null) {
      // Released between our add and our read: one more add, and no more.
      if (await this.firstWrite(() => this.store.add(deployment, fresh))) {
        return { lease: this.handle(deployment, mine) };
      }
      throw inProgress(deployment, await this.current(deployment), this.bounds, now);
    }
    const record = parseLockRecord(current.value);
    if (record?.lease && Date.parse(record.lease.expires_at) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
    const pending = record?.intent ?? null;
    if (pending && record && settlesAtMs(record, this.bounds.lateWriteMs) > now) {
      throw inProgress(deployment, record, this.bounds, now);
    }
    // Past its bound (or unreadable): take it over only if nobody else did first, keeping any
    // intent in the record until it is settled, so a crash while settling loses nothing.
    const takeover: LockRecord = {
      lease: mine,
      intent: pending,
      ...(pending ? { settles_at: new Date(now).toISOString() } : {}),
    };
    if (
      !(await this.store.replace(deployment, serializeLockRecord(takeover), current.generation))
    ) {
      throw inProgress(deployment, await this.current(deployment), this.bounds, now);
    }
    const lease = this.handle(deployment, mine);
    if (!pending) return { lease };
    let settled: string;
    try {
      settled = await settle(pending);
    } catch (err) {
      // Give the lease back but keep the intent: settleable at once by whoever comes next if the
      // failed write was refused; only after the late-write bound if it may still land.
      const wait = writeOutcome(err) === 'unknown' ? this.bounds.lateWriteMs : 0;
      await this.rewrite(deployment, mine, () => ({
        lease: null,
        intent: pending,
        settles_at: new Date(this.clock.now() + wait).toISOString(),
      })).catch(() => undefined);
      throw unsettled(deployment, pending, err);
    }
    await this.rewrite(deployment, mine, () => ({ lease: mine, intent: null }));
    return { lease, settled };
  }

  private async current(deployment: string): Promise<LockRecord | null> {
    const found = await this.inspect(deployment);
    return found === 'unreadable' ? null : found;
  }

  private handle(deployment: string, mine: LeaseHolderRecord): Lease {
    return {
      expiresAtMs: Date.parse(mine.expires_at),
      journal: async (body) => {
        const intent: Intent = { ...body, request_id: mine.request_id, holder: mine.holder };
        await this.rewrite(deployment, mine, () => ({ lease: mine, intent }));
      },
      release: async () => {
        await this.rewrite(deployment, mine, () => null);
      },
      leave: async (at) => {
        await this.rewrite(deployment, mine, (record) => ({
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
    mine: LeaseHolderRecord,
    next: (record: LockRecord) => LockRecord | null,
  ): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await this.store.get(deployment);
      const record = entry ? parseLockRecord(entry.value) : null;
      if (!entry || !record || !isMine(record, mine)) {
        throw new TskError(
          'operation_in_progress',
          `the lease on deployment "${deployment}" is no longer held by this operation (it ran past its bound and was taken over)`,
          { details: { lease: record?.lease ?? null } },
        );
      }
      const value = next(record);
      if (await this.writeBack(deployment, entry, value)) return;
    }
    throw new TskError(
      'upstream_failed',
      `the lock record of deployment "${deployment}" kept changing under a compare-and-set`,
    );
  }

  private async writeBack(
    deployment: string,
    entry: VersionedValue,
    value: LockRecord | null,
  ): Promise<boolean> {
    if (value === null || (value.lease === null && value.intent === null)) {
      return this.store.remove(deployment, entry.generation);
    }
    return this.store.replace(deployment, serializeLockRecord(value), entry.generation);
  }

  /** The first write of an acquire: if its outcome is unknown, nothing else was changed. */
  private async firstWrite(write: () => Promise<boolean>): Promise<boolean> {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof TskError)) throw err;
      const bound = Math.round(this.bounds.operationMs / 1000);
      throw new TskError(
        err.code,
        `${err.message}. Taking the deployment lease failed, so no key store was changed; if the lease was taken after all, it lapses within ${bound} s`,
        { cause: err, details: { ...err.details, committed: false, outcome: 'not_committed' } },
      );
    }
  }
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
