// The audit trail: one record per admin request, allowed or refused, built from what the
// request and its handler reported. Only ids, names and versions: never a secret.
import type { AuditRecord } from '../core/ports.js';
import type { TskError } from '../core/errors.js';
import type { MutationResult } from '../core/keyring/engine.js';
import type { RequestContext } from './context.js';

/** What a handler reports for the audit record while it works. */
export interface AuditFacts {
  actor?: string;
  route?: string;
  deployment?: string;
  keyset?: string;
  operation?: string;
  versionBefore?: number;
  versionAfter?: number;
  /** What settling an earlier operation's intent did, when this request did that first. */
  settled?: string;
  /** A dry run: nothing was written, whatever the operation. */
  dryRun?: boolean;
  /** An activation that overrode the activation dwell. */
  forced?: boolean;
  /** Trusted Server's drift a mutation folded into the keyring first. */
  folded?: string[];
}

/** Builds the record for a finished admin request. */
export function auditRecord(
  ctx: Pick<RequestContext, 'path' | 'method' | 'requestId' | 'client' | 'services' | 'audit'>,
  status: number,
  error: TskError | undefined,
): AuditRecord {
  const facts = ctx.audit;
  const before = facts.versionBefore ?? keyringVersion(error);
  return {
    time: new Date(ctx.services.clock.now()).toISOString(),
    request_id: ctx.requestId,
    actor: facts.actor ?? 'anonymous',
    client_ip: ctx.client.ip,
    method: ctx.method.slice(0, 16),
    route: facts.route ?? null,
    path: ctx.path.slice(0, 512),
    deployment: facts.deployment ?? null,
    keyset: facts.keyset ?? null,
    operation: facts.operation ?? null,
    outcome:
      error?.details?.['outcome'] === 'unknown'
        ? 'unknown'
        : status < 400
          ? 'allowed'
          : status >= 500
            ? 'failed'
            : 'refused',
    status,
    error_code: error?.code ?? null,
    keyring_version_before: before ?? null,
    keyring_version_after: facts.versionAfter ?? null,
    settled: facts.settled ?? settledBy(error) ?? null,
    ...(facts.dryRun ? { dry_run: true as const } : {}),
    ...(facts.forced === true ? { forced: true as const } : {}),
    ...(facts.folded && facts.folded.length > 0 ? { folded: facts.folded.slice(0, 32) } : {}),
  };
}

function keyringVersion(error: TskError | undefined): number | undefined {
  const keyring = error?.details?.['keyring'];
  const version =
    typeof keyring === 'object' && keyring !== null
      ? (keyring as { version?: unknown }).version
      : undefined;
  return typeof version === 'number' ? version : undefined;
}

function settledBy(error: TskError | undefined): string | undefined {
  const settled = error?.details?.['settled'];
  return typeof settled === 'string' ? settled : undefined;
}

/** Records the keyring versions a mutation moved between. */
export function auditVersions(ctx: Pick<RequestContext, 'audit'>, result: MutationResult): void {
  ctx.audit.versionBefore = result.before.version;
  // A dry run moved nothing: the keyring is still at the version it was judged against.
  ctx.audit.versionAfter = result.plan ? result.before.version : result.after.version;
  if (result.settled !== undefined) ctx.audit.settled = result.settled;
  if (result.folded.length > 0) ctx.audit.folded = result.folded;
}
