// `tsctl keys list`: what Trusted Server's stores say (the signing kid and the published kids),
// derived from the authoritative keyring of the deployment (`default` unless --deployment-name).
import { ADMIN_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { activeKeyset, publishedKeysets } from '../../core/keyring/document.js';
import { EXIT } from '../errors.js';
import { readKeyring } from '../keyring.js';
import { alignColumns } from '../output.js';

/** `keys list`. */
export const keysList: Command = {
  words: ['keys', 'list'],
  summary: 'show the signing kid and the published kids',
  description:
    'Read from the keyring of the deployment (viewer token or better). -o json prints ' +
    '{"current_kid": KID or null, "active_kids": [KID, ...]} in publication order.',
  args: [],
  options: ADMIN_OPTIONS,
  examples: ['tsctl keys list --trust-domain keys.example.com --token-file ~/.tsctl-token'],
  async run(ctx) {
    const { keyring } = await readKeyring(await ctx.admin(), ctx.deployment);
    const current = activeKeyset(keyring)?.id ?? null;
    const published = publishedKeysets(keyring).map((k) => k.id);
    if (ctx.output === 'json') {
      ctx.print.out(JSON.stringify({ current_kid: current, active_kids: published }));
      return EXIT.ok;
    }
    ctx.print.out(
      alignColumns([
        ['Current kid:', current ?? '(none)'],
        ['Published kids:', published.join(', ') || '(none)'],
      ]),
    );
    return EXIT.ok;
  },
};
