// `--dry-run`, `--wait` and `--wait-timeout` on every command that changes keys: the query they
// add to the change's request, and what tsctl says about the answer (the preview's difference and
// warnings; whether the edge serves the change yet, which is exit 9 when it does not).
import { isRecord } from './client.js';
import type { CommandContext, Flags } from './command.js';
import { EXIT, UsageError, type ExitCode } from './errors.js';

/** The longest wait the edge allows (`propagation.wait_timeout_ms` cannot exceed it). */
const MAX_WAIT_MS = 600_000;

/** `--wait-timeout` in milliseconds, or undefined when not given; needs `--wait`. */
export function waitTimeoutMs(flags: Flags): number | undefined {
  const text = flags.string('wait-timeout');
  if (text === undefined) return undefined;
  if (!flags.boolean('wait')) throw new UsageError('--wait-timeout needs --wait');
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds > MAX_WAIT_MS / 1000) {
    throw new UsageError(
      `--wait-timeout must be a number of seconds from 0 to ${MAX_WAIT_MS / 1000}, not "${text}"`,
    );
  }
  return Math.round(seconds * 1000);
}

/**
 * How much longer than `--timeout` tsctl waits for a change's answer with `--wait`: the edge
 * answers after its wait at the latest, which is at most the given bound or its own (≤ 600 s).
 */
export function extraWaitMs(flags: Flags): number {
  if (!flags.boolean('wait')) return 0;
  return waitTimeoutMs(flags) ?? MAX_WAIT_MS;
}

/** The query string the flags add to a change's path ('' for none). */
export function mutationQuery(flags: Flags): string {
  const dryRun = flags.boolean('dry-run');
  const wait = flags.boolean('wait');
  // Checked first: --wait-timeout without --wait is a usage error, never silently ignored.
  const timeout = waitTimeoutMs(flags);
  if (dryRun && wait) {
    throw new UsageError('--dry-run changes nothing, so there is nothing to --wait for');
  }
  if (dryRun) return '?dry_run=true';
  if (!wait) return '';
  return `?wait=propagation${timeout === undefined ? '' : `&wait_timeout_ms=${timeout}`}`;
}

/**
 * After a change's answer (pretty output): a dry run's difference, warnings and writes; with
 * `--wait`, whether the edge serves it. Answers the exit code: 8 when it did not propagate in time.
 * With `-o json` only the exit code is decided (the answer itself was printed verbatim).
 */
export function reportExtras(ctx: CommandContext, json: unknown): ExitCode {
  const body = isRecord(json) ? json : {};
  if (ctx.output === 'pretty' && body['dry_run'] === true) printPreview(ctx, body);
  const propagation = isRecord(body['propagation']) ? body['propagation'] : undefined;
  if (propagation === undefined) return EXIT.ok;
  const committed = String(propagation['keyring_version']);
  const seen = propagation['edge_keyring_version'];
  const waited = Number(propagation['waited_ms']) / 1000;
  if (propagation['propagated'] === true) {
    if (ctx.output === 'pretty') {
      ctx.print.out(
        `Propagated: the edge serves keyring version ${committed} (after ${waited} s).`,
      );
    }
    return EXIT.ok;
  }
  ctx.print.err(
    `tsctl: not_propagated: the change committed (keyring version ${committed}), but after ${waited} s the edge still serves ${seen === null ? 'no keyring' : `version ${String(seen)}`}; partners may not see it yet`,
  );
  ctx.print.err(
    'tsctl: hint: nothing is wrong with the change; check again later with `tsctl keyset list` and the key documents, or wait longer with --wait-timeout',
  );
  return EXIT.notPropagated;
}

function printPreview(ctx: CommandContext, body: Record<string, unknown>): void {
  const lines = ['Dry run: nothing was changed. The change would do this:'];
  const diff = isRecord(body['diff']) ? body['diff'] : {};
  const keysets = isRecord(diff['keysets']) ? diff['keysets'] : {};
  const jwks = isRecord(diff['jwks']) ? diff['jwks'] : {};
  const current = isRecord(diff['current_kid']) ? diff['current_kid'] : {};
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  for (const id of list(keysets['added'])) lines.push(`  + key set ${id}`);
  for (const id of list(keysets['removed'])) lines.push(`  - key set ${id} (removed for good)`);
  const changed = Array.isArray(keysets['changed']) ? keysets['changed'].filter(isRecord) : [];
  for (const c of changed) {
    lines.push(`  ~ key set ${String(c['id'])}: ${String(c['from'])} → ${String(c['to'])}`);
  }
  const added = list(jwks['added']);
  const removed = list(jwks['removed']);
  if (added.length + removed.length > 0) {
    const parts = [...added.map((k) => `+${k}`), ...removed.map((k) => `-${k}`)];
    lines.push(`  JWKS: ${parts.join(' ')}`);
  }
  if (current['changed'] === true) {
    lines.push(
      `  signing kid: ${String(current['before'] ?? '(none)')} → ${String(current['after'] ?? '(none)')}`,
    );
  }
  for (const w of list(body['planned_writes'])) lines.push(`  write: ${w}`);
  ctx.print.out(lines.join('\n'));
  const warnings = Array.isArray(body['warnings']) ? body['warnings'].filter(isRecord) : [];
  for (const w of warnings) {
    ctx.print.err(`tsctl: warning: ${String(w['code'])}: ${String(w['message'])}`);
  }
}
