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
  // The config items first; the secret names only when they could make something due.
  const items = await engine.readItems();
  const idle = nothingDue(engine, items, args.now(), policy);
  if (idle) return { deployment: idle.deployment, applied: [], keyring: idle, adopted: false };
  const read = await engine.readFrom(items, true);
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

/** Above this many key sets whose private keys could matter, the run reads the secret names. */
const MAX_UNCERTAIN = 4;

/**
 * The keyring, when the config items alone prove that nothing is due whatever the secret store
 * holds; otherwise undefined (the run reads the names, as `engine.read()` does). The names matter
 * to the schedule only through the fold: a PREPARED or TAINTED key set whose private key is
 * missing is unpublished (DEACTIVATED), which can make a prepare due (the successor gone). So the
 * items are folded as if each subset of those key sets had lost its private key, and the keyring
 * is returned only when nothing is due in every case. A store whose items disagree with the
 * stored keyring (drift, adoption, a flag the names would decide) always takes the full read, as
 * does one with more than MAX_UNCERTAIN such key sets. The plan the run shows is then the one of
 * the stored keyring (every private key present): a missing one is what `doctor` and `status`
 * report (key_material_missing), and the next commit folds it.
 */
function nothingDue(
  engine: Pick<KeyringEngine, 'fold'>,
  items: ReadonlyMap<string, string>,
  nowMs: number,
  policy: SchedulePolicy,
): Keyring | undefined {
  const base = engine.fold(items);
  const stored = base.reading.keyring;
  if (!stored || base.adopted || base.folded.length > 0 || base.drift.length > 0) return undefined;
  // Every key set is the stored keyring's: the engine's read would probe no private key.
  const ids = base.keyring.keysets.map((k) => k.id);
  if (!ids.every((id) => stored.keysets.some((k) => k.id === id))) return undefined;
  const uncertain = base.keyring.keysets
    .filter((k) => (k.state === 'PREPARED' || k.state === 'TAINTED') && !k.unusable)
    .map((k) => k.id);
  if (uncertain.length > MAX_UNCERTAIN) return undefined;
  for (let mask = 0; mask < 1 << uncertain.length; mask++) {
    const missing = new Set(uncertain.filter((_, i) => (mask >> i) & 1));
    const { keyring } = engine.fold(items, new Set(ids.filter((id) => !missing.has(id))));
    if (dueTransitions(keyring, nowMs, policy).length > 0) return undefined;
  }
  return base.keyring;
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
