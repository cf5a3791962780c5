// The keyset lifecycle API (SPIRL's `keyset list|prepare|activate|taint|remove`, plus
// deactivate and restore): every answer carries the whole keyring and its version.
import * as z from 'zod/mini';
import { TskError } from '../../core/errors.js';
import { keyLogSummary } from '../../core/keyring/key-log-report.js';
import type { Keyring } from '../../core/keyring/document.js';
import type { MutationResult } from '../../core/keyring/engine.js';
import { assertActivationAllowed } from '../../core/schedule/policy.js';
import {
  findKeyset,
  isKeysetAction,
  KEYSET_ACTIONS,
  type KeysetOperation,
} from '../../core/keyring/transitions.js';
import { bodyRule, NO_FIELDS, parseBody } from '../body.js';
import { openDeployment, openForMutation, type RequestContext } from '../context.js';
import { parseIfMatch } from '../if-match.js';
import { auditVersions } from '../audit.js';
import {
  dryRunMembers,
  mutationOptions,
  propagationMembers,
  type MutationOptions,
} from '../mutation-options.js';
import { ADMIN_HEADERS, json } from '../responses.js';

/** The body of prepare here and of Trusted Server's rotate: `{}` or a chosen kid. */
export const NEW_KID_BODY = bodyRule(
  z.object({ kid: z.optional(z.string()) }),
  '{} or {"kid": "<new kid>"}',
  { optional: true },
);

/** The body of activate: `{}`, or `{"force": true}` to override the activation dwell. */
const ACTIVATE_BODY = bodyRule(
  z.object({ force: z._default(z.boolean(), false) }),
  '{} or {"force": true}',
  { optional: true },
);

/** "a, b, c or d", for messages that list choices. */
const choices = (names: readonly string[]): string =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');

/** `GET /admin/deployments/{d}/keysets`: the authoritative keyring. */
export async function listKeysets(ctx: RequestContext): Promise<Response> {
  Object.assign(ctx.audit, { deployment: param(ctx, 'deployment'), operation: 'list' });
  const { engine } = await openDeployment(ctx, param(ctx, 'deployment'));
  // With the secret names: the listing shows a key set whose private key went missing.
  const { keyring, adopted, drift, items, reading } = await engine.read(true);
  ctx.audit.versionAfter = keyring.version;
  // The keyring as the next change will write it (drift folded in), and what drifted; then the
  // published keys the key log does not endorse (docs/key-log.md).
  const { unendorsed_kids } = await keyLogSummary(items, reading.keysets, reading.keyring?.key_log);
  const body = { ...keyring, ...(drift.length > 0 ? { drift } : {}), unendorsed_kids };
  return json(body, 200, {
    ...ADMIN_HEADERS,
    etag: `"${keyring.version}"`,
    ...(adopted ? { 'x-keyring-adopted': 'true' } : {}),
  });
}

/** `POST /admin/deployments/{d}/adopt` `{}` or `{"kid"}`: fold Trusted Server's drift now. */
export async function adoptDrift(ctx: RequestContext): Promise<Response> {
  const body = await parseBody(ctx.request, NEW_KID_BODY);
  Object.assign(ctx.audit, { deployment: param(ctx, 'deployment'), operation: 'adopt' });
  if (body.kid !== undefined) ctx.audit.keyset = body.kid;
  const options = optionsOf(ctx);
  const { engine } = await openForMutation(ctx, param(ctx, 'deployment'));
  const result = await engine.mutate({
    operation: 'adopt',
    ...(body.kid !== undefined ? { kid: body.kid } : {}),
    ...ifMatch(ctx),
    dryRun: options.dryRun,
  });
  auditVersions(ctx, result);
  const members = {
    operation: 'adopt',
    committed: !options.dryRun && result.after.version !== result.before.version,
    folded: result.folded,
  };
  if (options.dryRun) {
    // The version a real call must send in If-Match: nothing moved.
    return json({ ...members, ...dryRunMembers(result, ctx.services) }, 200, {
      ...ADMIN_HEADERS,
      etag: `"${result.before.version}"`,
    });
  }
  return json(
    {
      ...members,
      keyring: result.after,
      ...(await propagationMembers(ctx, options, param(ctx, 'deployment'), result)),
    },
    200,
    { ...ADMIN_HEADERS, etag: `"${result.after.version}"` },
  );
}

