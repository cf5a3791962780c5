// `tsctl verify`: asks the edge whether a signature verifies (POST /verify-signature, public), or
// with --local checks it here exactly as a partner would, against the published JWKS; exit 0 when
// it verifies, 1 when it does not.
import { errors } from 'jose';
import { EDGE_OPTIONS } from '../args.js';
import { isRecord } from '../client.js';
import type { Command, CommandContext } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import {
  applyTaintCutoff,
  checkKeyLogChain,
  verifyWithJwks,
  type ChainCheck,
  type LocalCheck,
} from '../partner-verify.js';
import { requireDefaultDeployment } from '../context.js';
import { DEFAULT_DEPLOYMENT } from '../../core/deployments.js';

/** What --local says for each refusal (the edge's own words where it has them). */
const LOCAL_REASONS = {
  unknown_kid: 'the JWKS does not list this kid',
  malformed_signature: 'the signature is not 64 bytes of base64url or base64',
  invalid_signature: 'Invalid signature',
} as const;

/** The discovery document's path: the published JWKS plus `tainted_kids` and `taint_cutoffs`. */
export function discoveryPath(deployment: string): string {
  return deployment === DEFAULT_DEPLOYMENT
    ? '/.well-known/trusted-server.json'
    : `/.well-known/deployments/${encodeURIComponent(deployment)}/trusted-server.json`;
}

/** `verify`. */
export const verify: Command = {
  words: ['verify'],
  summary: 'check a signature against a published key (POST /verify-signature)',
  description:
    'Exit 0 when the signature verifies, 1 when it does not. The payload is the exact signed ' +
    'text; the signature is base64url (or padded standard base64). A value that starts with "-" ' +
    'must be written --signature=VALUE. --local fetches the published discovery document ' +
    '(GET /.well-known/trusted-server.json: the JWKS and the taint cutoffs) and checks the ' +
    'signature here, as a partner does, instead of asking the edge. Either way a tainted key ' +
    'verifies only a payload whose ts is before its taint cutoff. --local also checks that the ' +
    "publisher's key log (docs/key-log.md) endorses the key, from the root --root-fingerprint " +
    "pins (else from the log's own root); --skip-key-log leaves that out.",
  args: [],
  options: {
    kid: { type: 'string', value: 'KID', description: 'the key that signed (required)' },
    payload: { type: 'string', value: 'TEXT', description: 'the exact signed text (required)' },
    signature: { type: 'string', value: 'SIG', description: 'the signature (required)' },
    local: { type: 'boolean', description: 'check here against the published JWKS, as a partner' },
    'root-fingerprint': {
      type: 'string',
      value: 'FP',
      description: 'with --local: the key log root to pin (tsctl status shows it)',
    },
    'skip-key-log': {
      type: 'boolean',
      description:
        'with --local: do not check the key log (a publisher running Trusted Server alone)',
    },
    ...EDGE_OPTIONS,
  },
  examples: [
    `tsctl verify --trust-domain keys.example.com --kid ts-2026-11-22 --payload "$P" --signature="$S"`,
    `tsctl verify --local --trust-domain keys.example.com --kid ts-2026-11-22 --payload "$P" --signature="$S"`,
  ],
  async run(ctx) {
    const missing = ['kid', 'payload', 'signature'].filter(
      (f) => ctx.flags.string(f) === undefined,
    );
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(', ')}`);
    }
    if (ctx.flags.boolean('local')) return verifyLocally(ctx);
    requireDefaultDeployment(
      ctx,
      "the edge's /verify-signature",
      `add --local to check against that deployment's published JWKS, as a partner does`,
    );
    const body = {
      payload: ctx.flags.string('payload'),
      signature: ctx.flags.string('signature'),
      kid: ctx.flags.string('kid'),
    };
    const answer = await ctx.edge().request('POST', '/verify-signature', { body });
    const result = isRecord(answer.json) ? answer.json : {};
    const verified = result['verified'] === true;
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
    } else if (verified) {
      ctx.print.out(`Verified: the signature matches key ${body.kid ?? ''}.`);
    } else {
      const why = typeof result['error'] === 'string' ? result['error'] : 'verification failed';
      // The taint cutoff's refusals say why after Trusted Server's message: show that too.
      const message = typeof result['message'] === 'string' ? result['message'] : '';
      const detail = message.startsWith(FAILED_PREFIX) ? message.slice(FAILED_PREFIX.length) : '';
      ctx.print.out(`Not verified: ${why}${detail ? `: ${detail}` : ''} (key ${body.kid ?? ''}).`);
    }
    return verified ? EXIT.ok : EXIT.refused;
  },
};

