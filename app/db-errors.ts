// Sorts errors from pg into "the database is unreachable" (503) and errors the client caused (4xx).
import { AppError, ErrorCodes } from './errors.js';

// Socket-level failures: the server is down, restarting, or the network is gone.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

// SQLSTATEs that mean "try again later", not "your request is wrong":
// 08xxx connection exception, 57P01-57P03 shutdown/starting up, 53300 too many connections.
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300)$/;

// pg's own messages for a connection that died or never came up; they carry no code.
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'The server does not support SSL connections',
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error means that the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  if (PG_CONNECTION_MESSAGES.some((text) => error.message.startsWith(text))) return true;
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return error.cause !== undefined && isDatabaseUnavailable(error.cause);
}

/** True for errors after which retrying the whole transaction may succeed (deadlock, serialization). */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40001' || code === '40P01';
}

/** Turns a pg error into the AppError to answer with, or undefined when it is a bug (answered as 500). */
export function translateDatabaseError(error: unknown): AppError | undefined {
  if (isDatabaseUnavailable(error)) {
    return new AppError(ErrorCodes.DB_UNAVAILABLE, 'The database is unavailable; try again shortly', { cause: error });
  }
  switch (codeOf(error)) {
    case '23503':
      return new AppError(ErrorCodes.INVALID_REFERENCE, 'The request refers to a row that does not exist', { cause: error });
    case '23505':
    case '40001':
    case '40P01':
      return new AppError(ErrorCodes.CONFLICT, 'The change conflicted with another one; try again', { cause: error });
    case '22001':
    case '22003':
    case '22021':
    case '22P02':
    case '22P05':
    case '23502':
    case '23514':
      return new AppError(ErrorCodes.VALIDATION, 'The request holds a value the database does not accept', { cause: error });
    default:
      return undefined;
  }
}
