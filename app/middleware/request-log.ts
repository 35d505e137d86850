// One log line per finished request; health checks only at debug level, as they come every few seconds.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const fields = {
        event: 'request',
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      };
      if (req.path === '/health') logger.debug(fields, 'request');
      else logger.info(fields, 'request');
    });
    next();
  };
}
