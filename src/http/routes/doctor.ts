// `GET /admin/deployments/{d}/doctor`: every disagreement between the stores, the keyring and
// the intent journal. `POST` (operator) repairs what is safe first: settles an intent whose
// writes can no longer land and clears a dead operation's lease, then reports what is left.
import { openDeployment, openForMutation, type RequestContext } from '../context.js';
import { NO_FIELDS, parseBody } from '../body.js';
import { ADMIN_HEADERS, json } from '../responses.js';
import { TskError } from '../../core/errors.js';
import { mutationOptions } from '../mutation-options.js';

/** `GET .../doctor` (viewer). */
export async function doctorReport(ctx: RequestContext): Promise<Response> {
  const name = ctx.params['deployment'] ?? '';
  Object.assign(ctx.audit, { deployment: name, operation: 'doctor' });
  const { engine } = await openDeployment(ctx, name);
  const report = await engine.diagnose();
  if (report.keyring_version !== null) ctx.audit.versionAfter = report.keyring_version;
  return json(report, 200, ADMIN_HEADERS);
}

/** `POST .../doctor` (operator): repair, then report. */
export async function doctorRepair(ctx: RequestContext): Promise<Response> {
  const name = ctx.params['deployment'] ?? '';
  Object.assign(ctx.audit, { deployment: name, operation: 'repair' });
  await parseBody(ctx.request, NO_FIELDS);
  const options = mutationOptions(ctx);
  if (options.wait) {
    throw new TskError('invalid_request', 'wait=propagation applies to key changes, not to repair');
  }
  const { engine } = await openForMutation(ctx, name);
  const before = await engine.diagnose();
  if (options.dryRun) {
    // Repair only settles what the report marks repairable: name those, and write nothing.
    ctx.audit.dryRun = true;
    if (before.keyring_version !== null) ctx.audit.versionAfter = before.keyring_version;
    const wouldRepair = before.findings.filter((f) => f.repairable).map((f) => f.message);
    return json({ ...before, dry_run: true, would_repair: wouldRepair }, 200, ADMIN_HEADERS);
  }
  const { settled } = await engine.repair();
  if (settled !== undefined) ctx.audit.settled = settled;
  const report = await engine.diagnose();
  if (report.keyring_version !== null) ctx.audit.versionAfter = report.keyring_version;
  const left = new Set(report.findings.map((f) => `${f.code} ${f.kid ?? ''}`));
  const fixed = before.findings
    .filter((f) => f.repairable && !left.has(`${f.code} ${f.kid ?? ''}`))
    .map((f) => f.message);
  const repaired = settled === undefined ? fixed : [`settled: ${settled}`, ...fixed];
  return json({ ...report, repaired }, 200, ADMIN_HEADERS);
}
