// The answer to a request Node's parser could not take (malformed, too large, too slow), in place of Node's own:
// the right status (414 for an overlong target, which Node counts as 431), a short JSON body with its code, and a
// lingering close: the connection is ended after the answer and what the client still sends is read and dropped
// for a moment, as nginx does, because closing a socket with unread data makes the kernel reset it, and a reset
// can destroy the answer before the client reads it.
import type { Socket } from 'node:net';
import { gateErrorBody, type GateErrorStatus } from './not-ready-page.js';

// How long a client that keeps sending after its answer is read from before the connection is cut.
const LINGER_MS = 5_000;

interface ParserError extends Error {
  readonly code?: string;
  readonly rawPacket?: Buffer;
}

// A header overflow whose packet holds no line end yet is still in the request line: the target is too long.
function statusFor(error: ParserError): GateErrorStatus {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return error.rawPacket && !error.rawPacket.includes(0x0a) ? 414 : 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    default:
      return 400;
  }
}

const answered = new WeakSet<Socket>();

/** The server's 'clientError' listener. */
export function answerClientError(error: ParserError, socket: Socket): void {
  // Node reports every later chunk of a connection it could not parse again: the first answer stands.
  if (answered.has(socket)) return;
  answered.add(socket);
  const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) return void socket.destroy();
  const status = statusFor(error);
  const { statusMessage, headers, body } = gateErrorBody(status);
  let head = `HTTP/1.1 ${status} ${statusMessage}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.on('data', () => {});
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
