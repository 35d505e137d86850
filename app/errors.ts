// Every error the API answers with has a stable `code` (listed in app/README.md); clients match on it.

/** One problem with the request, e.g. `{ path: 'title', message: 'Too big: expected at most 200 characters' }`. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

/** The codes and the HTTP status each is sent with. Never reuse a retired code. */
export const ErrorCodes = {
  INVALID_JSON: 'APP_ERR_INVALID_JSON',
  BAD_REQUEST: 'APP_ERR_BAD_REQUEST',
  VALIDATION: 'APP_ERR_VALIDATION',
  UNSUPPORTED_MEDIA_TYPE: 'APP_ERR_UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'APP_ERR_PAYLOAD_TOO_LARGE',
  ROUTE_NOT_FOUND: 'APP_ERR_ROUTE_NOT_FOUND',
  NOT_FOUND: 'APP_ERR_NOT_FOUND',
  INVALID_REFERENCE: 'APP_ERR_INVALID_REFERENCE',
  CONFLICT: 'APP_ERR_CONFLICT',
  DB_UNAVAILABLE: 'APP_ERR_DB_UNAVAILABLE',
  INTERNAL: 'APP_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const STATUS: Readonly<Record<ErrorCode, number>> = {
  APP_ERR_INVALID_JSON: 400,
  APP_ERR_BAD_REQUEST: 400,
  APP_ERR_VALIDATION: 400,
  APP_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  APP_ERR_PAYLOAD_TOO_LARGE: 413,
  APP_ERR_ROUTE_NOT_FOUND: 404,
  APP_ERR_NOT_FOUND: 404,
  APP_ERR_INVALID_REFERENCE: 422,
  APP_ERR_CONFLICT: 409,
  APP_ERR_DB_UNAVAILABLE: 503,
  APP_ERR_INTERNAL: 500,
};

/** An error whose message is safe to show to the client; anything else is answered as APP_ERR_INTERNAL. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: { details?: readonly ErrorDetail[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.details = options.details ?? [];
  }
}

/** The JSON body of every error response. */
export function errorBody(error: AppError): { error: { code: ErrorCode; message: string; details: readonly ErrorDetail[] } } {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

export function notFound(what: string, id: number): AppError {
  return new AppError(ErrorCodes.NOT_FOUND, `No ${what} with id ${id}`);
}
