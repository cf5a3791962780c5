// `POST /verify-signature`: Trusted Server's contract ({payload, signature, kid} →
// {verified, kid, message[, error]}), plus the key's state; only published keys verify, and a
// TAINTED key only payloads whose `ts` is before its taint cutoff.
import * as z from 'zod/mini';
import { fromEitherBase64, utf8 } from '../../core/crypto/base64.js';
import { SIGNATURE_BYTES, verify } from '../../core/crypto/ed25519.js';
import { TskError } from '../../core/errors.js';
import { PUBLISHED_STATES } from '../../core/keyring/document.js';
import { readEdgeKeyring } from '../../core/keyring/edge-view.js';
import { checkTaintCutoff, taintCutoffMs } from '../../core/keyring/taint-cutoff.js';
import { jwkPublicKey } from '../../core/keys/jwk.js';
import { assertKidFormat } from '../../core/keys/kid.js';
import { bodyRule, parseBody } from '../body.js';
import type { RequestContext } from '../context.js';
import { CORS_HEADERS, json } from '../responses.js';
import { STORE_NAMES } from '../services.js';

const VerifyBody = bodyRule(
  z.object({ payload: z.string(), signature: z.string(), kid: z.string() }),
  '{"payload","signature","kid"} as strings',
);

/** Retry-After of a limited client: the counting window. */
const WINDOW_SECONDS = 60;

/**
 * The handler. Its cost is bounded before any work: the client's rate is counted first (every
 * call, malformed or not), the body is capped at 4096 bytes, and the request is checked in full
 * (fields, kid, signature length) before the key store is read or a signature verified.
 */
export async function verifySignature(ctx: RequestContext): Promise<Response> {
  // One log line per verification, whatever its end (the guide's "signature failures" and
  // "verification latency"): the outcome, the kid when one was given, and the time taken.
  const started = ctx.services.clock.now();
  const line: { outcome: string; kid?: string } = { outcome: 'error' };
  try {
    return json(await verifyOutcome(ctx, line), 200, CORS_HEADERS);
  } catch (err) {
    line.outcome = err instanceof TskError ? err.code : 'error';
    throw err;
  } finally {
    ctx.services.logger.log('info', 'verify', {
      request_id: ctx.requestId,
      outcome: line.outcome,
      ...(line.kid !== undefined ? { kid: line.kid } : {}),
      latency_ms: ctx.services.clock.now() - started,
    });
  }
}

/** The answer's body (Trusted Server's members, plus `state` and any `taint_cutoff`). */
export interface VerifyAnswer {
  verified: boolean;
  kid: string;
  message: string;
  error?: string | undefined;
  state: string;
  taint_cutoff?: string;
}

/**
 * The route's work up to its answer as plain data, so the Fastly build's warm-up
 * (`src/http/warm-up.ts`) can run it where no `Response` can be made. `line` collects the
 * outcome and kid for the route's log line.
 */
export async function verifyOutcome(
  ctx: RequestContext,
  line: { outcome: string; kid?: string },
): Promise<VerifyAnswer> {
  const perMinute = ctx.services.settings.verify.requests_per_minute;
  const count = await ctx.services.rateLimiter.increment('verify_requests', `ip:${ctx.client.ip}`);
  if (count > perMinute) {
    throw new TskError(
      'rate_limited',
      `more than ${perMinute} verifications a minute from this client; slow down`,
      { details: { retryAfterSeconds: WINDOW_SECONDS } },
    );
  }
  const { payload, signature, kid } = await parseBody(ctx.request, VerifyBody);
  ctx.failure['kid'] = kid;
  assertKidFormat(kid);
  line.kid = kid;
  const sig = fromEitherBase64(signature);
  if (!sig || sig.length !== SIGNATURE_BYTES) {
    throw new TskError(
      'invalid_request',
      'signature must be 64 bytes in base64url (or padded standard base64)',
    );
  }
  // Only this kid's JWK item (3 + 1 config reads, not 3 + one per published kid).
  const view = await readEdgeKeyring(ctx.services.configStore(STORE_NAMES.jwks), [kid]);
  const keyset = view.keysets.find((k) => k.id === kid);
  if (!keyset) throw new TskError('keyset_not_found', `unknown kid "${kid}"`);
  if (!PUBLISHED_STATES.has(keyset.state)) {
    line.outcome = 'key_deactivated';
    return verifyAnswer(kid, false, keyset.state, 'Key is deactivated');
  }
  // A TAINTED key vouches only for payloads dated before its cutoff (docs/taint-cutoff.md).
  const cutoffMs = taintCutoffMs(keyset);
  const cutoff = cutoffMs === null ? undefined : new Date(cutoffMs).toISOString();
  if (cutoffMs !== null) {
    const refused = checkTaintCutoff(kid, cutoffMs, payload);
    if (refused) {
      line.outcome = refused.error;
      return verifyAnswer(kid, false, keyset.state, refused.error, cutoff, refused.reason);
    }
  }
  const ok = await verify(jwkPublicKey(keyset.jwk), sig, utf8(payload));
  line.outcome = ok ? 'verified' : 'invalid_signature';
  return verifyAnswer(kid, ok, keyset.state, ok ? undefined : 'Invalid signature', cutoff);
}

/**
 * Trusted Server's answer (`verified`, `kid`, `message`, `error`), plus `state`, and for a
 * TAINTED key its `taint_cutoff`; a cutoff's refusal says why after the usual message.
 */
function verifyAnswer(
  kid: string,
  verified: boolean,
  state: string,
  error?: string,
  taintCutoff?: string,
  why?: string,
): VerifyAnswer {
  const failed =
    why === undefined ? 'Signature verification failed' : `Signature verification failed: ${why}`;
  const body = verified
    ? { verified, kid, message: 'Signature verified successfully', state }
    : { verified, kid, message: failed, error, state };
  return taintCutoff === undefined ? body : { ...body, taint_cutoff: taintCutoff };
}
