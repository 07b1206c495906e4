/**
 * The one table of sluice's error codes. Every error the engine raises is a
 * {@link SluiceError} whose `code` is a key of {@link ERROR_CODES}; the table gives
 * each code its HTTP status (for `sluice serve`) and CLI exit code, so the two
 * front ends never disagree about what a failure means.
 */
export const ERROR_CODES = {
  // Record-level: the input is wrong. Under `--on-error skip|dead-letter` these reject
  // one record and the run goes on; under `fail` they end it.
  SLUICE_E_UTF8: { status: 400, exit: 65, message: 'invalid UTF-8 in record' },
  SLUICE_E_RECORD_TOO_LARGE: { status: 413, exit: 65, message: 'record exceeds the maximum record size' },
  SLUICE_E_UNTERMINATED_QUOTE: { status: 400, exit: 65, message: 'quoted field is not closed' },
  SLUICE_E_PARSE: { status: 400, exit: 65, message: 'record does not parse' },
  SLUICE_E_FIELD_COUNT: { status: 400, exit: 65, message: 'row has the wrong number of fields' },
  SLUICE_E_VALIDATION: { status: 422, exit: 65, message: 'record is not valid for this format' },
  SLUICE_E_TRANSFORM: { status: 422, exit: 65, message: 'a transform failed on this record' },
  SLUICE_E_SERIALIZE: { status: 500, exit: 65, message: 'record cannot be written in the output format' },
  // Run-level: the invocation or environment is wrong.
  SLUICE_E_USAGE: { status: 400, exit: 64, message: 'invalid usage' },
  SLUICE_E_OPTION: { status: 400, exit: 64, message: 'invalid option' },
  SLUICE_E_UNKNOWN_FORMAT: { status: 415, exit: 64, message: 'unknown format' },
  SLUICE_E_NO_SERIALIZER: { status: 406, exit: 64, message: 'format cannot be used for output' },
  SLUICE_E_INPUT: { status: 400, exit: 66, message: 'input cannot be read' },
  SLUICE_E_OUTPUT: { status: 500, exit: 73, message: 'output cannot be written' },
  SLUICE_E_SINK: { status: 503, exit: 74, message: 'sink failed' },
  SLUICE_E_MODULE: { status: 500, exit: 64, message: 'module cannot be loaded' },
  SLUICE_E_ABORTED: { status: 499, exit: 130, message: 'operation aborted' },
  // HTTP-only: raised by `sluice serve` before or around a request's body.
  SLUICE_E_UNAUTHENTICATED: { status: 401, exit: 77, message: 'missing or unknown API key' },
  SLUICE_E_FORBIDDEN: { status: 403, exit: 77, message: 'this principal may not do this' },
  SLUICE_E_NOT_FOUND: { status: 404, exit: 64, message: 'no such resource' },
  SLUICE_E_METHOD_NOT_ALLOWED: { status: 405, exit: 64, message: 'method not allowed on this resource' },
  SLUICE_E_CONFLICT: { status: 409, exit: 75, message: 'a conflicting request is in progress' },
  SLUICE_E_BODY_TOO_LARGE: { status: 413, exit: 64, message: 'request body exceeds the size limit' },
  SLUICE_E_UNSUPPORTED_ENCODING: { status: 415, exit: 64, message: 'unsupported Content-Encoding' },
  SLUICE_E_IDEMPOTENCY_MISMATCH: {
    status: 422,
    exit: 64,
    message: 'Idempotency-Key reused for a different request',
  },
  SLUICE_E_RATE_LIMITED: { status: 429, exit: 75, message: 'rate limit exceeded' },
  SLUICE_E_OVERLOADED: { status: 503, exit: 75, message: 'the store is behind; retry later' },
  SLUICE_E_SHUTTING_DOWN: { status: 503, exit: 75, message: 'the server is shutting down' },
  SLUICE_E_INTERNAL: { status: 500, exit: 70, message: 'internal error' },
} as const satisfies Record<string, { status: number; exit: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where a rejected or failing record came from. `line` is 1-based, `offset` is the byte offset of the record's first byte. */
export interface Position {
  source: string;
  line: number;
  offset: number;
}

/** The stage of the pipeline an error belongs to. */
export type Stage =
  | 'input'
  | 'frame'
  | 'tokenize'
  | 'transform'
  | 'serialize'
  | 'sink'
  | 'pipeline'
  | 'config';

export interface SluiceErrorOptions {
  stage?: Stage;
  position?: Position;
  cause?: unknown;
}

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  readonly code: ErrorCode;
  readonly stage: Stage;
  position: Position | undefined;

  constructor(code: ErrorCode, message?: string, options: SluiceErrorOptions = {}) {
    super(
      message ?? ERROR_CODES[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.stage = options.stage ?? 'pipeline';
    this.position = options.position;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** True for errors that concern one record, which an error policy may skip. */
  get isRecordError(): boolean {
    return ERROR_CODES[this.code].exit === 65;
  }

  /** `source:line: message [CODE]`, the form the CLI prints. */
  describe(): string {
    const where = this.position ? `${this.position.source}:${this.position.line}: ` : '';
    return `${where}${this.message} [${this.code}]`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, stage: this.stage, message: this.message, ...this.position };
  }
}

export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceError;
}

/** Wraps anything thrown by user or format code into a coded error at `stage`, keeping the cause. */
export function toSluiceError(e: unknown, code: ErrorCode, stage: Stage, position?: Position): SluiceError {
  if (e instanceof SluiceError) {
    if (position && !e.position) e.position = position;
    return e;
  }
  // An Error without a message (`new Error()`) falls back to the code's own message.
  const message = (e instanceof Error ? e.message : String(e)) || undefined;
  return new SluiceError(code, message, { stage, cause: e, ...(position ? { position } : {}) });
}
