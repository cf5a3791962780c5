// The rotation schedule's policy: when a deployment's next key is prepared and activated, how long
// a prepared key must have been published before it may sign, and when retired keys are tainted
// and removed. `[schedule]` in trusted-server.toml is every deployment's policy; a deployment's
// `[deployments.NAME.schedule]` overrides it field by field. Every field is optional; a policy
// that contradicts itself is refused at load, naming the setting.
import * as z from 'zod/mini';
import { listDeployments, type DeploymentConfig } from '../deployments.js';
import { TskError } from '../errors.js';
import { publishedSince, type Keyset } from '../keyring/document.js';
import type { Settings } from '../settings.js';

const DAY_MS = 86_400_000;

/**
 * How long an edge Config Store may take to serve a change the management API committed. A key's
 * dwell counts it once: a partner cannot fetch a new key before its edge has it.
 */
export const STORE_PROPAGATION_BOUND_SECONDS = 120;

/** Defaults of `[key_documents]`: the cache lifetime partners are told for the JWKS. */
export const KEY_DOCUMENT_CACHE_DEFAULTS = {
  max_age_seconds: 60,
  stale_while_revalidate_seconds: 60,
  stale_if_error_seconds: 300,
} as const;

const days = z.number().check(z.gte(0), z.lte(3650));
const seconds = z.number().check(z.int(), z.gte(0), z.lte(31_536_000));

/** `[schedule]` and `[deployments.NAME.schedule]`: every field optional. */
export const ScheduleSettingsSchema = z.object({
  /** Prepare the successor this long before the ACTIVE key expires (default min(lifetime/2, 30)). */
  prepare_before_expiry_days: z.optional(days),
  /** Activate it this long before the ACTIVE key expires (default min(lifetime/6, 7)). */
  activate_before_expiry_days: z.optional(days),
  /** A prepared key signs only once published this long (default 2 × max-age + propagation). */
  activation_dwell_seconds: z.optional(seconds),
  /** Taint a key this long after it stopped signing (default 30). */
  taint_after_days: z.optional(days),
  /** Remove a tainted key this long after it was tainted (default 30): the grace period. */
  remove_after_days: z.optional(days),
  /** False: the schedule taints retired keys but never removes them (default true). */
  remove_retired: z.optional(z.boolean()),
});

/** The settings of one schedule table, as parsed. */
export type ScheduleSettings = z.infer<typeof ScheduleSettingsSchema>;

/** `[key_documents]`: Cache-Control of the JWKS and the discovery document. */
export const KeyDocumentsSettingsSchema = z._default(
  z.object({
    /** The longest max-age; the next scheduled transition shortens it. */
    max_age_seconds: z._default(seconds, KEY_DOCUMENT_CACHE_DEFAULTS.max_age_seconds),
    stale_while_revalidate_seconds: z._default(
      seconds,
      KEY_DOCUMENT_CACHE_DEFAULTS.stale_while_revalidate_seconds,
    ),
    stale_if_error_seconds: z._default(seconds, KEY_DOCUMENT_CACHE_DEFAULTS.stale_if_error_seconds),
  }),
  { ...KEY_DOCUMENT_CACHE_DEFAULTS },
);

/** One deployment's resolved policy, in milliseconds. */
export interface SchedulePolicy {
  lifetimeMs: number;
  prepareBeforeMs: number;
  activateBeforeMs: number;
  dwellMs: number;
  taintAfterMs: number;
  removeAfterMs: number;
  removeRetired: boolean;
}

/** The cache lifetime a partner may keep a key document for without asking again. */
export function cacheLifetimeSeconds(settings: Pick<Settings, 'key_documents'>): number {
  const docs = settings.key_documents;
  return docs.max_age_seconds + docs.stale_while_revalidate_seconds;
}

/** The policy of `deployment`, defaults filled in (not validated: see `assertSchedulePolicies`). */
export function schedulePolicy(
  settings: Pick<Settings, 'schedule' | 'deployments' | 'key_documents'>,
  deployment: Pick<DeploymentConfig, 'name' | 'keyLifetimeDays'>,
): SchedulePolicy {
  const own = settings.deployments[deployment.name]?.schedule ?? {};
  const pick = <K extends keyof ScheduleSettings>(key: K): ScheduleSettings[K] =>
    own[key] ?? settings.schedule[key];
  const lifetimeDays = deployment.keyLifetimeDays;
  const dwellSeconds =
    pick('activation_dwell_seconds') ??
    2 * settings.key_documents.max_age_seconds + STORE_PROPAGATION_BOUND_SECONDS;
  return {
    lifetimeMs: lifetimeDays * DAY_MS,
    prepareBeforeMs:
      (pick('prepare_before_expiry_days') ?? Math.min(lifetimeDays / 2, 30)) * DAY_MS,
    activateBeforeMs:
      (pick('activate_before_expiry_days') ?? Math.min(lifetimeDays / 6, 7)) * DAY_MS,
    dwellMs: dwellSeconds * 1000,
    taintAfterMs: (pick('taint_after_days') ?? 30) * DAY_MS,
    removeAfterMs: (pick('remove_after_days') ?? 30) * DAY_MS,
    removeRetired: pick('remove_retired') ?? true,
  };
}

