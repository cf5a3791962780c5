// `tsctl jwks`: the JWKS partners fetch, from the public route (no token is sent).
import { EDGE_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../errors.js';

/** `jwks`. */
export const jwks: Command = {
  words: ['jwks'],
  summary: 'print the published JWKS (GET /.well-known/jwks.json)',
  description:
    'pretty indents it; -o json prints the document exactly as served. Edge caches may serve ' +
    'a copy up to 60 s old.',
  args: [],
  options: EDGE_OPTIONS,
  examples: [
    'tsctl jwks --trust-domain keys.publisher.example',
    'tsctl jwks --endpoint http://127.0.0.1:7676 -o json | jq -r ".keys[].kid"',
  ],
  async run(ctx) {
    const answer = await ctx.edge().request('GET', '/.well-known/jwks.json');
    ctx.print.out(
      ctx.output === 'json' || answer.json === undefined
        ? answer.text
        : JSON.stringify(answer.json, null, 2),
    );
    return EXIT.ok;
  },
};
