// Builds a command's context from its parsed flags and the environment: where the edge is
// (`--endpoint`, `TSCTL_ENDPOINT`, or `https://<trust-domain>`) and which admin token to send
// (`--token`, `--token-file`, `TSCTL_TOKEN`). Both are resolved only when a command needs them,
// so `token create` needs neither.
import { parseToken } from '../core/auth/admin-token.js';
import { DEFAULT_DEPLOYMENT } from '../core/deployments.js';
import { readFile } from 'node:fs/promises';
import { timeoutMs, type Parsed } from './args.js';
import { extraWaitMs } from './mutation-flags.js';
import { HttpClient } from './client.js';
import type { CommandContext } from './command.js';
import { CliError, EXIT, UsageError } from './errors.js';
import type { CliIo, Printer } from './io.js';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$/;

/** The context a command runs in. */
export function createContext(parsed: Parsed, io: CliIo, print: Printer): CommandContext {
  const { flags } = parsed;
  // With --wait the edge answers only after its wait: tsctl's own bound grows by that much.
  const timeout = timeoutMs(flags) + extraWaitMs(flags);
  const deployment = flags.string('deployment-name') ?? DEFAULT_DEPLOYMENT;
  // The edge owns the naming rule and answers deployment_not_found; only emptiness is ours.
  if (deployment === '') throw new UsageError('--deployment-name must not be empty');
  const client = (baseUrl: string, credentials?: Record<string, string>): HttpClient =>
    new HttpClient({
      baseUrl,
      ...(credentials ? { credentials } : {}),
      timeoutMs: timeout,
      fetch: io.fetch ?? fetch,
      progress: io,
    });
  const endpoint = (): string =>
    resolveEndpoint(flags.string('endpoint'), flags.string('trust-domain'), io.env);
  return {
    args: parsed.args,
    flags,
    output: parsed.output,
    io,
    print,
    timeoutMs: timeout,
    deployment,
    client,
    edge: () => client(endpoint()),
    async admin() {
      const base = endpoint();
      const token = await resolveToken(flags.string('token'), flags.string('token-file'), io.env);
      print.redact(token);
      return client(base, { authorization: `Bearer ${token}` });
    },
  };
}

/**
 * `--endpoint`, else `TSCTL_ENDPOINT`, else `https://<trust-domain>`; neither is a usage error.
 * `--trust-domain` together with an exported `TSCTL_ENDPOINT` is refused: silently following
 * either would let an operator who typed a production domain change a different edge.
 */
export function resolveEndpoint(
  endpoint: string | undefined,
  trustDomain: string | undefined,
  env: CliIo['env'],
): string {
  const fromEnv = nonEmpty(env['TSCTL_ENDPOINT']);
  if (endpoint === undefined && trustDomain !== undefined && fromEnv !== undefined) {
    throw new UsageError(
      `--trust-domain ${trustDomain} and TSCTL_ENDPOINT=${fromEnv} disagree on where the edge is; unset TSCTL_ENDPOINT or pass --endpoint`,
    );
  }
  const explicit = endpoint ?? fromEnv;
  if (explicit !== undefined) {
    let url: URL;
    try {
      url = new URL(explicit);
    } catch {
      throw new UsageError(`--endpoint must be an http(s) URL, not "${explicit}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UsageError(`--endpoint must be an http(s) URL, not "${explicit}"`);
    }
    return url.href;
  }
  if (trustDomain !== undefined) {
    if (!HOSTNAME.test(trustDomain)) {
      throw new UsageError(
        `--trust-domain takes a host name such as keys.publisher.example, not "${trustDomain}" (use --endpoint for a URL)`,
      );
    }
    return `https://${trustDomain}`;
  }
  throw new UsageError(
    'say where the edge is: --trust-domain DOMAIN or --endpoint URL (or TSCTL_ENDPOINT)',
  );
}

/** The admin token from `--token`, `--token-file` or `TSCTL_TOKEN`, trimmed and checked. */
export async function resolveToken(
  token: string | undefined,
  tokenFile: string | undefined,
  env: CliIo['env'],
): Promise<string> {
  if (token !== undefined && tokenFile !== undefined) {
    throw new UsageError('give the admin token once: --token or --token-file, not both');
  }
  let value: string | undefined;
  if (tokenFile !== undefined) {
    try {
      value = await readFile(tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(`cannot read --token-file ${tokenFile} (${code})`);
    }
  } else {
    value = token ?? env['TSCTL_TOKEN'];
  }
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') {
    throw new UsageError(
      'this command needs an admin token: --token-file FILE, TSCTL_TOKEN, or --token TOKEN',
    );
  }
  // Never echo the value: a wrong paste may still be a real secret.
  if (!parseToken(trimmed)) {
    throw new CliError(
      'invalid_token',
      'the admin token must look like <id>.<secret> (as `tsctl token create` prints it)',
      EXIT.auth,
    );
  }
  return trimmed;
}

/**
 * For commands that serve only deployment `default` (Trusted Server's routes, the edge's
 * `/verify-signature`, admin tokens): any other `--deployment-name` is a usage error that says
 * what to use instead, never silently the default deployment.
 */
export function requireDefaultDeployment(ctx: CommandContext, what: string, instead: string): void {
  if (ctx.deployment === DEFAULT_DEPLOYMENT) return;
  throw new UsageError(
    `${what} serves deployment "${DEFAULT_DEPLOYMENT}" only; for deployment "${ctx.deployment}" ${instead}`,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
