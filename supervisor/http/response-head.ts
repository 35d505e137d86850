// The client's response head from the app's, whichever client brought it from the app (app-pool.ts or node:http):
// 1xx relayed as the app sent them, the final head written with its hop-by-hop headers dropped.
import type { ServerResponse } from 'node:http';
import { downstreamResponseHeaders } from './proxy-headers.js';

/** A response head as it goes on the wire, from a flat name/value list. */
export function rawResponseHead(statusCode: number, statusMessage: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

// Node's own way to put an interim response ahead of the final one (writeContinue and writeEarlyHints use it): it
// queues behind an earlier response on a pipelined connection. writeEarlyHints itself would drop a 103 whose
// Link it does not parse, and every header but Link.
interface RawWritable {
  _writeRaw(data: string, encoding: BufferEncoding): boolean;
}

/**
 * A 1xx from the app: 100 Continue when the client asked for it, 103 Early Hints as the app sent them. None for an
 * HTTP/1.0 client, which does not expect them (RFC 9110, 15.2); other 1xx (102) are dropped, as nginx does.
 */
export function relayInterim(res: ServerResponse, statusCode: number, statusMessage: string, rawHeaders: readonly string[]): void {
  const { req } = res;
  if (res.headersSent || req.httpVersionMajor !== 1 || req.httpVersionMinor === 0) return;
  if (statusCode === 100) {
    if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
  } else if (statusCode === 103) {
    (res as unknown as RawWritable)._writeRaw(rawResponseHead(103, statusMessage || 'Early Hints', rawHeaders), 'latin1');
  }
}

/**
 * Writes the app's final response head to the client (`Connection: close` while draining). True for a streamed
 * response (no Content-Length: Server-Sent Events, a long poll), whose head the caller sends on at once rather
 * than with its first body bytes, which may be long in coming; one with a length has its head and body written
 * together.
 */
export function writeResponseHead(res: ServerResponse, statusCode: number, statusMessage: string | undefined, rawHeaders: readonly string[], draining: boolean): boolean {
  const headers = downstreamResponseHeaders(rawHeaders, draining);
  res.writeHead(statusCode, statusMessage, headers);
  return headers['content-length'] === undefined;
}
