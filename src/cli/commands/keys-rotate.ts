// `tsctl keys rotate [--kid KID]`: Trusted Server's rotation (prepare and activate in one commit)
// through its own route, so scripts written for Trusted Server's answer keep working with -o json.
import { ADMIN_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import { requireDefaultDeployment } from '../context.js';
import { mutationQuery, reportExtras } from '../mutation-flags.js';
import { isRecord } from '../client.js';
import type { Command } from '../command.js';
import { DEFAULT_DEPLOYMENT } from '../../core/deployments.js';
import { requestChange } from '../keyring.js';

/** Printed on stderr by every `keys rotate`. */
export const ROTATE_WARNING =
  'tsctl: warning: keys rotate publishes the new key and signs with it at once: a partner whose cached JWKS predates it fails to verify until its cache expires. Prefer tsctl keyset prepare, wait the activation dwell (tsctl schedule plan shows when), then tsctl keyset activate, or let tsctl schedule run do it.';

/** `keys rotate`. */
export const keysRotate: Command = {
  words: ['keys', 'rotate'],
  summary: 'create a new key that signs at once (Trusted Server rotate)',
  description:
    'POST /admin/keys/rotate on the default deployment. The previous signing key stays published ' +
    "(Prepared). Operator token. The new key signs the moment it is published, before partners' " +
    'cached JWKS can hold it; `tsctl keyset prepare`, waiting the activation dwell, then ' +
    '`tsctl keyset activate` (or `tsctl schedule run`) is the safe path.',
  args: [],
  options: {
    kid: { type: 'string', value: 'KID', description: 'the new kid (default ts-YYYY-MM-DD, UTC)' },
    ...ADMIN_OPTIONS,
    ...MUTATION_OPTIONS,
  },
  examples: [
    'tsctl keys rotate --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keys rotate --kid partner-2026-q4 --endpoint http://127.0.0.1:7676 -o json',
  ],
  async run(ctx) {
    // Trusted Server's routes act on the default deployment.
    requireDefaultDeployment(
      ctx,
      "keys rotate (Trusted Server's /admin/keys/rotate)",
      `use \`tsctl keyset prepare --deployment-name ${ctx.deployment}\`, then \`tsctl keyset activate ID --deployment-name ${ctx.deployment}\``,
    );
    const kid = ctx.flags.string('kid');
    const query = mutationQuery(ctx.flags);
    const client = await ctx.admin();
    const answer = await requestChange(
      client,
      'POST',
      `/admin/keys/rotate${query}`,
      DEFAULT_DEPLOYMENT,
      { body: kid === undefined ? {} : { kid } },
    );
    // Trusted Server's meaning is kept for its scripts, but an operator should know the risk.
    if (!ctx.flags.boolean('dry-run')) ctx.print.err(ROTATE_WARNING);
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return reportExtras(ctx, answer.json);
    }
    if (ctx.flags.boolean('dry-run')) return reportExtras(ctx, answer.json);
    const body = isRecord(answer.json) ? answer.json : {};
    const next = typeof body['new_kid'] === 'string' ? body['new_kid'] : '(unknown)';
    const previous = typeof body['previous_kid'] === 'string' ? body['previous_kid'] : null;
    ctx.print.out(
      previous === null
        ? `Key rotated: ${next} (there was no previous signing key).`
        : `Key rotated: ${next} (previous ${previous}).`,
    );
    return reportExtras(ctx, answer.json);
  },
};
