// Reading the keyring over the admin API, and the shape every keyset mutation shares: read the
// keyring, send the change with `If-Match: "<version>"`, report. A conflict or a timeout is
// reported with the next step (look at the keyring), never retried.
import { parseKeyring, type Keyring, type Keyset } from '../core/keyring/document.js';
import { DEFAULT_DEPLOYMENT } from '../core/deployments.js';
import { isRecord, type Answer, type HttpClient, type RequestOptions } from './client.js';
import type { CommandContext } from './command.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { mutationQuery, reportExtras } from './mutation-flags.js';

/** One way Trusted Server's items disagree with the keyring, as the API lists it. */
export interface DriftLine {
  code: string;
  kid?: string;
  severity: string;
  message: string;
}

/** The keyring and the answer it came in. */
export interface KeyringRead {
  keyring: Keyring;
  /** The drift the API reported beside the keyring (empty when none). */
  drift: DriftLine[];
  /** The version to send back in `If-Match` (the ETag, else the document's own). */
  version: number;
  answer: Answer;
}

/** `GET /admin/deployments/{d}/keysets`, validated against the keyring schema. */
export async function readKeyring(client: HttpClient, deployment: string): Promise<KeyringRead> {
  const answer = await client.request('GET', keysetsPath(deployment));
  const keyring = toKeyring(answer.json);
  const etag = /^(?:W\/)?"(\d+)"$/.exec(answer.headers.get('etag') ?? '');
  const version = etag?.[1] !== undefined ? Number(etag[1]) : keyring.version;
  return { keyring, drift: driftOf(answer.json), version, answer };
}

function driftOf(json: unknown): DriftLine[] {
  const list = isRecord(json) ? json['drift'] : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (d): d is DriftLine =>
      isRecord(d) && typeof d['code'] === 'string' && typeof d['message'] === 'string',
  );
}

/** A path under a deployment, e.g. `/admin/deployments/default/adopt`. */
export function deploymentPath(deployment: string, ...rest: string[]): string {
  return ['/admin/deployments', deployment, ...rest].map(encodeSegment).join('/');
}

/** The path of a deployment's key sets, plus an optional key set id and action. */
export function keysetsPath(deployment: string, ...rest: string[]): string {
  return ['/admin/deployments', deployment, 'keysets', ...rest].map(encodeSegment).join('/');
}

/** A keyset mutation's answer: what changed and the keyring after it. */
export interface MutationAnswer {
  operation: string;
  keyset: Keyset | null;
  keyring: Keyring;
  warnings: string[];
  /** Trusted Server's drift the change folded into the keyring first. */
  folded: string[];
}

/** The mutation to send. */
export interface KeysetChange {
  method: 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** The line printed on success (pretty output). */
  describe(result: MutationAnswer, before: Keyring): string;
}

/** Reads the keyring, sends the change guarded by its version, prints the outcome. */
export async function runKeysetChange(
  ctx: CommandContext,
  change: KeysetChange,
): Promise<ExitCode> {
  const query = mutationQuery(ctx.flags);
  const client = await ctx.admin();
  const before = await readKeyring(client, ctx.deployment);
  const answer = await requestChange(client, change.method, change.path + query, ctx.deployment, {
    ...(change.body !== undefined ? { body: change.body } : {}),
    headers: { 'if-match': `"${before.version}"` },
  });
  if (ctx.output === 'json') {
    ctx.print.out(answer.text);
    return reportExtras(ctx, answer.json);
  }
  const result = toMutationAnswer(answer.json);
  // A dry run's preview (printed by reportExtras) replaces the line saying what was done.
  if (!ctx.flags.boolean('dry-run')) ctx.print.out(change.describe(result, before.keyring));
  for (const warning of result.warnings) ctx.print.err(`tsctl: warning: ${warning}`);
  if (result.operation !== 'adopt') {
    for (const line of result.folded) ctx.print.err(`tsctl: folded first: ${line}`);
  }
  return reportExtras(ctx, answer.json);
}

/** Sends one change; a conflict or timeout comes back with "look before you retry" attached. */
export async function requestChange(
  client: HttpClient,
  method: 'POST' | 'DELETE',
  path: string,
  deployment: string,
  options: RequestOptions,
): Promise<Answer> {
  try {
    return await client.request(method, path, options);
  } catch (err) {
    throw withNextStep(err, deployment);
  }
}

function withNextStep(err: unknown, deployment: string): unknown {
  if (!(err instanceof CliError)) return err;
  const list =
    deployment === DEFAULT_DEPLOYMENT
      ? '`tsctl keyset list`'
      : `\`tsctl keyset list --deployment-name ${deployment}\``;
  if (err.exitCode === EXIT.conflict) {
    return err.withHint(
      `nothing was changed or retried; check the current state with ${list}, then decide`,
    );
  }
  const doctor =
    deployment === DEFAULT_DEPLOYMENT
      ? '`tsctl doctor`'
      : `\`tsctl doctor --deployment-name ${deployment}\``;
  if (err.code === 'timeout') {
    // tsctl's own request timed out: the change may still be committed. Unknown, not failed.
    return new CliError(err.code, err.message, EXIT.unknown).withHint(
      `the change may or may not have been committed, and was not retried; check with ${list} or ${doctor}`,
    );
  }
  if (err.exitCode === EXIT.unknown) {
    return err.withHint(
      `the change may still take effect; it was not retried or undone. After the time above, ${doctor} shows the outcome (and --repair settles it); then decide`,
    );
  }
  return err;
}

function toMutationAnswer(json: unknown): MutationAnswer {
  if (!isRecord(json) || typeof json['operation'] !== 'string') throw unreadable('mutation answer');
  const keyset = json['keyset'];
  const warnings = Array.isArray(json['warnings'])
    ? json['warnings'].filter((w): w is string => typeof w === 'string')
    : [];
  const folded = Array.isArray(json['folded'])
    ? json['folded'].filter((w): w is string => typeof w === 'string')
    : [];
  return {
    operation: json['operation'],
    keyset: isRecord(keyset) ? (keyset as unknown as Keyset) : null,
    keyring: toKeyring(json['keyring']),
    warnings,
    folded,
  };
}

function toKeyring(json: unknown): Keyring {
  try {
    return parseKeyring(JSON.stringify(json ?? null));
  } catch (err) {
    throw unreadable(`keyring (${err instanceof Error ? err.message : 'invalid'})`);
  }
}

function unreadable(what: string): CliError {
  return new CliError('unexpected_answer', `the server sent an unreadable ${what}`, EXIT.failure);
}

function encodeSegment(segment: string): string {
  return segment.startsWith('/') ? segment : encodeURIComponent(segment);
}
