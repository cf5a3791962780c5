// `tsctl keyset adopt [--kid KID]`: folds what Trusted Server's own tools changed in the stores
// (a kid rotated in, deactivated or made current behind the keyring's back) into the keyring now,
// as one journaled, audited commit. The next change would fold it anyway; this does it on purpose.
import { KEYSET_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { deploymentPath, runKeysetChange } from '../keyring.js';

/** `keyset adopt`. */
export const keysetAdopt: Command = {
  words: ['keyset', 'adopt'],
  summary: "fold Trusted Server's changes to the stores (drift) into the keyring",
  description:
    '`tsctl keyset list` shows the drift. Adopting keeps the key Trusted Server signs with as the ' +
    'Active key set and every kid it publishes published; a kid that cannot sign is flagged ' +
    'unusable. --kid refuses unless the stores name that kid. Operator token.',
  args: [],
  options: {
    kid: { type: 'string', value: 'KID', description: 'a kid the adoption must include' },
    ...KEYSET_OPTIONS,
    ...MUTATION_OPTIONS,
  },
  examples: [
    'tsctl keyset adopt --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keyset adopt --kid ts-2026-12-01 --endpoint http://127.0.0.1:7676 -o json',
  ],
  run(ctx) {
    const kid = ctx.flags.string('kid');
    return runKeysetChange(ctx, {
      method: 'POST',
      path: deploymentPath(ctx.deployment, 'adopt'),
      body: kid === undefined ? {} : { kid },
      describe: (result, before) =>
        result.folded.length === 0 && result.keyring.version === before.version
          ? 'Nothing to adopt: the stores agree with the keyring.'
          : `Adopted (keyring version ${result.keyring.version}):\n${result.folded.map((l) => `  ${l}`).join('\n')}`,
    });
  },
};
