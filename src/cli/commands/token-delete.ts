// `tsctl token delete ID --local`: removes a token from the local edge's admin_tokens store, so
// it stops working at the next request. Without --local: the Fastly CLI command that does it.
import { isTokenId } from '../../core/auth/admin-token.js';
import { TIMEOUT_OPTION } from '../args.js';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import {
  ADMIN_TOKENS_STORE,
  deleteLocalAdminToken,
  localTarget,
  LOCAL_OPTIONS,
} from '../local-admin-tokens.js';

/** `token delete`. */
export const tokenDelete: Command = {
  words: ['token', 'delete'],
  summary: 'revoke an admin token (--local: of the local edge)',
  description:
    'Deletes the entry ID from the admin_tokens secret store; the token is refused from then on ' +
    '(on Fastly, once the store change has reached the edge). An unknown ID is an error (exit 1). ' +
    'Without --local it prints the Fastly CLI command that deletes it on Fastly.',
  args: [{ name: 'ID', description: 'the token id (the part before the dot)' }],
  options: { ...LOCAL_OPTIONS, ...TIMEOUT_OPTION },
  examples: ['tsctl token delete ops-alice --local'],
  async run(ctx) {
    const id = ctx.args[0] ?? '';
    if (!isTokenId(id)) throw new UsageError(`ID must be 1-64 of A-Z a-z 0-9 _ -, not "${id}"`);
    const local = await localTarget(ctx);
    if (!local) {
      const command = `fastly secret-store-entry delete --store-id=<${ADMIN_TOKENS_STORE} id> --name=${id}`;
      if (ctx.output === 'json') ctx.print.out(JSON.stringify({ command }));
      else ctx.print.out(`On Fastly, revoke it with:\n  ${command}`);
      return EXIT.ok;
    }
    const storeId = await deleteLocalAdminToken(ctx, local, id);
    if (ctx.output === 'json') {
      ctx.print.out(JSON.stringify({ deleted: id, store_id: storeId }));
      return EXIT.ok;
    }
    ctx.print.out(`Token ${id} deleted from the local ${ADMIN_TOKENS_STORE} store (${storeId}).`);
    return EXIT.ok;
  },
};
