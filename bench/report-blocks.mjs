// Sections of bench/RESULTS.md that other scripts own, between marker lines:
//
//   <!-- serve:begin -->   (bench/serve.mjs)
//   …
//   <!-- serve:end -->
//
// run.mjs rewrites the report and copies every such block verbatim to its end; a script
// that owns a block replaces only its own (replaceBlock).

const BLOCK = /^<!-- ([a-z][\w-]*):begin -->$[\s\S]*?^<!-- \1:end -->$/gm;

/** Every complete block in `text`, verbatim, each after a blank line: '' when there is none. */
export function keptBlocks(text) {
  return [...text.matchAll(BLOCK)].map((m) => `\n${m[0]}\n`).join('');
}

/** `text` with the block `name` replaced by `body` (which includes its marker lines), or with it appended. */
export function replaceBlock(text, name, body) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  return a >= 0 && b > a
    ? `${text.slice(0, a)}${body}${text.slice(b + end.length)}`
    : `${text.trimEnd()}\n\n${body}\n`;
}
