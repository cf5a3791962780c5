// `tsctl verify`: asks the edge whether a signature verifies (POST /verify-signature, public),
// exactly as a partner would; exit 0 when it does, 1 when it does not.
import { EDGE_OPTIONS } from '../args.js';
import { isRecord } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../errors.js';

/** `verify`. */
export const verify: Command = {
  words: ['verify'],
  summary: 'check a signature against a published key (POST /verify-signature)',
  description:
    'Exit 0 when the signature verifies, 1 when it does not. The payload is the exact signed ' +
    'text; the signature is base64url (or padded standard base64). A value that starts with "-" ' +
    'must be written --signature=VALUE.',
  args: [],
  options: {
    kid: { type: 'string', value: 'KID', description: 'the key that signed (required)' },
    payload: { type: 'string', value: 'TEXT', description: 'the exact signed text (required)' },
    signature: { type: 'string', value: 'SIG', description: 'the signature (required)' },
    ...EDGE_OPTIONS,
  },
  examples: [
    `tsctl verify --trust-domain keys.example.com --kid ts-2026-11-22 --payload "$P" --signature="$S"`,
  ],
  async run(ctx) {
    const missing = ['kid', 'payload', 'signature'].filter(
      (f) => ctx.flags.string(f) === undefined,
    );
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(', ')}`);
    }
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
      ctx.print.out(`Not verified: ${why} (key ${body.kid ?? ''}).`);
    }
    return verified ? EXIT.ok : EXIT.refused;
  },
};
