// What the status, the keysets listing and doctor say about the key log (docs/key-log.md): its
// root, its size, and every published key it does not vouch for. Checked cryptographically here
// (every signature of the stored log), not taken from the keyring's `endorsed_at` marks, so a key
// log or keyring changed outside the service is reported rather than believed.
import { PUBLISHED_STATES, type KeyLogRoot, type KeysetState } from './document.js';
import type { Finding } from './doctor.js';
import { endorsedKeys, isKeyLog, KEY_LOG_ITEM, keyLogProblem, parseKeyLog } from './key-log.js';

/** The key log as the admin API reports it. */
export interface KeyLogSummary {
  /** False when the deployment has no log yet: every key is then unendorsed (not an error). */
  present: boolean;
  root_kid?: string;
  /** base64url SHA-256 of the root's raw public key: what partners pin. */
  root_fingerprint?: string;
  /** Entries after the root, and the seq the checkpoint folded up to (null: none yet). */
  entries?: number;
  checkpoint_seq?: number | null;
  /** The item's size, against the 8,000-character limit. */
  chars?: number;
  /** Why the stored log does not verify (then no key counts as endorsed). */
  problem?: string;
  /** Published kids the log does not vouch for with the public key they are published with. */
  unendorsed_kids: string[];
}

/** Summarises the stored log against what is published (`keysets` as the stores serve them). */
export async function keyLogSummary(
  items: ReadonlyMap<string, string>,
  keysets: ReadonlyArray<{ id: string; state: KeysetState; jwk: { x: string } }>,
  recorded?: KeyLogRoot,
): Promise<KeyLogSummary> {
  const published = keysets.filter((k) => PUBLISHED_STATES.has(k.state));
  const text = items.get(KEY_LOG_ITEM);
  const parsed = parseKeyLog(text);
  if (parsed === null) {
    // The keyring names a root, so the service wrote a log, and someone removed it since.
    if (recorded !== undefined) {
      return {
        present: true,
        problem: `the key-log item is gone, though the keyring records the root ${recorded.root_fingerprint}`,
        unendorsed_kids: published.map((k) => k.id),
      };
    }
    return { present: false, unendorsed_kids: published.map((k) => k.id) };
  }
  if (!isKeyLog(parsed)) {
    return { present: true, problem: parsed.invalid, unendorsed_kids: published.map((k) => k.id) };
  }
  // A log that verifies on its own but hangs from another root than the one the keyring records
  // was replaced whole (say, with a stolen API token, to vouch for a rogue key): not ours.
  const problem =
    recorded !== undefined && parsed.root_fingerprint !== recorded.root_fingerprint
      ? `its root ${parsed.root_fingerprint} is not the root the keyring records (${recorded.root_fingerprint}): the item was replaced`
      : await keyLogProblem(parsed);
  const endorsed = problem === null ? endorsedKeys(parsed) : new Map<string, string>();
  return {
    present: true,
    root_kid: parsed.root.kid,
    root_fingerprint: parsed.root_fingerprint,
    entries: parsed.entries.length,
    checkpoint_seq: parsed.checkpoint?.seq ?? null,
    chars: text?.length ?? 0,
    ...(problem !== null ? { problem } : {}),
    unendorsed_kids: published.filter((k) => endorsed.get(k.id) !== k.jwk.x).map((k) => k.id),
  };
}

/**
 * Doctor's findings: a log that does not verify (error), and each published key it does not vouch
 * for (warning). A deployment without a log has none: it never had one to break.
 */
export function keyLogFindings(summary: KeyLogSummary, deployment: string): Finding[] {
  if (!summary.present) return [];
  const findings: Finding[] = [];
  if (summary.problem !== undefined) {
    findings.push({
      code: 'key_log_invalid',
      severity: 'error',
      message: `the key-log item does not verify (${summary.problem}): it was changed outside the service, and partners that check it refuse every key`,
      fix: 'find who wrote the key-log item (the Fastly audit log) and put back the last value the service wrote; rotate the Fastly API token',
      repairable: false,
    });
    return findings;
  }
  for (const kid of summary.unendorsed_kids) {
    findings.push({
      code: 'unendorsed_key',
      severity: 'warning',
      kid,
      message: `${kid} is published but the key log does not endorse it: it was written into the stores directly (Trusted Server's rotate, or someone with the Fastly API token), and partners that check the key log refuse it`,
      fix: `if it is yours: tsctl keyset adopt ${kid} --deployment-name ${deployment}; if not: tsctl keyset deactivate ${kid} then remove it, and rotate the Fastly API token`,
      repairable: false,
    });
  }
  return findings;
}
