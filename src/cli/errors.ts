// tsctl's failures and the exit code each one maps to. The exit codes are the CLI's contract with
// scripts, so they live in one table that `--help`, docs/tsctl.md and the tests hold against.

/** Exit codes, documented in `tsctl --help` and docs/tsctl.md. */
export const EXIT = {
  ok: 0,
  /** The server refused the request (a 4xx other than auth and conflicts), or a verify failed. */
  refused: 1,
  /** Bad flags, missing arguments, unknown command. */
  usage: 2,
  /** Another change got there first: `operation_in_progress`, `keyring_version_mismatch`. */
  conflict: 3,
  /** The token is missing its role or is not accepted (401/403). */
  auth: 4,
  /** Connection refused, timeout, 5xx, or an answer tsctl cannot read. */
  failure: 5,
  /** A change whose outcome is unknown: it may still take effect. Look with `tsctl doctor`. */
  unknown: 6,
  /** `tsctl doctor` found something that needs a person. */
  unhealthy: 7,
  /** Rate limited (429): nothing was done; the message and `retry_after_seconds` say when to retry. */
  rateLimited: 8,
  /** `--wait`: the change committed, but the edge did not serve it within the wait. */
  notPropagated: 9,
} as const;

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Server codes that mean "someone else changed or is changing this; look, then decide". */
export const CONFLICT_CODES: ReadonlySet<string> = new Set([
  'operation_in_progress',
  'keyring_version_mismatch',
]);

/** A failure tsctl reports as `tsctl: <code>: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly code: string;
  readonly exitCode: ExitCode;
  /** A next step for the operator, printed on its own line. */
  readonly hint: string | undefined;
  /** Facts a script may want (`status`, `retry_after_seconds`, the server's answer); `-o json` prints them. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    exitCode: ExitCode,
    hint?: string,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
    this.details = details;
  }

  /** The same failure with a next step attached. */
  withHint(hint: string): CliError {
    return new CliError(this.code, this.message, this.exitCode, hint, this.details);
  }
}

/** Bad invocation: exit 2, and the command's usage is printed after the message. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';

  constructor(message: string) {
    super('usage', message, EXIT.usage);
  }
}

/** The exit code for an HTTP error status and the server's `code`. */
export function exitCodeFor(status: number, code: string | undefined, outcome?: string): ExitCode {
  if (outcome === 'unknown') return EXIT.unknown;
  if (code !== undefined && CONFLICT_CODES.has(code)) return EXIT.conflict;
  if (status === 429) return EXIT.rateLimited;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status >= 400 && status < 500) return EXIT.refused;
  return EXIT.failure;
}
