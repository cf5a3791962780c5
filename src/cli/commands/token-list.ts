// `tsctl token list --local`: the ids in the local edge's admin_tokens store and when each was
// made. Roles and hashes are secret-store values, which the API never gives back.
import { TIMEOUT_OPTION } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../errors.js';
import { alignColumns } from '../output.js';
import {
  ADMIN_TOKENS_STORE,
  listLocalAdminTokens,
  localTarget,
  LOCAL_OPTIONS,
} from '../local-admin-tokens.js';

/** `token list`. */
export const tokenList: Command = {
  words: ['token', 'list'],
  summary: 'list the admin token ids (--local: of the local edge)',
  description:
    'Lists the ids in the admin_tokens secret store and when each was created. Roles cannot be ' +
    'listed: the store holds them inside secret values, which the Fastly API never returns. ' +
    'Without --local it prints the Fastly CLI command that lists them on Fastly.',
  args: [],
  options: { ...LOCAL_OPTIONS, ...TIMEOUT_OPTION },
  examples: ['tsctl token list --local', 'tsctl token list --local -o json'],
  async run(ctx) {
    const local = await localTarget(ctx);
    if (!local) {
      const command = `fastly secret-store-entry list --store-id=<${ADMIN_TOKENS_STORE} id>`;
      if (ctx.output === 'json') ctx.print.out(JSON.stringify({ command }));
      else ctx.print.out(`On Fastly, list the ${ADMIN_TOKENS_STORE} entries with:\n  ${command}`);
      return EXIT.ok;
    }
    const { storeId, tokens } = await listLocalAdminTokens(ctx, local);
    if (ctx.output === 'json') {
      ctx.print.out(JSON.stringify({ store_id: storeId, tokens }));
      return EXIT.ok;
    }
    if (tokens.length === 0) {
      ctx.print.out(`No tokens in the local ${ADMIN_TOKENS_STORE} store (${storeId}).`);
      return EXIT.ok;
    }
    ctx.print.out(
      alignColumns([['ID', 'CREATED'], ...tokens.map((t) => [t.id, t.created_at ?? '-'])]),
    );
    return EXIT.ok;
  },
};
