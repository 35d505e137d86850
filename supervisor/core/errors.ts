// Every failure the supervisor reports has a stable `code`; callers match on it, never on the text.
// docs/error-codes.md lists every code (tests/supervisor/core/errors.test.ts keeps them in step). Never reuse a retired code.

/** Base class: `code` is stable, `hint` says what the operator should do about it. */
export class SupervisorError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SupervisorError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Every code the supervisor reports, in logs, /health and its HTTP answers; each documented in docs/error-codes.md. */
export const ErrorCodes = {
  CONFIG_INVALID: 'SUP_ERR_CONFIG_INVALID',
  PORT_IN_USE: 'SUP_ERR_PORT_IN_USE',
  DB_UNAVAILABLE: 'SUP_ERR_DB_UNAVAILABLE',
  DB_AUTH_FAILED: 'SUP_ERR_DB_AUTH_FAILED',
  DB_NOT_FOUND: 'SUP_ERR_DB_NOT_FOUND',
  DB_TLS_FAILED: 'SUP_ERR_DB_TLS_FAILED',
  MIGRATION_INVALID: 'SUP_ERR_MIGRATION_INVALID',
  MIGRATION_FAILED: 'SUP_ERR_MIGRATION_FAILED',
  CHECKSUM_MISMATCH: 'SUP_ERR_CHECKSUM_MISMATCH',
  MIGRATION_OUT_OF_ORDER: 'SUP_ERR_MIGRATION_OUT_OF_ORDER',
  MIGRATION_INTERRUPTED: 'SUP_ERR_MIGRATION_INTERRUPTED',
  LOCK_TIMEOUT: 'SUP_ERR_LOCK_TIMEOUT',
  SCHEMA_INVALID: 'SUP_ERR_SCHEMA_INVALID',
  MIGRATION_NOT_FOUND: 'SUP_ERR_MIGRATION_NOT_FOUND',
  DOWN_UNAVAILABLE: 'SUP_ERR_DOWN_UNAVAILABLE',
  ADOPTION_INVALID: 'SUP_ERR_ADOPTION_INVALID',
  FOREIGN_HISTORY: 'SUP_ERR_FOREIGN_HISTORY',
  MIGRATION_LEFT_FAILED: 'SUP_ERR_MIGRATION_LEFT_FAILED',
  USAGE: 'SUP_ERR_USAGE',
  APP_SPAWN_FAILED: 'SUP_ERR_APP_SPAWN_FAILED',
  APP_START_TIMEOUT: 'SUP_ERR_APP_START_TIMEOUT',
  APP_EXITED: 'SUP_ERR_APP_EXITED',
  APP_CRASH_LOOP: 'SUP_ERR_APP_CRASH_LOOP',
  EMBEDDED_DB_FAILED: 'SUP_ERR_EMBEDDED_DB_FAILED',
  DIRECT_URL_REQUIRED: 'SUP_ERR_DIRECT_URL_REQUIRED',
  MIGRATION_RISKY: 'SUP_ERR_MIGRATION_RISKY',
  LINT_UNAVAILABLE: 'SUP_ERR_LINT_UNAVAILABLE',
  UNEXPECTED: 'SUP_ERR_UNEXPECTED',
  // The supervisor's own HTTP answers, as the JSON body's `error.code` (the status in the docs' table).
  NOT_READY: 'SUP_ERR_NOT_READY',
  UNAVAILABLE: 'SUP_ERR_UNAVAILABLE',
  BAD_REQUEST: 'SUP_ERR_BAD_REQUEST',
  METHOD_NOT_ALLOWED: 'SUP_ERR_METHOD_NOT_ALLOWED',
  REQUEST_TIMEOUT: 'SUP_ERR_REQUEST_TIMEOUT',
  CONTENT_TOO_LARGE: 'SUP_ERR_CONTENT_TOO_LARGE',
  URI_TOO_LONG: 'SUP_ERR_URI_TOO_LONG',
  HEADERS_TOO_LARGE: 'SUP_ERR_HEADERS_TOO_LARGE',
  APP_UNREACHABLE: 'SUP_ERR_APP_UNREACHABLE',
  APP_RESPONSE_TIMEOUT: 'SUP_ERR_APP_RESPONSE_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Exit statuses of the command (the start and `migrate`); docs/operations.md and docs/migrate-cli.md list them. */
export const ExitCodes = {
  OK: 0,
  FAILURE: 1,
  /** `migrate verify` found the database not ready for this release. */
  PROBLEMS: 2,
  /** EX_TEMPFAIL: a stop interrupted the start while it migrated; the migration rolled back, a retry applies it. */
  INTERRUPTED: 75,
  /** EX_USAGE: the command line is wrong. */
  USAGE: 64,
  /** EX_CONFIG: a setting is missing or malformed. */
  CONFIG: 78,
} as const;

/** The exit status for an error that ends the command. */
export function exitCodeFor(error: unknown): number {
  if (!isSupervisorError(error)) return ExitCodes.FAILURE;
  if (error.code === ErrorCodes.USAGE) return ExitCodes.USAGE;
  if (error.code === ErrorCodes.CONFIG_INVALID) return ExitCodes.CONFIG;
  return ExitCodes.FAILURE;
}

export function isSupervisorError(error: unknown): error is SupervisorError {
  return error instanceof SupervisorError;
}
