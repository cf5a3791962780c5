// A deployment's status for monitoring (the key-rotation guide's "metrics to track"): each key's
// age and time to expiry, the published count, the next scheduled transition, and the problems
// that need a person: an expired ACTIVE key, no successor prepared when one is due, a transition
// long overdue (the schedule is not running), and every finding of doctor (stores that disagree
// with the keyring, an unfinished operation). Pure: the route reads, this computes.
import {
  activeKeyset,
  publishedKeysets,
  publishedSince,
  type Keyring,
  type KeysetState,
} from '../keyring/document.js';
import type { DoctorReport } from '../keyring/doctor.js';
import { pendingTransitions, successorOf, type PlannedTransition } from './planner.js';
import type { SchedulePolicy } from './policy.js';

const DAY_MS = 86_400_000;

/** A due transition this late means no run has happened: the schedule is not being run. */
export const OVERDUE_AFTER_MS = 2 * DAY_MS;

/** One key set's figures. */
export interface KeyStatus {
  id: string;
  state: KeysetState;
  /** Days since it was created. */
  age_days: number;
  /** Days until `expires_at` (negative once expired). */
  expires_in_days: number;
  /** Days it has been published (since its creation or last restore), null when not published. */
  published_days: number | null;
}

/** One problem. */
export interface StatusProblem {
  code: string;
  severity: 'error' | 'warning';
  kid?: string;
  message: string;
}

/** The status report. */
export interface DeploymentStatus {
  deployment: string;
  /** False when something needs a person (tsctl status then exits 7). */
  healthy: boolean;
  keyring_version: number;
  active_kid: string | null;
  published_count: number;
  keys: KeyStatus[];
  next_transition: PlannedTransition | null;
  problems: StatusProblem[];
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Computes the status. */
export function deploymentStatus(input: {
  keyring: Keyring;
  nowMs: number;
  policy: SchedulePolicy;
  doctor: DoctorReport;
}): DeploymentStatus {
  const { keyring, nowMs, policy } = input;
  const problems: StatusProblem[] = [];
  const active = activeKeyset(keyring);
  const published = publishedKeysets(keyring);
  const pending = pendingTransitions(keyring, policy);

  if (!active) {
    problems.push({
      code: 'no_active_key',
      severity: 'error',
      message: 'no key set is ACTIVE: nothing signs',
    });
  } else if (Date.parse(active.expires_at) <= nowMs) {
    problems.push({
      code: 'active_key_expired',
      severity: 'error',
      kid: active.id,
      message: `the ACTIVE key ${active.id} expired at ${active.expires_at} and still signs`,
    });
  }
  const prepare = pending.find((t) => t.operation === 'prepare');
  if (active && prepare && Date.parse(prepare.at) <= nowMs && !successorOf(keyring)) {
    problems.push({
      code: 'no_successor',
      severity: 'warning',
      kid: active.id,
      message: `no successor of ${active.id} is prepared, and one has been due since ${prepare.at}: run tsctl schedule run`,
    });
  }
  for (const t of pending) {
    if (Date.parse(t.at) + OVERDUE_AFTER_MS > nowMs) continue;
    problems.push({
      code: 'schedule_overdue',
      severity: 'warning',
      ...(t.keyset ? { kid: t.keyset } : {}),
      message: `${t.operation}${t.keyset ? ` of ${t.keyset}` : ''} has been due since ${t.at}: is tsctl schedule run running?`,
    });
  }
  for (const f of input.doctor.findings) {
    if (f.severity === 'info' || f.code === 'no_active_key') continue;
    problems.push({
      // Drift (Trusted Server's tools changed its items) is the stores disagreeing, by kind.
      code: f.code === 'items_disagree' || f.code === 'drift' ? 'stores_disagree' : f.code,
      severity: f.severity,
      ...(f.kid !== undefined ? { kid: f.kid } : {}),
      message: `${f.message} (fix: ${f.fix})`,
    });
  }

  return {
    deployment: keyring.deployment,
    healthy: problems.length === 0,
    keyring_version: keyring.version,
    active_kid: active?.id ?? null,
    published_count: published.length,
    keys: keyring.keysets.map((k) => ({
      id: k.id,
      state: k.state,
      age_days: round((nowMs - Date.parse(k.issued_at)) / DAY_MS),
      expires_in_days: round((Date.parse(k.expires_at) - nowMs) / DAY_MS),
      published_days: published.includes(k)
        ? round((nowMs - Date.parse(publishedSince(k))) / DAY_MS)
        : null,
    })),
    next_transition: pending[0] ?? null,
    problems,
  };
}
