// Doctor: every disagreement between a deployment's config items (the keyring and Trusted
// Server's items), its private keys and its lock record (lease and intent journal), each with
// what it means and what to do. `repair` fixes what is safe to fix without a person's judgement
// (settling an intent whose writes can no longer land, clearing a dead operation's lease);
// everything else names the command that fixes it.
import { TskError } from '../errors.js';
import { parseActiveKids } from '../keys/active-kids.js';
import { RESERVED_ITEM_KEYS } from '../keys/kid.js';
import { PUBLISHED_STATES, type Keyring } from './document.js';
import { settlesAtMs, type LockRecord } from './journal.js';
import { derivedItems, ITEM_KEYS, loadKeyring } from './store-items.js';
import type { Drift } from './store-reading.js';

/** What doctor can find. */
export type FindingCode =
  | 'keyring_corrupt'
  | 'no_active_key'
  | 'keyless_kid'
  | 'missing_jwk'
  | 'orphan_private_key'
  | 'items_disagree'
  | 'drift'
  | 'unusable_key'
  | 'pending_intent'
  | 'stale_lease'
  | 'operation_running'
  | 'lock_unreadable'
  /** The key log (docs/key-log.md; `./key-log-report.ts`). */
  | 'unendorsed_key'
  | 'key_log_invalid';

/** One finding. */
export interface Finding {
  code: FindingCode;
  /** `error`: partners or signing are affected now; `warning`: needs a look; `info`: no action. */
  severity: 'error' | 'warning' | 'info';
  kid?: string;
  message: string;
  /** What fixes it: `repair` (doctor --repair does it), or the command a person should run. */
  fix: string;
  /** True when `doctor --repair` fixes it now. */
  repairable: boolean;
}

/** Everything doctor looks at, read authoritatively. */
export interface DoctorInput {
  deployment: string;
  items: ReadonlyMap<string, string>;
  secretNames: ReadonlySet<string>;
  /** The lock record; `unreadable` when it exists but cannot be parsed. */
  lock: LockRecord | 'unreadable' | null;
  nowMs: number;
  lateWriteMs: number;
  keyLifetimeDays: number;
}

/** Doctor's report. */
export interface DoctorReport {
  deployment: string;
  /** True when nothing needs a person (only `info` findings). */
  healthy: boolean;
  keyring_version: number | null;
  findings: Finding[];
}

