/**
 * The server's errors: every answer other than 2xx is an {@link HttpError} with a code,
 * an HTTP status and a message, sent as `{"error": {"code", "message"}}`.
 *
 * Codes that concern the engine (a bad format, unreadable input, a failing store) are
 * the engine's own. Every code, HTTP-only ones included, is a row of the one table
 * (`ERROR_CODES` in `src/core/errors.ts`, the pattern of fastify's `lib/errors.js`), so
 * the reference pages, the CLI and the server never disagree.
 */
import { ERROR_CODES, type ErrorCode, isSluiceError } from '../core/errors.js';

/** The codes only the server raises; their rows live in the one table, `ERROR_CODES`. */
export const SERVER_ONLY_CODES = [
  'SLUICE_E_UNAUTHENTICATED',
  'SLUICE_E_FORBIDDEN',
  'SLUICE_E_NOT_FOUND',
  'SLUICE_E_METHOD_NOT_ALLOWED',
  'SLUICE_E_CONFLICT',
  'SLUICE_E_BODY_TOO_LARGE',
  'SLUICE_E_UNSUPPORTED_ENCODING',
  'SLUICE_E_IDEMPOTENCY_MISMATCH',
  'SLUICE_E_RATE_LIMITED',
  'SLUICE_E_OVERLOADED',
  'SLUICE_E_SHUTTING_DOWN',
] as const satisfies readonly ErrorCode[];

export type ServerErrorCode = (typeof SERVER_ONLY_CODES)[number];
export type HttpErrorCode = ErrorCode;

/** The server-only rows of `ERROR_CODES`, for the server's reference page. */
export const SERVER_ERROR_CODES = Object.fromEntries(SERVER_ONLY_CODES.map((c) => [c, ERROR_CODES[c]])) as {
  readonly [C in ServerErrorCode]: (typeof ERROR_CODES)[C];
};

export function statusOf(code: HttpErrorCode): number {
  return ERROR_CODES[code].status;
}

function defaultMessage(code: HttpErrorCode): string {
  return ERROR_CODES[code].message;
}

export interface HttpErrorOptions {
  /** Extra response headers: `Retry-After`, `WWW-Authenticate`, `Allow`. */
  headers?: Record<string, string>;
  /** Extra members of the error body (`accepted` after a partial ingest). */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/** An answer other than 2xx. `status` comes from the code's table entry. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(code: HttpErrorCode, message?: string, options: HttpErrorOptions = {}) {
    super(
      message ?? defaultMessage(code),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = statusOf(code);
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  body(): { error: { code: string; message: string } } & Record<string, unknown> {
    return { error: { code: this.code, message: this.message }, ...this.extra };
  }
}

/** Any error as an {@link HttpError}: coded engine errors keep their code and status, the rest is a 500. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isSluiceError(e)) return new HttpError(e.code, e.message, { cause: e });
  return new HttpError('SLUICE_E_INTERNAL', undefined, { cause: e });
}
