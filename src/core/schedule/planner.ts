// The rotation schedule as a pure function: from a keyring and a policy, which transitions are
// due and when each later one will be (times in the keyring's own timestamps, so the answer does
// not depend on when it is asked, only which of them are due does). The run (./run.ts) applies the
// due ones one at a time, planning again after each; `planAhead` simulates the same steps forward
// to show an operator the coming timeline.
import {
  activeKeyset,
  publishedKeysets,
  publishedSince,
  type Keyring,
  type Keyset,
} from '../keyring/document.js';
import { transition } from '../keyring/transitions.js';
import type { SchedulePolicy } from './policy.js';

/** The operations the schedule performs. */
export type ScheduledOperation = 'prepare' | 'activate' | 'taint' | 'remove';

/** One transition the schedule will make. */
export interface PlannedTransition {
  operation: ScheduledOperation;
  /** The key set it acts on; null for prepare (its kid is chosen when it commits). */
  keyset: string | null;
  /** When it is due (ISO); in the past when overdue. */
  at: string;
  reason: string;
}

/** Among transitions due at the same time: make room first, then publish, then sign. */
const ORDER: Readonly<Record<ScheduledOperation, number>> = {
  remove: 0,
  taint: 1,
  prepare: 2,
  activate: 3,
};

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (text: string): number => Date.parse(text);

/** True when the key set has signed since it was last published (it is, or was, a signer). */
function signedSincePublished(k: Keyset): boolean {
  return k.activated_at !== undefined && ms(k.activated_at) >= ms(publishedSince(k));
}

/**
 * The key set the schedule activates next: a PREPARED key set that has not signed since it was
 * published, was never superseded (an old key adopted from Trusted Server's items never signs
 * again) and does not expire before the ACTIVE one; the longest-lived one.
 */
export function successorOf(keyring: Keyring): Keyset | undefined {
  const active = activeKeyset(keyring);
  const floor = active ? ms(active.expires_at) : -Infinity;
  let best: Keyset | undefined;
  for (const k of keyring.keysets) {
    if (k.state !== 'PREPARED' || signedSincePublished(k)) continue;
    if (active && k.superseded_at !== undefined) continue;
    // Equal expiry: prepared in the commit that adopted a Trusted Server store (same instant).
    if (ms(k.expires_at) < floor) continue;
    if (!best || ms(k.expires_at) >= ms(best.expires_at)) best = k;
  }
  return best;
}

/**
 * Every transition the keyring calls for under `policy`, each with its time, soonest first.
 * Overdue ones carry their original time: a run that comes late still sees why they are due.
 */
export function pendingTransitions(keyring: Keyring, policy: SchedulePolicy): PlannedTransition[] {
  const out: PlannedTransition[] = [];
  const active = activeKeyset(keyring);
  const successor = successorOf(keyring);

  if (active) {
    const expires = ms(active.expires_at);
    if (!successor) {
      out.push({
        operation: 'prepare',
        keyset: null,
        at: iso(expires - policy.prepareBeforeMs),
        reason: `the successor of ${active.id} is prepared ${days(policy.prepareBeforeMs)} before it expires (${active.expires_at})`,
      });
    } else {
      const byExpiry = expires - policy.activateBeforeMs;
      const byDwell = ms(publishedSince(successor)) + policy.dwellMs;
      out.push({
        operation: 'activate',
        keyset: successor.id,
        at: iso(Math.max(byExpiry, byDwell)),
        reason:
          byDwell > byExpiry
            ? `${successor.id} signs once it has been published for the activation dwell (${policy.dwellMs / 1000} s)`
            : `${successor.id} takes over from ${active.id} ${days(policy.activateBeforeMs)} before ${active.id} expires (${active.expires_at})`,
      });
    }
  } else if (!successor) {
    out.push({
      operation: 'prepare',
      keyset: null,
      at: keyring.updated_at,
      reason: 'no key set is ACTIVE and none is prepared to take over: nothing signs',
    });
  } else {
    out.push({
      operation: 'activate',
      keyset: successor.id,
      at: iso(ms(publishedSince(successor)) + policy.dwellMs),
      reason: `no key set is ACTIVE; ${successor.id} signs once it has been published for the activation dwell (${policy.dwellMs / 1000} s)`,
    });
  }

  for (const k of keyring.keysets) {
    if (k.state === 'PREPARED' && k !== successor) {
      const retired = retiredSince(k);
      if (retired === null) continue;
      // Counted from its last publication too: a restored key gets its grace period again.
      const start = Math.max(retired.ms, ms(publishedSince(k)));
      out.push({
        operation: 'taint',
        keyset: k.id,
        at: iso(start + policy.taintAfterMs),
        reason: `${k.id} ${retired.why}; it is tainted ${days(policy.taintAfterMs)} after`,
      });
    }
    if (k.state === 'TAINTED' && policy.removeRetired && active) {
      // Never sooner than the grace period after its last signature, whoever tainted it.
      const tainted = ms(k.tainted_at ?? keyring.updated_at);
      const lastSigned = k.superseded_at !== undefined ? ms(k.superseded_at) : tainted;
      out.push({
        operation: 'remove',
        keyset: k.id,
        at: iso(Math.max(tainted, lastSigned) + policy.removeAfterMs),
        reason: `${k.id} was tainted at ${k.tainted_at ?? keyring.updated_at}; it is removed after the grace period of ${days(policy.removeAfterMs)}`,
      });
    }
  }
  return out.sort((a, b) => ms(a.at) - ms(b.at) || ORDER[a.operation] - ORDER[b.operation]);
}