/** Looks at everything and reports every disagreement. */
export function diagnose(input: DoctorInput): DoctorReport {
  const findings: Finding[] = [];
  const { items, secretNames, deployment } = input;
  const removeCmd = (kid: string): string =>
    `tsctl keyset remove ${kid} --deployment-name ${deployment}`;

  let keyring: Keyring | null = null;
  let drift: Drift[] = [];
  try {
    const loaded = loadKeyring(items, {
      deployment,
      nowMs: input.nowMs,
      keyLifetimeDays: input.keyLifetimeDays,
      secretNames,
    });
    keyring = loaded.keyring;
    drift = loaded.drift;
  } catch (err) {
    findings.push({
      code: 'keyring_corrupt',
      severity: 'error',
      message: `the keyring item cannot be read: ${err instanceof TskError ? err.message : 'invalid'}`,
      fix: 'restore the keyring item from the audit trail or a backup; no change can be made until then',
      repairable: false,
    });
  }

  findings.push(...lockFindings(input));
  const intent = input.lock !== 'unreadable' ? (input.lock?.intent ?? null) : null;
  const journaled = new Set(
    [intent?.create_secret, intent?.delete_secret].filter((v): v is string => v !== undefined),
  );

  // Trusted Server's reading: what its signer and partners' fetches see.
  const published = parseActiveKids(items.get(ITEM_KEYS.activeKids) ?? null);
  const current = items.get(ITEM_KEYS.currentKid)?.trim() || null;
  const tsKids = current && !published.includes(current) ? [...published, current] : published;
  for (const kid of tsKids) {
    if (!items.has(kid)) {
      findings.push({
        code: 'missing_jwk',
        severity: 'error',
        kid,
        message: `${kid} is published (active-kids or current-kid) but has no JWK item: partners cannot fetch it`,
        fix: kid === current ? 'activate another key set, then remove this one' : removeCmd(kid),
        repairable: false,
      });
    }
  }
  const keyless = new Set<string>();
  const signingKids = [...tsKids];
  if (keyring) {
    for (const k of keyring.keysets) if (PUBLISHED_STATES.has(k.state)) signingKids.push(k.id);
  }
  for (const kid of signingKids) {
    if (secretNames.has(kid) || keyless.has(kid)) continue;
    keyless.add(kid);
    const active =
      kid === current || keyring?.keysets.some((k) => k.id === kid && k.state === 'ACTIVE');
    findings.push({
      code: 'keyless_kid',
      severity: 'error',
      kid,
      message: `${kid} is published but its private key is missing${active ? ': signing with it fails' : ''}`,
      fix: active ? `prepare and activate a new key set, then ${removeCmd(kid)}` : removeCmd(kid),
      repairable: false,
    });
  }

  if (keyring) {
    if (!keyring.keysets.some((k) => k.state === 'ACTIVE')) {
      findings.push({
        code: 'no_active_key',
        severity: 'error',
        message: 'no key set is ACTIVE: nothing signs',
        fix: `tsctl keyset activate <kid> --deployment-name ${deployment}`,
        repairable: false,
      });
    }
    for (const d of drift) {
      findings.push({
        code: 'drift',
        severity: d.severity,
        ...(d.kid !== undefined ? { kid: d.kid } : {}),
        message: `${d.code}: ${d.message}`,
        fix: `tsctl keyset adopt --deployment-name ${deployment} (or the next change) folds it into the keyring; the edge already serves what Trusted Server's signer uses`,
        repairable: false,
      });
    }
    for (const k of keyring.keysets) {
      // A published kid without its private key is already reported above, with its fix.
      if (!k.unusable || (k.unusable.code === 'key_material_missing' && keyless.has(k.id)))
        continue;
      findings.push({
        code: 'unusable_key',
        severity: k.state === 'ACTIVE' ? 'error' : 'warning',
        kid: k.id,
        message: `${k.id} cannot sign (${k.unusable.code}): ${k.unusable.reason}`,
        fix:
          k.state === 'ACTIVE'
            ? `prepare and activate a new key set, then ${removeCmd(k.id)}`
            : removeCmd(k.id),
        repairable: false,
      });
    }
    // The keyring and Trusted Server's items must say the same (a write in flight; drift, when
    // it is not one of the kinds above, is reported here too).
    if (items.has(ITEM_KEYS.keyring) && drift.length === 0) {
      const wanted = derivedItems(keyring);
      const differs = [
        ITEM_KEYS.activeKids,
        ITEM_KEYS.currentKid,
        ...keyring.keysets.map((k) => k.id),
      ].filter((key) => wanted.get(key) !== items.get(key));
      if (differs.length > 0) {
        findings.push({
          code: 'items_disagree',
          severity: intent ? 'info' : 'warning',
          message: `Trusted Server's items disagree with the keyring (${differs.join(', ')})${intent ? ': an operation with a pending intent may have left them so' : ': something other than this service changed the stores'}`,
          fix: intent
            ? 'repair (settles the pending intent)'
            : 'the next change through this service rewrites them from the keyring; check the audit trail first',
          repairable: intent !== null,
        });
      }
    }
  }

  const known = new Set<string>(journaled);
  for (const k of keyring?.keysets ?? []) known.add(k.id);
  for (const key of items.keys()) if (!RESERVED_ITEM_KEYS.has(key)) known.add(key);
  for (const name of [...secretNames].sort()) {
    if (known.has(name)) continue;
    findings.push({
      code: 'orphan_private_key',
      severity: 'warning',
      kid: name,
      message: `the private key ${name} is listed nowhere (not in the keyring, not published, not in the journal): left by an interrupted change, or written by another tool`,
      fix: `${removeCmd(name)} (deletes it for good; keep it if another tool of yours uses it)`,
      repairable: false,
    });
  }

  return {
    deployment,
    healthy: findings.every((f) => f.severity === 'info'),
    keyring_version: keyring?.version ?? null,
    findings,
  };
}

function lockFindings(input: DoctorInput): Finding[] {
  const { lock, nowMs } = input;
  if (lock === null) return [];
  if (lock === 'unreadable') {
    return [
      {
        code: 'lock_unreadable',
        severity: 'warning',
        message:
          'the deployment lock record cannot be read; the next operation replaces it once its bound has passed',
        fix: 'repair',
        repairable: true,
      },
    ];
  }
  const out: Finding[] = [];
  const live = lock.lease !== null && Date.parse(lock.lease.expires_at) > nowMs;
  if (live && lock.lease) {
    out.push({
      code: 'operation_running',
      severity: 'info',
      message: `${lock.lease.operation} by ${lock.lease.holder} is running (request ${lock.lease.request_id}, lease until ${lock.lease.expires_at})`,
      fix: 'wait for it',
      repairable: false,
    });
  } else if (lock.lease && !lock.intent) {
    out.push({
      code: 'stale_lease',
      severity: 'warning',
      message: `${lock.lease.operation} by ${lock.lease.holder} (request ${lock.lease.request_id}) died holding the lease; it expired at ${lock.lease.expires_at}`,
      fix: 'repair',
      repairable: true,
    });
  }
  if (lock.intent && !live) {
    const at = settlesAtMs(lock, input.lateWriteMs);
    const ready = at <= nowMs;
    out.push({
      code: 'pending_intent',
      severity: 'warning',
      message: `${lock.intent.operation} (request ${lock.intent.request_id}, from keyring version ${lock.intent.before_version}) did not finish; ${ready ? 'no write it sent can land any more' : `a write it sent may still land until ${new Date(at).toISOString()}`}`,
      fix: ready
        ? 'repair (or any operation) settles it'
        : `wait until ${new Date(at).toISOString()}, then repair`,
      repairable: ready,
    });
  }
  return out;
}