/** --local: the partner's check, against the JWKS as the edge publishes it. */
async function verifyLocally(ctx: CommandContext): Promise<typeof EXIT.ok | typeof EXIT.refused> {
  const kid = ctx.flags.string('kid') ?? '';
  const payload = ctx.flags.string('payload') ?? '';
  const signature = ctx.flags.string('signature') ?? '';
  const answer = await ctx.edge().request('GET', discoveryPath(ctx.deployment));
  const doc = isRecord(answer.json) ? answer.json : {};
  // The discovery document nests Trusted Server's JWKS under `jwks`; a bare JWKS is taken too.
  const jwks = isRecord(doc['jwks']) ? doc['jwks'] : answer.json;
  let result;
  try {
    result = await verifyWithJwks(jwks, kid, payload, signature);
    if (result.verified) result = applyTaintCutoff(doc, kid, payload);
  } catch (err) {
    if (err instanceof errors.JOSEError) {
      // A JWKS a partner could not use is the edge's failure, not the signature's.
      throw new CliError(
        'bad_jwks',
        `the published JWKS is unusable: ${err.message}`,
        EXIT.failure,
      );
    }
    throw err;
  }
  // The key log, as the partner verifier checks it: the key must be endorsed, from the root.
  let chain: ChainCheck | null = null;
  if (result.verified && !ctx.flags.boolean('skip-key-log')) {
    chain = await keyLogCheck(ctx, jwks, kid);
    if (!chain.ok) {
      if (ctx.output === 'json') {
        ctx.print.out(
          JSON.stringify({
            verified: false,
            kid,
            checked: 'local',
            error: chain.reason,
            detail: chain.detail,
          }),
        );
      } else {
        ctx.print.out(`Not verified: ${chain.detail} (${chain.reason}, key ${kid}).`);
      }
      return EXIT.refused;
    }
  }
  if (ctx.output === 'json') {
    ctx.print.out(
      JSON.stringify(
        result.verified
          ? { verified: true, kid, checked: 'local' }
          : { verified: false, kid, checked: 'local', error: localReason(result) },
      ),
    );
  } else if (result.verified) {
    ctx.print.out(
      `Verified here against the published JWKS: the signature matches key ${kid}${chain?.ok ? `, which the key log endorses (root ${chain.rootFingerprint})` : ''}.`,
    );
  } else {
    ctx.print.out(`Not verified: ${localReason(result)} (key ${kid}).`);
  }
  return result.verified ? EXIT.ok : EXIT.refused;
}

/** Trusted Server's failure message, which the edge follows with the cutoff's reason. */
const FAILED_PREFIX = 'Signature verification failed: ';

function localReason(result: Exclude<LocalCheck, { verified: true }>): string {
  return 'detail' in result ? `${result.reason}: ${result.detail}` : LOCAL_REASONS[result.reason];
}

/** Fetches the deployment's key log and checks that it endorses `kid` as the JWKS publishes it. */
async function keyLogCheck(ctx: CommandContext, jwks: unknown, kid: string): Promise<ChainCheck> {
  const keys = isRecord(jwks) && Array.isArray(jwks['keys']) ? jwks['keys'] : [];
  const jwk = keys.find((k): k is Record<string, unknown> => isRecord(k) && k['kid'] === kid);
  const x = typeof jwk?.['x'] === 'string' ? jwk['x'] : '';
  let text: string | null;
  try {
    text = (await ctx.edge().request('GET', keyLogPath(ctx.deployment))).text;
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== 'not_found') throw err;
    text = null;
  }
  return checkKeyLogChain(text, kid, x, ctx.flags.string('root-fingerprint'));
}

/** The deployment's key log path, beside its documents. */
function keyLogPath(deployment: string): string {
  return deployment === DEFAULT_DEPLOYMENT
    ? '/.well-known/trusted-server-key-log.json'
    : `/.well-known/deployments/${encodeURIComponent(deployment)}/key-log.json`;
}
