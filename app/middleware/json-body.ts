// Request bodies: JSON only, at most 1 MiB.
import express, { type RequestHandler } from 'express';
import { AppError, ErrorCodes } from '../errors.js';

/** The largest body accepted; a larger one is answered 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const parseJson = express.json({ limit: BODY_LIMIT_BYTES });

// A body that is not JSON is refused outright instead of being silently ignored.
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    return next(new AppError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'Send the request body as application/json'));
  }
  next();
};

export const jsonBody: RequestHandler[] = [requireJson, parseJson];
