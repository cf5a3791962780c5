// The rotation schedule over HTTP: `POST .../schedule/run` (operator) applies the due transitions,
// `GET .../schedule` (viewer) shows the coming timeline, `GET .../status` (viewer) the figures a
// monitor watches. Fastly has no cron: a cron job or a scheduled CI workflow calls the run.
import { TskError } from '../../core/errors.js';
import { keyLogSummary } from '../../core/keyring/key-log-report.js';
import { planAhead } from '../../core/schedule/planner.js';
import { runSchedule } from '../../core/schedule/run.js';
import { deploymentStatus } from '../../core/schedule/status.js';
import type { SchedulePolicy } from '../../core/schedule/policy.js';
import { auditRecord } from '../audit.js';
import { NO_FIELDS, parseBody } from '../body.js';
import { openDeployment, openForMutation, type RequestContext } from '../context.js';
import { ADMIN_HEADERS, json } from '../responses.js';

/** The actor of the audit lines the schedule's own transitions write. */
export const SCHEDULE_ACTOR = 'schedule';

/** `POST /admin/deployments/{d}/schedule/run`. */
export async function scheduleRun(ctx: RequestContext): Promise<Response> {
  const name = deploymentParam(ctx);
  Object.assign(ctx.audit, { deployment: name, operation: 'schedule-run' });
  await parseBody(ctx.request, NO_FIELDS);
  const { engine, policy } = await openForMutation(ctx, name);
  const clock = ctx.services.clock;
  const result = await runSchedule({
    engine,
    policy,
    now: () => clock.now(),
    // One audit line per transition, written as it commits, by the schedule on this request's behalf.
    onApplied: async (step) => {
      const record = auditRecord(
        {
          ...ctx,
          audit: {
            actor: SCHEDULE_ACTOR,
            route: ctx.audit.route ?? '',
            deployment: name,
            keyset: step.keyset,
            operation: step.operation,
            versionBefore: step.version_before,
            versionAfter: step.version_after,
          },
        },
        200,
        undefined,
      );
      await ctx.services.audit.write(record).catch(() => {
        ctx.services.logger.log('error', 'audit_write_failed', { request_id: ctx.requestId });
      });
    },
  });
  ctx.audit.versionAfter = result.keyring.version;
  const now = clock.now();
  return json(
    {
      deployment: name,
      applied: result.applied,
      keyring_version: result.keyring.version,
      plan: planAhead(result.keyring, now, policy),
      policy: policyView(policy),
    },
    200,
    { ...ADMIN_HEADERS, etag: `"${result.keyring.version}"` },
  );
}

/** `GET /admin/deployments/{d}/schedule`: every upcoming transition with its time and reason. */
export async function schedulePlan(ctx: RequestContext): Promise<Response> {
  const name = deploymentParam(ctx);
  Object.assign(ctx.audit, { deployment: name, operation: 'schedule-plan' });
  const { engine, policy } = await openDeployment(ctx, name);
  const { keyring } = await engine.read();
  ctx.audit.versionAfter = keyring.version;
  const now = ctx.services.clock.now();
  return json(
    {
      deployment: name,
      keyring_version: keyring.version,
      now: new Date(now).toISOString(),
      plan: planAhead(keyring, now, policy),
      policy: policyView(policy),
    },
    200,
    { ...ADMIN_HEADERS, etag: `"${keyring.version}"` },
  );
}

/** `GET /admin/deployments/{d}/status`. */
export async function statusReport(ctx: RequestContext): Promise<Response> {
  const name = deploymentParam(ctx);
  Object.assign(ctx.audit, { deployment: name, operation: 'status' });
  const { engine, policy } = await openDeployment(ctx, name);
  const [{ keyring, items, reading }, doctor] = await Promise.all([
    engine.read(),
    engine.diagnose(),
  ]);
  ctx.audit.versionAfter = keyring.version;
  const status = deploymentStatus({ keyring, nowMs: ctx.services.clock.now(), policy, doctor });
  // The key log (docs/key-log.md): its root to pin, and the published keys it does not endorse.
  const log = await keyLogSummary(items, reading.keysets, reading.keyring?.key_log);
  return json(
    { ...status, key_log: log, unendorsed_kids: log.unendorsed_kids },
    200,
    ADMIN_HEADERS,
  );
}

/** The policy as the answers show it, in the units of trusted-server.toml. */
function policyView(p: SchedulePolicy): Record<string, number | boolean> {
  const days = (ms: number): number => ms / 86_400_000;
  return {
    key_lifetime_days: days(p.lifetimeMs),
    prepare_before_expiry_days: days(p.prepareBeforeMs),
    activate_before_expiry_days: days(p.activateBeforeMs),
    activation_dwell_seconds: p.dwellMs / 1000,
    taint_after_days: days(p.taintAfterMs),
    remove_after_days: days(p.removeAfterMs),
    remove_retired: p.removeRetired,
  };
}

function deploymentParam(ctx: RequestContext): string {
  const value = ctx.params['deployment'];
  if (value === undefined) throw new TskError('internal', 'route has no :deployment');
  return value;
}
