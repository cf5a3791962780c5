// Trusted Server's admin routes, with their exact JSON shapes: rotate, deactivate (optionally
// deleting), and sign (a v1.1 payload signed with the ACTIVE key, to test partners' verifiers).
import * as z from 'zod/mini';
import { signingKey } from '../../core/crypto/ed25519.js';
import { toBase64Url } from '../../core/crypto/base64.js';
import { DEFAULT_DEPLOYMENT } from '../../core/deployments.js';
import { TskError } from '../../core/errors.js';
import { activeEdgeKeyset, readEdgeKeyring } from '../../core/keyring/edge-view.js';
import { decodeSeed } from '../../core/keys/seed-encoding.js';
import { assertKidFormat } from '../../core/keys/kid.js';
import { buildPayloadV11, signPayloadWith } from '../../core/signing/request-signing.js';
import { auditVersions } from '../audit.js';
import { bodyRule, parseBody } from '../body.js';
import { openForMutation, type RequestContext } from '../context.js';
import { parseIfMatch } from '../if-match.js';
import { ADMIN_HEADERS, json } from '../responses.js';
import { dryRunMembers, mutationOptions, propagationMembers } from '../mutation-options.js';
import { STORE_NAMES } from '../services.js';
import { NEW_KID_BODY } from './keysets.js';

const DeactivateBody = bodyRule(
  z.object({ kid: z.string(), delete: z._default(z.boolean(), false) }),
  '{"kid": "<kid>", "delete": false}',
);
const SignBody = bodyRule(
  z.object({ id: z.string().check(z.minLength(1), z.maxLength(256)) }),
  '{"id": "<request id>"}',
);

/** `POST /admin/keys/rotate` `{}` or `{"kid"}`. */
export async function rotateKey(ctx: RequestContext): Promise<Response> {
  const body = await parseBody(ctx.request, NEW_KID_BODY);
  Object.assign(ctx.audit, {
    deployment: DEFAULT_DEPLOYMENT,
    operation: 'rotate',
    keyset: body.kid,
  });
  const options = mutationOptions(ctx);
  if (options.dryRun) ctx.audit.dryRun = true;
  const { manager } = await openForMutation(ctx);
  const result = await manager.rotateKey(body.kid, parseIfMatch(ctx.request), options.dryRun);
  auditVersions(ctx, result.result);
  ctx.audit.keyset = result.newKid;
  return json(
    {
      success: true,
      message: options.dryRun
        ? 'Dry run: nothing was changed; this is what rotate would do'
        : 'Key rotated successfully',
      new_kid: result.newKid,
      previous_kid: result.previousKid,
      active_kids: result.activeKids,
      jwk: result.jwk,
      ...(options.dryRun
        ? dryRunMembers(result.result, ctx.services)
        : await propagationMembers(ctx, options, DEFAULT_DEPLOYMENT, result.result)),
    },
    200,
    ADMIN_HEADERS,
  );
}

/** `POST /admin/keys/deactivate` `{"kid","delete"}`. */
export async function deactivateKey(ctx: RequestContext): Promise<Response> {
  const body = await parseBody(ctx.request, DeactivateBody);
  ctx.failure['deactivated_kid'] = body.kid;
  Object.assign(ctx.audit, {
    deployment: DEFAULT_DEPLOYMENT,
    operation: body.delete ? 'remove' : 'deactivate',
    keyset: body.kid,
  });
  if (body.delete) ctx.failure['message'] = 'Key deletion failed';
  assertKidFormat(body.kid);
  const options = mutationOptions(ctx);
  if (options.dryRun) ctx.audit.dryRun = true;
  const { manager } = await openForMutation(ctx);
  const ifMatch = parseIfMatch(ctx.request);
  const result = body.delete
    ? await manager.deleteKey(body.kid, ifMatch, options.dryRun)
    : await manager.deactivateKey(body.kid, ifMatch, options.dryRun);
  auditVersions(ctx, result.result);
  const done = body.delete ? 'Key deleted successfully' : 'Key deactivated successfully';
  return json(
    {
      success: true,
      message: options.dryRun
        ? `Dry run: nothing was changed; this is what ${body.delete ? 'delete' : 'deactivate'} would do`
        : done,
      deactivated_kid: body.kid,
      deleted: body.delete,
      remaining_active_kids: result.remainingActiveKids,
      ...(options.dryRun
        ? dryRunMembers(result.result, ctx.services)
        : await propagationMembers(ctx, options, DEFAULT_DEPLOYMENT, result.result)),
    },
    200,
    ADMIN_HEADERS,
  );
}

/** `POST /admin/keys/sign` `{"id"}`: signs Trusted Server's v1.1 payload, nothing else. */
export async function signTestPayload(ctx: RequestContext): Promise<Response> {
  return json(await signTestAnswer(ctx), 200, ADMIN_HEADERS);
}

/**
 * The sign route's work up to its answer as plain data, so the Fastly build's warm-up
 * (`src/http/warm-up.ts`) can run it where no `Response` can be made.
 */
export async function signTestAnswer(
  ctx: RequestContext,
): Promise<{ payload: string; signature: string; kid: string }> {
  const body = await parseBody(ctx.request, SignBody);
  const { services } = ctx;
  const active = activeEdgeKeyset(await readEdgeKeyring(services.configStore(STORE_NAMES.jwks)));
  Object.assign(ctx.audit, {
    deployment: DEFAULT_DEPLOYMENT,
    operation: 'sign',
    keyset: active.id,
  });
  const stored = await services.secretStore(STORE_NAMES.signingKeys).get(active.id);
  if (stored === null) {
    throw new TskError(
      'keyring_corrupt',
      `the private key of the ACTIVE key set "${active.id}" is missing from the secret store`,
    );
  }
  // Expanded once for the check and the signature.
  const key = await signingKey(decodeSeed(stored, active.id));
  // A key that does not match its published JWK would sign what nobody can verify: refuse.
  if (toBase64Url(key.publicKey) !== active.jwk.x) {
    throw new TskError(
      'keyring_corrupt',
      `the private key of "${active.id}" does not match its published JWK`,
    );
  }
  const payload = buildPayloadV11({
    kid: active.id,
    host: services.settings.publisher.domain,
    id: body.id,
    ts: services.clock.now(),
  });
  return { payload, signature: await signPayloadWith(key, payload), kid: active.id };
}
