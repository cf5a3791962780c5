// `tsctl jwks`: the JWKS partners fetch, from the public route (no token is sent): Trusted
// Server's path for `default`, `/.well-known/deployments/NAME/jwks.json` for another deployment.
import { EDGE_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../errors.js';
import { DEFAULT_DEPLOYMENT } from '../../core/deployments.js';

/** Where a deployment's JWKS is published. */
export function jwksPath(deployment: string): string {
  return deployment === DEFAULT_DEPLOYMENT
    ? '/.well-known/jwks.json'
    : `/.well-known/deployments/${encodeURIComponent(deployment)}/jwks.json`;
}

/** `jwks`. */
export const jwks: Command = {
  words: ['jwks'],
  summary: "print the published JWKS (GET /.well-known/jwks.json, or a deployment's)",
  description:
    'pretty indents it; -o json prints the document exactly as served. Edge caches may serve ' +
    'a copy up to 60 s old.',
  args: [],
  options: EDGE_OPTIONS,
  examples: [
    'tsctl jwks --trust-domain keys.publisher.example',
    'tsctl jwks --endpoint http://127.0.0.1:7676 -o json | jq -r ".keys[].kid"',
    'tsctl jwks --deployment-name staging --trust-domain keys.publisher.example',
  ],
  async run(ctx) {
    const answer = await ctx.edge().request('GET', jwksPath(ctx.deployment));
    ctx.print.out(
      ctx.output === 'json' || answer.json === undefined
        ? answer.text
        : JSON.stringify(answer.json, null, 2),
    );
    return EXIT.ok;
  },
};
