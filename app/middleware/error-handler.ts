// The last middleware: turns anything thrown into the JSON error format and logs what the client must not see.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { translateDatabaseError } from '../db-errors.js';
import { AppError, ErrorCodes, errorBody } from '../errors.js';

interface HttpError extends Error {
  status?: number;
  type?: string;
  expose?: boolean;
}

// body-parser and the router throw http-errors; only their status and type are trusted, not their text.
function fromHttpError(error: HttpError): AppError | undefined {
  const status = error.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (error.type === 'entity.parse.failed') return new AppError(ErrorCodes.INVALID_JSON, 'The request body is not valid JSON', { cause: error });
  if (status === 413) return new AppError(ErrorCodes.PAYLOAD_TOO_LARGE, 'The request body is larger than 1 MiB', { cause: error });
  if (status === 415) return new AppError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'Unsupported body encoding or charset', { cause: error });
  return new AppError(ErrorCodes.BAD_REQUEST, 'The request could not be read', { cause: error });
}

/** Maps any thrown value to the AppError the client gets; unknown errors become APP_ERR_INTERNAL. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const translated = (error instanceof Error ? fromHttpError(error) : undefined) ?? translateDatabaseError(error);
  return translated ?? new AppError(ErrorCodes.INTERNAL, 'Internal server error', { cause: error });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const appError = toAppError(error);
    const fields = { event: 'request_error', method: req.method, url: req.originalUrl, code: appError.code, err: error };
    if (appError.status >= 500 && appError.code !== ErrorCodes.DB_UNAVAILABLE) logger.error(fields, 'request failed');
    else if (appError.code === ErrorCodes.DB_UNAVAILABLE) logger.warn(fields, 'database unavailable');
    else logger.debug(fields, 'request rejected');
    if (appError.code === ErrorCodes.DB_UNAVAILABLE) res.set('retry-after', '5');
    res.status(appError.status).json(errorBody(appError));
  };
}

/** Every request no route answered: a JSON 404. */
export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError(ErrorCodes.ROUTE_NOT_FOUND, `No route for ${req.method} ${req.path}`));
};