/** `POST /admin/deployments/{d}/keysets` `{}` or `{"kid"}`: prepare a key set (published, not signing). */
export async function prepareKeyset(ctx: RequestContext): Promise<Response> {
  const body = await parseBody(ctx.request, NEW_KID_BODY);
  Object.assign(ctx.audit, { deployment: param(ctx, 'deployment'), operation: 'prepare' });
  if (body.kid !== undefined) ctx.audit.keyset = body.kid;
  const options = optionsOf(ctx);
  const { engine } = await openForMutation(ctx, param(ctx, 'deployment'));
  const result = await engine.mutate({
    operation: 'prepare',
    ...(body.kid !== undefined ? { kid: body.kid } : {}),
    ...ifMatch(ctx),
    dryRun: options.dryRun,
  });
  return mutationResponse(ctx, result, options.dryRun ? 200 : 201, options);
}

/** `POST /admin/deployments/{d}/keysets/{id}/{action}`, an action of the transition table. */
export async function transitionKeyset(ctx: RequestContext): Promise<Response> {
  const action = param(ctx, 'action');
  if (!isKeysetAction(action))
    throw new TskError(
      'not_found',
      `unknown key set operation "${action}"; use ${choices(KEYSET_ACTIONS)}`,
    );
  if (action !== 'activate') {
    await parseBody(ctx.request, NO_FIELDS);
    return mutate(ctx, action);
  }
  const { force } = await parseBody(ctx.request, ACTIVATE_BODY);
  // A forced activation is the compromise response: it signs at once, and the audit trail says so.
  if (force) ctx.audit.forced = true;
  return mutate(ctx, action, force);
}

/** `DELETE /admin/deployments/{d}/keysets/{id}`: remove for good (JWK and private key). */
export async function removeKeyset(ctx: RequestContext): Promise<Response> {
  return mutate(ctx, 'remove');
}

async function mutate(
  ctx: RequestContext,
  operation: KeysetOperation,
  force = false,
): Promise<Response> {
  Object.assign(ctx.audit, {
    deployment: param(ctx, 'deployment'),
    operation,
    keyset: param(ctx, 'id'),
  });
  const options = optionsOf(ctx);
  const { engine, policy } = await openForMutation(ctx, param(ctx, 'deployment'));
  const id = param(ctx, 'id');
  // Judged under the lease against the authoritative keyring: a key set partners' cached JWKS may
  // not hold yet must not sign, unless forced.
  const guard =
    operation === 'activate' && !force
      ? {
          precondition: (before: Keyring, nowMs: number) =>
            assertActivationAllowed(findKeyset(before, id), nowMs, policy.dwellMs),
        }
      : {};
  const result = await engine.mutate({
    operation,
    id,
    ...ifMatch(ctx),
    ...guard,
    dryRun: options.dryRun,
  });
  return mutationResponse(ctx, result, 200, options);
}

/** The query options, with a dry run marked in the audit trail before anything can fail. */
function optionsOf(ctx: RequestContext): MutationOptions {
  const options = mutationOptions(ctx);
  if (options.dryRun) ctx.audit.dryRun = true;
  return options;
}

async function mutationResponse(
  ctx: RequestContext,
  result: MutationResult,
  status: number,
  options: MutationOptions,
): Promise<Response> {
  auditVersions(ctx, result);
  if (result.keyset) ctx.audit.keyset = result.keyset.id;
  if (options.dryRun) {
    const body = {
      operation: result.operation,
      keyset: result.keyset ?? null,
      ...(result.deletedOrphanSecret ? { deleted_orphan_secret: result.deletedOrphanSecret } : {}),
      ...dryRunMembers(result, ctx.services),
    };
    // The version a real call must send in If-Match: nothing moved.
    return json(body, status, { ...ADMIN_HEADERS, etag: `"${result.before.version}"` });
  }
  const body = {
    operation: result.operation,
    keyset: result.keyset ?? null,
    ...(result.deletedOrphanSecret ? { deleted_orphan_secret: result.deletedOrphanSecret } : {}),
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    ...(result.folded.length > 0 ? { folded: result.folded } : {}),
    keyring: result.after,
    ...(await propagationMembers(ctx, options, param(ctx, 'deployment'), result)),
  };
  return json(body, status, { ...ADMIN_HEADERS, etag: `"${result.after.version}"` });
}

function ifMatch(ctx: RequestContext): { ifMatch?: number | string } {
  const v = parseIfMatch(ctx.request);
  return v === undefined ? {} : { ifMatch: v };
}

function param(ctx: RequestContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`route has no :${name}`);
  return value;
}
