import { Readable, Writable } from 'node:stream';
import { defineFormat } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { streamInput } from '../../src/core/sources.js';

/** A minimal format: each line is a token; a line equal to `bad` is rejected. */
export const lines = defineFormat<string, { bad: string }>({
  name: 'lines',
  description: 'one string per line',
  mediaTypes: ['text/plain'],
  extensions: ['txt'],
  options: { bad: { type: 'string', description: 'a line to reject', default: 'BAD' } },
  tokenizer: (o) => ({
    tokenize(record, at, out) {
      if (record === o.bad) throw new SluiceError('SLUICE_E_VALIDATION', `line ${at.line} is bad`);
      if (record !== '') out.push(record);
    },
  }),
  serializer: () => ({ serialize: (s) => s }),
});

/** An in-memory input delivering `chunks` in order. */
export function memoryInput(source: string, chunks: readonly (string | Uint8Array)[]) {
  return streamInput(
    Readable.from(
      chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))),
      { objectMode: false },
    ),
    source,
  );
}

/** A Writable that collects everything written to it as one string. */
export function collector(): Writable & { text(): string } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(parts).toString('utf8') });
}
