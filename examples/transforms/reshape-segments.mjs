/**
 * A sluice transform: a CSV row's `segments` field, `;`-separated ids where a leading
 * `-` marks a removal, becomes an array of `{ id, remove }` objects. Every other field
 * is kept as the CSV gives it (strings), in its place:
 *
 *   {"user_id":"u1","segments":"seg1;-seg2","timestamp":"1700000000"}
 *   → {"user_id":"u1","segments":[{"id":"seg1","remove":false},{"id":"seg2","remove":true}],"timestamp":"1700000000"}
 *
 * Empty pieces are skipped (`""` → `[]`, `"a;;b"` → two segments); a lone `-` is
 * `{"id":"","remove":true}`. A row without a string `segments` field is rejected (the
 * error goes through `--on-error`).
 *
 *   sluice -f csv -t ndjson --transform examples/transforms/reshape-segments.mjs users.csv
 *
 * The pieces are cut with `indexOf` rather than `split(';')`, which would allocate an
 * array and a string per piece only to copy them: on 2M rows that is ~0.5 s of CPU
 * (the same output). bench/naive.mjs --reshape calls this module; bench/handwritten.mjs
 * applies the same rules, and bench/corpus.mjs computes the expected output from its
 * own data.
 */
export default function reshapeSegments(row) {
  const field = row.segments;
  if (typeof field !== 'string') throw new TypeError('segments: expected a ;-separated string');
  const segments = [];
  let from = 0;
  while (from <= field.length) {
    let end = field.indexOf(';', from);
    if (end < 0) end = field.length;
    if (end > from) {
      segments.push(
        field.charCodeAt(from) === 45 /* - */
          ? { id: field.slice(from + 1, end), remove: true }
          : { id: field.slice(from, end), remove: false },
      );
    }
    from = end + 1;
  }
  return { ...row, segments };
}
