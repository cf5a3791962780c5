// `tsctl keyset list`: the deployment's keyring, as a table or exactly as the API answers it.
import { KEYSET_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../errors.js';
import { readKeyring } from '../keyring.js';
import { renderKeyring } from '../output.js';

/** `keyset list`. */
export const keysetList: Command = {
  words: ['keyset', 'list'],
  summary: 'list the key sets of a deployment, newest first',
  description:
    'Reads the keyring (viewer token or better). -o json prints the keyring document exactly as ' +
    'the API returns it: {"schema","deployment","version","updated_at","keysets":[...]}.',
  args: [],
  options: KEYSET_OPTIONS,
  examples: [
    'tsctl keyset list --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keyset list --endpoint http://127.0.0.1:7676 --token-file .fastly-local/admin-token -o json',
  ],
  async run(ctx) {
    const { keyring, drift, answer } = await readKeyring(await ctx.admin(), ctx.deployment);
    ctx.print.out(ctx.output === 'json' ? answer.text : renderKeyring(keyring, drift));
    return EXIT.ok;
  },
};
