// One schedule run: plan against the authoritative keyring, apply the first due transition through
// the engine with If-Match set to the version it was planned against, plan again from the keyring
// that commit produced, and so on until nothing is due. An operator's change in between makes the
// engine refuse with `keyring_version_mismatch` (or `operation_in_progress` while it runs): the
// run stops there, having written nothing for that step, and reports it. Idempotent: a second run
// at the same time finds nothing due. A late run catches up, because each step is planned anew.
import { TskError } from '../errors.js';
import type { Keyring, Keyset } from '../keyring/document.js';
import type { KeyringEngine, MutationResult } from '../keyring/engine.js';
import { findKeyset } from '../keyring/transitions.js';
import { dueTransitions, type PlannedTransition } from './planner.js';
import { assertActivationAllowed, type SchedulePolicy } from './policy.js';

/** More steps than any keyring that fits Fastly's item limit can need in one run. */
const MAX_STEPS = 32;

/** A transition the run committed. */
export interface AppliedTransition extends PlannedTransition {
  /** The key set it acted on (the new kid for prepare). */
  keyset: string;
  version_before: number;
  version_after: number;
  applied_at: string;
  warnings: string[];
}

/** What a run did. */
export interface ScheduleRunResult {
  deployment: string;
  applied: AppliedTransition[];
  /** The keyring after the run (the last commit's, or as read when nothing was due). */
  keyring: Keyring;
  adopted: boolean;
}

/**
 * Runs the schedule. `onApplied` is told of each commit as it happens (the audit trail), so a
 * step that fails later cannot hide the ones before it. A failure is rethrown with the applied
 * steps in its details (`applied`).
 */
export async function runSchedule(args: {
  engine: KeyringEngine;
  policy: SchedulePolicy;
  now: () => number;
  onApplied?: (step: AppliedTransition, result: MutationResult) => Promise<void> | void;
}): Promise<ScheduleRunResult> {
  const { engine, policy } = args;
  const read = await engine.read();
  let keyring = read.keyring;
  const applied: AppliedTransition[] = [];
  try {
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = dueTransitions(keyring, args.now(), policy)[0];
      if (!next) break;
      const result = await engine.mutate(request(next, keyring.version, policy));
      const keyset: Keyset | undefined = result.keyset;
      const done: AppliedTransition = {
        ...next,
        keyset: keyset?.id ?? next.keyset ?? '',
        version_before: result.before.version,
        version_after: result.after.version,
        applied_at: result.after.updated_at,
        warnings: result.warnings,
      };
      applied.push(done);
      await args.onApplied?.(done, result);
      keyring = result.after;
    }
  } catch (err) {
    if (!(err instanceof TskError)) throw err;
    throw new TskError(err.code, `${err.message}${stoppedNote(applied)}`, {
      cause: err.cause,
      details: { ...err.details, applied },
    });
  }
  return {
    deployment: keyring.deployment,
    applied,
    keyring,
    adopted: read.adopted && applied.length === 0,
  };
}

function request(next: PlannedTransition, version: number, policy: SchedulePolicy) {
  const base = { operation: next.operation, ifMatch: version } as const;
  if (next.operation === 'prepare') return base;
  const id = next.keyset ?? '';
  if (next.operation !== 'activate') return { ...base, id };
  // Planned for after the dwell; checked again under the lease against the keyring as it is then.
  return {
    ...base,
    id,
    precondition: (before: Keyring, nowMs: number) =>
      assertActivationAllowed(findKeyset(before, id), nowMs, policy.dwellMs),
  };
}

function stoppedNote(applied: readonly AppliedTransition[]): string {
  return applied.length === 0
    ? '. The schedule run stopped; it changed nothing'
    : `. The schedule run stopped after ${applied.length} transition(s) it committed (listed in "applied")`;
}