/**
 * Refuses a policy that contradicts itself, for every deployment, naming the setting to change
 * (`schedule.X`, or `deployments.NAME.schedule.X` when that deployment sets it).
 */
export function assertSchedulePolicies(
  settings: Pick<Settings, 'schedule' | 'deployments' | 'key_documents' | 'request_signing'>,
): void {
  for (const deployment of listDeployments(settings as Settings)) {
    const p = schedulePolicy(settings, deployment);
    const own = settings.deployments[deployment.name]?.schedule ?? {};
    const where = (key: keyof ScheduleSettings): string =>
      own[key] !== undefined ? `deployments.${deployment.name}.schedule.${key}` : `schedule.${key}`;
    const fail = (key: keyof ScheduleSettings, why: string): never => {
      throw new TskError(
        'not_configured',
        `trusted-server.toml: ${where(key)}: ${why} (deployment "${deployment.name}")`,
      );
    };
    const d = (ms: number): string => `${+(ms / DAY_MS).toFixed(3)} days`;
    if (p.prepareBeforeMs >= p.lifetimeMs) {
      fail(
        'prepare_before_expiry_days',
        `preparing ${d(p.prepareBeforeMs)} before expiry is not inside the key lifetime of ${d(p.lifetimeMs)}: every new key would need a successor at once`,
      );
    }
    if (p.activateBeforeMs >= p.prepareBeforeMs) {
      fail(
        'activate_before_expiry_days',
        `activation (${d(p.activateBeforeMs)} before expiry) would come before preparation (${d(p.prepareBeforeMs)} before expiry)`,
      );
    }
    const cacheSeconds = cacheLifetimeSeconds(settings);
    if (p.dwellMs < cacheSeconds * 1000) {
      fail(
        'activation_dwell_seconds',
        `${p.dwellMs / 1000} s is shorter than the key documents' cache lifetime (key_documents.max_age_seconds + stale_while_revalidate_seconds = ${cacheSeconds} s): a partner could still hold a JWKS without the new key when it signs`,
      );
    }
    if (p.prepareBeforeMs - p.activateBeforeMs < p.dwellMs) {
      fail(
        'activate_before_expiry_days',
        `the ${d(p.prepareBeforeMs - p.activateBeforeMs)} between preparation and activation are shorter than the activation dwell (${p.dwellMs / 1000} s)`,
      );
    }
  }
}

/** Why an activation is refused: the key set and when it becomes allowed. */
export interface ActivationVerdict {
  allowed: boolean;
  /** When the key set has been published for the dwell (ISO). */
  allowedAt: string;
}

/**
 * Whether key set `keyset` may sign at `nowMs`: published for at least the dwell, or it signed
 * since it was last published (a rollback: partners have been verifying its signatures).
 */
export function activationVerdict(
  keyset: Pick<Keyset, 'issued_at' | 'published_at' | 'activated_at'>,
  nowMs: number,
  dwellMs: number,
): ActivationVerdict {
  const since = Date.parse(publishedSince(keyset));
  const allowedAtMs = since + dwellMs;
  const signedSince = keyset.activated_at !== undefined && Date.parse(keyset.activated_at) >= since;
  return {
    allowed: signedSince || nowMs >= allowedAtMs,
    allowedAt: new Date(allowedAtMs).toISOString(),
  };
}

/**
 * Throws 409 `activation_too_early` unless the activation is allowed. Only a PREPARED key set is
 * judged: the transition table refuses the others with its own reason.
 */
export function assertActivationAllowed(
  keyset: Pick<Keyset, 'id' | 'state' | 'issued_at' | 'published_at' | 'activated_at'>,
  nowMs: number,
  dwellMs: number,
): void {
  if (keyset.state !== 'PREPARED') return;
  const verdict = activationVerdict(keyset, nowMs, dwellMs);
  if (verdict.allowed) return;
  const waitSeconds = Math.ceil((Date.parse(verdict.allowedAt) - nowMs) / 1000);
  throw new TskError(
    'activation_too_early',
    `key set "${keyset.id}" has been published since ${publishedSince(keyset)}, less than the activation dwell of ${dwellMs / 1000} s: a partner's cached JWKS may not hold it yet. It may sign from ${verdict.allowedAt}; force it only to respond to a compromise`,
    {
      details: {
        keyset: keyset.id,
        published_at: publishedSince(keyset),
        allowed_at: verdict.allowedAt,
        dwell_seconds: dwellMs / 1000,
        retryAfterSeconds: waitSeconds,
      },
    },
  );
}
