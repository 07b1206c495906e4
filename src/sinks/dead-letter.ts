/**
 * The dead letter: rejected records, one JSON object per line, with everything needed
 * to find and replay them (source, line, byte offset, code, stage, message, text).
 */
import type { Rejection, Sink } from '../core/contracts.js';

/** Wraps a byte sink so that it takes rejections and writes them as NDJSON. */
export function deadLetterSink(bytes: Sink<string | Uint8Array>): Sink<Rejection> {
  return {
    name: `dead-letter(${bytes.name})`,
    write(batch, signal) {
      let text = '';
      for (const r of batch) text += `${JSON.stringify(deadLetterRecord(r))}\n`;
      return bytes.write([text], signal);
    },
    close: () => bytes.close(),
  };
}

/** The stable, documented shape of a dead-letter line. */
export function deadLetterRecord(r: Rejection): Record<string, unknown> {
  return {
    source: r.source,
    line: r.line,
    offset: r.offset,
    code: r.code,
    stage: r.stage,
    message: r.message,
    ...(r.record !== undefined ? { record: r.record } : {}),
  };
}