/** When a PREPARED key set stopped being useful for signing, and why; null if it still is. */
function retiredSince(k: Keyset): { ms: number; why: string } | null {
  if (k.superseded_at !== undefined && signedSincePublished(k)) {
    return { ms: ms(k.superseded_at), why: `stopped signing at ${k.superseded_at}` };
  }
  if (k.superseded_at !== undefined && k.activated_at !== undefined) {
    // Restored after it had signed: retired since its restore (counted by the caller).
    return {
      ms: ms(k.superseded_at),
      why: `was restored after it stopped signing (${k.superseded_at})`,
    };
  }
  return null;
}

/** The transitions due at `nowMs`, in the order a run applies them. */
export function dueTransitions(
  keyring: Keyring,
  nowMs: number,
  policy: SchedulePolicy,
): PlannedTransition[] {
  return pendingTransitions(keyring, policy).filter((t) => ms(t.at) <= nowMs);
}

/** The time of the next scheduled transition, or null when none is planned. */
export function nextTransitionAtMs(keyring: Keyring, policy: SchedulePolicy): number | null {
  const first = pendingTransitions(keyring, policy)[0];
  return first ? ms(first.at) : null;
}

/** A transition of the simulated timeline, with the time the run would apply it. */
export interface TimelineEntry extends PlannedTransition {
  /** True when it is due now (a run now applies it). */
  due: boolean;
}

/**
 * The coming timeline: the due transitions, then what daily-or-more-frequent runs would do until
 * `horizonMs` (or `limit` entries), simulated on a copy of the keyring. A prepared key's kid is
 * not known before it commits: it is shown as `(next key N)`.
 */
export function planAhead(
  keyring: Keyring,
  nowMs: number,
  policy: SchedulePolicy,
  options: { horizonMs?: number; limit?: number } = {},
): TimelineEntry[] {
  const horizon = nowMs + (options.horizonMs ?? policy.lifetimeMs + policy.taintAfterMs);
  const limit = options.limit ?? 12;
  const out: TimelineEntry[] = [];
  let sim = keyring;
  let created = 0;
  while (out.length < limit) {
    const next = pendingTransitions(sim, policy)[0];
    if (!next) break;
    const atMs = Math.max(ms(next.at), nowMs);
    if (atMs > horizon) break;
    out.push({ ...next, due: ms(next.at) <= nowMs });
    const nowIso = iso(atMs);
    if (next.operation === 'prepare') {
      created += 1;
      const id = `(next key ${created})`;
      const template = publishedKeysets(sim)[0]?.jwk ?? {
        kty: 'OKP' as const,
        crv: 'Ed25519' as const,
        x: '',
        alg: 'EdDSA' as const,
        kid: id,
      };
      sim = transition(sim, 'prepare', {
        nowIso,
        created: {
          id,
          state: 'PREPARED',
          jwk: { ...template, kid: id },
          issued_at: nowIso,
          expires_at: iso(atMs + policy.lifetimeMs),
        },
      });
    } else {
      sim = transition(sim, next.operation, { id: next.keyset ?? '', nowIso });
    }
  }
  return out;
}

function days(msValue: number): string {
  const d = msValue / 86_400_000;
  return Number.isInteger(d) ? `${d} days` : `${+d.toFixed(3)} days`;
}
