// `tsctl keyset adopt [KID]`: folds what Trusted Server's own tools changed in the stores (a kid
// rotated in, deactivated or made current behind the keyring's back) into the keyring now, as one
// journaled, audited commit. The next change would fold it anyway; this does it on purpose. With
// a kid, it also endorses that key in the key log (docs/key-log.md): the one way a key written
// into the stores directly becomes one partners that check the log accept.
import { KEYSET_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { deploymentPath, runKeysetChange } from '../keyring.js';

/** `keyset adopt`. */
export const keysetAdopt: Command = {
  words: ['keyset', 'adopt'],
  summary: "fold Trusted Server's changes to the stores (drift) into the keyring",
  description:
    '`tsctl keyset list` shows the drift. Adopting keeps the key Trusted Server signs with as the ' +
    'Active key set and every kid it publishes published; a kid that cannot sign is flagged ' +
    'unusable. Folding never endorses a key. With KID (or --kid) the stores must name that kid, ' +
    'and it is endorsed in the key log, signed by a key the log already vouches for: it must be ' +
    'published and its private key must derive its JWK (409 otherwise). Operator token.',
  args: [{ name: 'KID', description: 'a key to endorse in the key log', optional: true }],
  options: {
    kid: { type: 'string', value: 'KID', description: 'the same as the KID argument' },
    ...KEYSET_OPTIONS,
    ...MUTATION_OPTIONS,
  },
  examples: [
    'tsctl keyset adopt --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keyset adopt ts-2026-12-01 --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keyset adopt --kid ts-2026-12-01 --endpoint http://127.0.0.1:7676 -o json',
  ],
  run(ctx) {
    const kid = ctx.args[0] ?? ctx.flags.string('kid');
    if (ctx.args[0] !== undefined && ctx.flags.string('kid') !== undefined) {
      throw new UsageError('give the kid once: as KID or as --kid');
    }
    return runKeysetChange(ctx, {
      method: 'POST',
      path: deploymentPath(ctx.deployment, 'adopt'),
      body: kid === undefined ? {} : { kid },
      describe: (result, before) =>
        result.folded.length === 0 && result.keyring.version === before.version
          ? 'Nothing to adopt: the stores agree with the keyring.'
          : `Adopted (keyring version ${result.keyring.version}):\n${[
              ...result.folded,
              ...(kid !== undefined ? [`${kid} endorsed in the key log`] : []),
            ]
              .map((l) => `  ${l}`)
              .join('\n')}`,
    });
  },
};
