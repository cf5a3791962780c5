// `tsctl keys deactivate KID [--delete]`: Trusted Server's deactivate (stop publishing, keep the
// key) or, with --delete, remove the key for good; through Trusted Server's own route.
import { ADMIN_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import { requireDefaultDeployment } from '../context.js';
import { mutationQuery, reportExtras } from '../mutation-flags.js';
import { isRecord } from '../client.js';
import type { Command } from '../command.js';
import { DEFAULT_DEPLOYMENT } from '../../core/deployments.js';
import { requestChange } from '../keyring.js';

/** `keys deactivate`. */
export const keysDeactivate: Command = {
  words: ['keys', 'deactivate'],
  summary: 'unpublish a key but keep it; --delete removes it for good',
  description:
    'POST /admin/keys/deactivate {"kid","delete"} on the default deployment. The signing key ' +
    'cannot be deactivated, and at least one key always stays published. Operator token.',
  args: [{ name: 'KID', description: 'the key to deactivate' }],
  options: {
    delete: {
      type: 'boolean',
      description: 'also delete its JWK and private key (cannot be undone)',
    },
    ...ADMIN_OPTIONS,
    ...MUTATION_OPTIONS,
  },
  examples: [
    'tsctl keys deactivate ts-2025-10-A --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keys deactivate ts-2025-10-A --delete --endpoint http://127.0.0.1:7676',
  ],
  async run(ctx) {
    const kid = ctx.args[0] ?? '';
    const remove = ctx.flags.boolean('delete');
    // Trusted Server's routes act on the default deployment.
    requireDefaultDeployment(
      ctx,
      "keys deactivate (Trusted Server's /admin/keys/deactivate)",
      `use \`tsctl keyset ${remove ? 'remove' : 'deactivate'} ${kid} --deployment-name ${ctx.deployment}\``,
    );
    const query = mutationQuery(ctx.flags);
    const client = await ctx.admin();
    const answer = await requestChange(
      client,
      'POST',
      `/admin/keys/deactivate${query}`,
      DEFAULT_DEPLOYMENT,
      { body: { kid, delete: remove } },
    );
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return reportExtras(ctx, answer.json);
    }
    if (ctx.flags.boolean('dry-run')) return reportExtras(ctx, answer.json);
    const body = isRecord(answer.json) ? answer.json : {};
    const remaining = Array.isArray(body['remaining_active_kids'])
      ? body['remaining_active_kids'].filter((k): k is string => typeof k === 'string')
      : [];
    ctx.print.out(
      `Key ${kid} ${remove ? 'deleted' : 'deactivated'}. Published: ${remaining.join(', ') || '(none)'}.`,
    );
    return reportExtras(ctx, answer.json);
  },
};
