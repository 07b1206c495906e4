/** Small helpers for answering over `node:http`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpError } from './errors.js';

/** True when the request carries a body that has not been read to its end. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/** Sends `body` as JSON (already serialized when a string). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Sends an error. When the request body was not read (a 401 before any byte of it),
 * the connection is closed after the answer rather than reading an upload nobody
 * wants; the client sees the answer, then the close.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, e: HttpError): void {
  const headers: Record<string, string> = { ...e.headers };
  if (hasUnreadBody(req)) headers.connection = 'close';
  sendJson(res, e.status, e.body(), headers);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}
