/**
 * ndjson (JSON Lines): one JSON value per line. See README.md.
 */
import { defineFormat } from '../../src/core/contracts.js';
import { createCanonicalChecker } from './canonical.js';
import { createNdjsonSerializer } from './serializer.js';
import { createNdjsonTokenizer, type JsonValue, type NdjsonOptions } from './tokenizer.js';

export { createCanonicalChecker, isCanonicalJson } from './canonical.js';
export { createNdjsonSerializer } from './serializer.js';
export type { JsonValue, NdjsonOptions } from './tokenizer.js';
export { createNdjsonTokenizer } from './tokenizer.js';

const ndjson = defineFormat<JsonValue, NdjsonOptions>({
  name: 'ndjson',
  description: 'Newline-delimited JSON (JSON Lines): one JSON value (RFC 8259) per line',
  mediaTypes: ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'],
  extensions: ['ndjson', 'jsonl'],
  parallel: true,
  tokenizer: () => createNdjsonTokenizer(),
  serializer: () => createNdjsonSerializer(),
  // Lines already as JSON.stringify writes them are copied through (ADR 0008).
  canonical: () => createCanonicalChecker(),
});

export default ndjson;

/** Example inputs: every kind of JSON value, blank lines, CRLF, escapes and non-ASCII text. */
export const samples: string[] = [
  '{"ns":"acme","uid":"u1","seg":"sports","op":"add","ts":1714564800000,"ttl":86400}\n' +
    '{"ns":"acme","uid":"u2","seg":"*","op":"remove","ts":1714564801000}\n',
  '[1,2,3]\n"a string"\n-12.5e-3\ntrue\nfalse\nnull\n{}\n[]\n',
  '\n   \n\t\n{"nested":{"deep":[1,{"x":null}]}}\r\n{"last":"no newline at the end"}',
  '{"emoji":"😀","escaped":"\\u00e9\\ud83d\\ude00","slash":"a\\/b","ctl":"\\t\\n"}\n',
];
