// The per-deployment mutation lease: one KV entry per deployment in `keyring_locks`, taken with an
// add-only write and released with `if-generation-match`, through the management API (the edge
// cannot compare-and-set). A second operation fails at once; it never waits.
import * as z from 'zod/mini';
import { TskError } from '../errors.js';
import type { Clock, LeaseStoreApi } from '../ports.js';
import type { MutationGuard } from './engine.js';
import type { Operation } from './transitions.js';

/** How long an operation may hold a lease; an older lease is presumed abandoned. */
export const OPERATION_BOUND_MS = 120_000;

const LeaseSchema = z.object({
  operation: z.string(),
  holder: z.string(),
  request_id: z.string(),
  started_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
});

/** What a lease records about its holder (all safe to show: no secrets). */
export type LeaseRecord = z.infer<typeof LeaseSchema>;

/** Who is asking, for the lease record and for the refusal others get. */
export interface LeaseHolder {
  /** The admin token id, or another actor name. */
  holder: string;
  requestId: string;
}

/** A held lease: when its bound runs out, and how to give it back. */
export interface HeldLease {
  expiresAtMs: number;
  release(): Promise<void>;
}

/** Takes and releases deployment leases in a KV store. */
export class KvLease implements MutationGuard {
  constructor(
    private readonly store: LeaseStoreApi,
    private readonly clock: Clock,
    private readonly who: LeaseHolder,
    private readonly boundMs = OPERATION_BOUND_MS,
  ) {}

  /** Takes the lease or throws `operation_in_progress` naming the holder; breaks one past its bound. */
  async acquire(deployment: string, operation: Operation): Promise<HeldLease> {
    const now = this.clock.now();
    const record: LeaseRecord = {
      operation,
      holder: this.who.holder,
      request_id: this.who.requestId,
      started_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.boundMs).toISOString(),
    };
    const value = JSON.stringify(record);
    let taken: boolean;
    try {
      taken = await this.store.add(deployment, value);
    } catch (err) {
      // The write may have landed although its answer did not: then the lease is ours but
      // unreleasable, and lapses at its bound. Nothing else was changed.
      if (!(err instanceof TskError)) throw err;
      throw new TskError(
        err.code,
        `${err.message}. Taking the deployment lease failed, so nothing was changed; if the lease was taken, it lapses within ${Math.round(this.boundMs / 1000)} s`,
        { cause: err, details: { ...err.details, committed: false } },
      );
    }
    if (!taken) {
      const current = await this.store.get(deployment);
      if (current === null) {
        // Released between our add and our read: one more add, and no more.
        taken = await this.store.add(deployment, value);
      } else {
        const held = parseLease(current.value);
        if (held && Date.parse(held.expires_at) > now) throw inProgress(deployment, held);
        // Past its bound (or unreadable): take it over only if nobody else did first.
        taken = await this.store.replace(deployment, value, current.generation);
      }
      if (!taken) {
        const winner = await this.store.get(deployment);
        throw inProgress(deployment, winner ? parseLease(winner.value) : null);
      }
    }
    // Writes no longer answer a generation: read it to release by it. If this read shows
    // another value, the lease is not ours to release; it lapses at its bound.
    const mine = await this.store.get(deployment);
    const generation = mine !== null && mine.value === value ? mine.generation : null;
    return {
      expiresAtMs: now + this.boundMs,
      release: async () => {
        if (generation !== null) await this.store.remove(deployment, generation);
      },
    };
  }
}

function parseLease(text: string): LeaseRecord | null {
  try {
    const parsed = LeaseSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function inProgress(deployment: string, held: LeaseRecord | null): TskError {
  const who = held
    ? `${held.operation} by ${held.holder} since ${held.started_at}`
    : 'another operation';
  return new TskError(
    'operation_in_progress',
    `deployment "${deployment}" is being changed (${who}); list the key sets and try again when it is done`,
    { details: held ? { lease: held } : {} },
  );
}
