/**
 * One JSON text per token. `JSON.stringify` alone would lose data without a word: it
 * writes `undefined` as nothing (or drops the property), `NaN` and `Infinity` as
 * `null`, a `Date` as a string, a `Map` as `{}`, and an array hole as `null`. So a
 * token is written only if it is plain JSON data, and anything that would not read back
 * as itself is a `SLUICE_E_SERIALIZE` error naming where it is
 * (`$.user.tags[2]: undefined is not a JSON value`).
 *
 * Accepted: `null`, booleans, finite numbers, strings (lone surrogates are escaped as
 * `\udXXX`, so they survive), arrays without holes, and objects whose prototype is
 * `Object.prototype` or `null`, neither with `toJSON`. `-0` is written as `0`, as JSON
 * has no negative zero. Symbol-keyed and non-enumerable properties are not data and
 * are not written.
 *
 * Two paths, one output: plain data nested up to 64 levels is written by
 * {@link FastJsonWriter} without JSON.stringify; anything else is stringified and then
 * checked (`findUnrepresentable`). Either way the text is exactly what JSON.stringify
 * writes (property-tested).
 */
import type { Serializer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import type { JsonValue } from './tokenizer.js';

export function createNdjsonSerializer(): Serializer<JsonValue> {
  const fast = new FastJsonWriter();
  return {
    serialize(token: JsonValue): string {
      const text = fast.write(token);
      if (text !== undefined) return text;
      return slowPath(token);
    },
  };
}

/** `JSON.stringify`, then the check that the text reads back as the token; every refusal named. */
function slowPath(token: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(token);
  } catch (e) {
    throw serializeError(stringifyFailure(token, e), e);
  }
  let problem: string | undefined;
  try {
    problem = findUnrepresentable(token);
  } catch (e) {
    throw serializeError(TOO_DEEP, e);
  }
  if (problem !== undefined || text === undefined) {
    throw serializeError(problem ?? '$: the value is not JSON', undefined);
  }
  return text;
}

const TOO_DEEP = 'the value is nested too deeply to write';

/** Characters a JSON string must escape, plus surrogates (a lone one must be escaped too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Whether JSON writes `v` as `"v"`, without escapes. Short strings (ids, names,
 * timestamps: most values) are scanned in a loop, which is cheaper than a RegExp call at
 * that length.
 */
function isPlainString(v: string): boolean {
  const n = v.length;
  if (n > 24) return !NEEDS_ESCAPE.test(v);
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

function quote(v: string): string {
  return isPlainString(v) ? `"${v}"` : JSON.stringify(v);
}

/**
 * The fast path, for tokens of plain data: strings, finite numbers, booleans, null,
 * arrays of them and objects of them, nested up to {@link MAX_DEPTH} levels (every CSV
 * or TSV row, every SegmentEvent, and what a transform typically makes of them, such as
 * `{ id, segments: [{ id, remove }] }`). Anything else (undefined, NaN, a Date, a class
 * instance, an array hole, `toJSON`, a BigInt, a cycle) returns undefined, and the
 * general path writes it or refuses it with its path, so the output is always exactly
 * what JSON.stringify writes.
 *
 * Objects are written by walking a trie of their keys in for-in order. Each node holds
 * its key's prefix (`{"id":`, `,"name":`) built once, also joined with what commonly
 * follows it (an opening quote, `true`, `false`, `null`) and, for when the previous
 * value was a string, preceded by that string's closing quote: a string value costs one
 * concatenation, a boolean or null none. The text is a rope of fewer, longer pieces,
 * which is also cheaper to encode later. An object's values that are objects (directly
 * or inside arrays) walk a trie of their own, hung from the key they sit under, so each
 * trie sees one shape over and over and its last-taken-child cache holds. The node
 * count is bounded: objects with ever-new keys (maps in disguise) take the general path.
 *
 * A key sequence a trie has walked {@link COMPILE_AFTER} times is compiled into a
 * function of its own ({@link compileShape}): it checks the keys in one for-in against
 * constants and reads each value by a constant name, which V8 caches per site, where
 * the walk reads `o[k]` with a variable key (a megamorphic lookup) and steps through
 * the trie. That made the objects of a reshaped CSV row (`{user_id, segments: [{id,
 * remove}…], timestamp}`) about 35% cheaper to write. A trie keeps a few shapes (events
 * with and without a `ttl`), the most used tried first; an object of none of them is
 * walked as before.
 */
export class FastJsonWriter {
  private readonly root: KeyNode = newNode('', true);
  private nodes = 0;

  write(token: unknown): string | undefined {
    return this.value(token, this.root, 0);
  }

  private value(v: unknown, home: KeyNode, depth: number): string | undefined {
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        // JSON writes a finite number as ToString does (and -0 as 0, as String does).
        return Number.isFinite(v) ? String(v) : undefined;
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        if (depth >= MAX_DEPTH) return undefined;
        return Array.isArray(v) ? this.array(v, home, depth + 1) : this.object(v, home, depth + 1);
      default:
        return undefined;
    }
  }

  private array(a: unknown[], home: KeyNode, depth: number): string | undefined {
    if (Object.getPrototypeOf(a) !== Array.prototype) return undefined;
    if (typeof (a as { toJSON?: unknown }).toJSON === 'function') return undefined;
    const n = a.length;
    if (n === 0) return '[]';
    // A hole reads as undefined, which value() refuses: the general path names it.
    let out = this.value(a[0], home, depth);
    if (out === undefined) return undefined;
    out = `[${out}`;
    for (let i = 1; i < n; i++) {
      const text = this.value(a[i], home, depth);
      if (text === undefined) return undefined;
      out += `,${text}`;
    }
    return `${out}]`;
  }

  /** `from`: the shapes before it were already tried on this token, and did not match. */
  private object(token: object, home: KeyNode, depth: number, from = 0): string | undefined {
    const proto = Object.getPrototypeOf(token);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const o = token as Record<string, unknown>;
    if (typeof o.toJSON === 'function') return undefined;
    const shapes = home.shapes;
    for (let i = from; i < shapes.length; i++) {
      const shape = shapes[i]!;
      const text = shape.write(o, depth);
      if (text === null) continue;
      // The most used first: a shape that does not match costs a for-in.
      if (i > 0 && shape.hits > shapes[i - 1]!.hits) {
        shapes[i] = shapes[i - 1]!;
        shapes[i - 1] = shape;
      }
      return text;
    }
    let node = home;
    let out = '';
    // The last value written was a string whose closing quote is not written yet.
    let open = false;
    // for-in visits own enumerable string keys in JSON.stringify's order (an object with
    // Object.prototype or null as prototype has no other enumerable keys to visit).
    for (const k in o) {
      let child = node.lastKey === k ? node.lastChild : node.children.get(k);
      if (child === undefined) {
        if (this.nodes >= MAX_KEY_NODES) return undefined;
        child = newNode(`${node.root ? '{' : ','}${JSON.stringify(k)}:`, false, k, node);
        node.children.set(k, child);
        this.nodes++;
      }
      node.lastKey = k;
      node.lastChild = child;
      node = child;
      const v = o[k];
      switch (typeof v) {
        case 'string':
          if (isPlainString(v)) {
            out += (open ? child.closeQuoteOpen : child.quoteOpen) + v;
            open = true;
            continue;
          }
          out += (open ? child.closePrefix : child.prefix) + JSON.stringify(v);
          break;
        case 'boolean':
          out += open ? (v ? child.closeTrue : child.closeFalse) : v ? child.true : child.false;
          break;
        case 'object': {
          if (v === null) {
            out += open ? child.closeNull : child.null;
            break;
          }
          const inner = this.innerOf(child);
          if (inner === undefined) return undefined;
          const text = this.value(v, inner, depth);
          if (text === undefined) return undefined;
          out += (open ? child.closePrefix : child.prefix) + text;
          break;
        }
        default: {
          const text = this.value(v, home, depth);
          if (text === undefined) return undefined;
          out += (open ? child.closePrefix : child.prefix) + text;
        }
      }
      open = false;
    }
    if (node === home) return '{}';
    if (++node.walks === COMPILE_AFTER && home.compiles < MAX_COMPILES) {
      home.compiles++;
      const shape = compileShape(node, this);
      // When all places are taken, the new shape replaces the least used (the last).
      if (shape !== undefined) home.shapes[Math.min(home.shapes.length, MAX_SHAPES - 1)] = shape;
    }
    return open ? `${out}"}` : `${out}}`;
  }

  /** The trie for objects under `node`'s key, made on first use; undefined past the node limit. */
  private innerOf(node: KeyNode): KeyNode | undefined {
    if (node.inner === undefined) {
      if (this.nodes >= MAX_KEY_NODES) return undefined;
      node.inner = newNode('', true);
      this.nodes++;
    }
    return node.inner;
  }

  /**
   * An array value of a compiled shape, written as {@link field} writes it, in one call: its
   * objects go straight to their trie's shapes. Through `field` an array of n objects took
   * 2n + 3 calls that each checked the value's type again; the segments of a reshaped CSV
   * row (`[{id, remove}…]`) are most of what its shape writes.
   */
  arrayField(a: unknown[], node: KeyNode, depth: number): string | undefined {
    // The depths `field` → value → array → value → object would pass on.
    if (depth >= MAX_DEPTH) return undefined;
    const inner = this.innerOf(node);
    if (inner === undefined) return undefined;
    if (Object.getPrototypeOf(a) !== Array.prototype) return undefined;
    if (typeof (a as { toJSON?: unknown }).toJSON === 'function') return undefined;
    const n = a.length;
    if (n === 0) return '[]';
    const d = depth + 1;
    let out = '[';
    for (let i = 0; i < n; i++) {
      const e = a[i];
      let text: string | undefined;
      if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
        if (d >= MAX_DEPTH) return undefined;
        // The trie's most used shape first, as object() would try it, without its dispatch.
        const first = inner.shapes[0];
        const tried =
          first !== undefined &&
          Object.getPrototypeOf(e) === Object.prototype &&
          typeof (e as { toJSON?: unknown }).toJSON !== 'function';
        const known = tried ? first.write(e as Record<string, unknown>, d + 1, i > 0) : null;
        if (known !== null) {
          // Its text starts with the separator.
          if (known === undefined) return undefined;
          out += known;
          continue;
        }
        // Not that shape (or not checked); undefined from a shape is a value the fast path refuses.
        text = this.object(e, inner, d + 1, tried ? 1 : 0);
      } else {
        // A hole reads as undefined, which value() refuses: the general path names it.
        text = this.value(e, inner, d);
      }
      if (text === undefined) return undefined;
      out += i === 0 ? text : `,${text}`;
    }
    return `${out}]`;
  }

  /**
   * A value of a compiled shape that is not a plain string, a boolean or a finite number, written as the
   * walk writes it: objects under `node`'s key go to that key's trie.
   */
  field(v: unknown, node: KeyNode, depth: number): string | undefined {
    if (typeof v === 'string') return quote(v);
    if (typeof v === 'object' && v !== null) {
      const inner = this.innerOf(node);
      return inner === undefined ? undefined : this.value(v, inner, depth);
    }
    return this.value(v, node, depth);
  }
}

/** Walks of one key sequence before it is compiled. */
const COMPILE_AFTER = 16;
/** Shapes a trie keeps at a time. */
const MAX_SHAPES = 4;
/** Shapes compiled per trie in all, so objects that change shape all the time stay on the walk. */
const MAX_COMPILES = 8;

/** A compiled writer for objects of one key sequence. */
interface Shape {
  /**
   * The object's JSON text; undefined when a value is not plain data; null when `o` has
   * other keys. With `comma`, the text starts with `,` (an array element after the first).
   */
  write(o: Record<string, unknown>, depth: number, comma?: boolean): string | null | undefined;
  hits: number;
}

/**
 * Compiles the writer for the key sequence that ends at `leaf` (see
 * {@link FastJsonWriter}). Keys go into the code as JSON string literals, which are
 * JavaScript string literals too, so no key can change the code. Where code cannot be
 * generated (`--disallow-code-generation-from-strings`), objects keep being walked.
 */
function compileShape(leaf: KeyNode, writer: FastJsonWriter): Shape | undefined {
  const nodes: KeyNode[] = [];
  for (let n: KeyNode | undefined = leaf; n !== undefined && !n.root; n = n.parent) nodes.unshift(n);
  const lit = (text: string): string => JSON.stringify(text);
  const code: string[] = ['let i = 0;', 'for (const k in o) {', 'switch (i++) {'];
  nodes.forEach((n, i) => {
    code.push(`case ${i}: if (k !== ${lit(n.key)}) return null; break;`);
  });
  code.push('default: return null;', '}', '}', `if (i !== ${nodes.length}) return null;`);
  code.push("let out = '';", 'let open = false;', 'let t;');
  nodes.forEach((n, i) => {
    const v = `v${i}`;
    // The piece that goes before a value: after a string value, the one that closes its
    // quote first. The first value follows no other, but `comma` asks for the `,` an
    // array writes before every element but its first: one piece fewer in the output's
    // rope per element, to build and later to flatten when it is encoded.
    const pick = (afterString: string, otherwise: string): string =>
      i === 0
        ? `(comma ? ${lit(`,${otherwise}`)} : ${lit(otherwise)})`
        : `(open ? ${lit(afterString)} : ${lit(otherwise)})`;
    // A last boolean ends the object in the same concatenation (the `remove` of a
    // reshaped row's segments): again one piece fewer.
    const bool = (afterString: string, otherwise: string): string =>
      i === nodes.length - 1
        ? `{ shape.hits++; return out + ${pick(`${afterString}}`, `${otherwise}}`)}; }`
        : `{ out += ${pick(afterString, otherwise)}; open = false; }`;
    code.push(
      `const ${v} = o[${lit(n.key)}];`,
      `if (typeof ${v} === 'string' && plain(${v})) { out += ${pick(n.closeQuoteOpen, n.quoteOpen)} + ${v}; open = true; }`,
      `else if (${v} === true) ${bool(n.closeTrue, n.true)}`,
      `else if (${v} === false) ${bool(n.closeFalse, n.false)}`,
      // JSON writes a finite number as String does (-0 as 0); other numbers are refused below.
      `else if (typeof ${v} === 'number' && Number.isFinite(${v})) { out += ${pick(n.closePrefix, n.prefix)} + String(${v}); open = false; }`,
      `else if ((t = Array.isArray(${v}) ? arr(${v}, N[${i}], depth) : field(${v}, N[${i}], depth)) === undefined) return undefined;`,
      `else { out += ${pick(n.closePrefix, n.prefix)} + t; open = false; }`,
    );
  });
  code.push('shape.hits++;', `return open ? out + '"}' : out + '}';`);
  let write: Shape['write'];
  const shape: Shape = { write: () => null, hits: 0 };
  try {
    write = new Function(
      'plain',
      'field',
      'arr',
      'N',
      'shape',
      `return function writeShape(o, depth, comma) {\n${code.join('\n')}\n};`,
    )(isPlainString, writer.field.bind(writer), writer.arrayField.bind(writer), nodes, shape);
  } catch {
    return undefined;
  }
  shape.write = write;
  return shape;
}

/** Deeper values take the general path (JSON.stringify has its own, larger limit). */
const MAX_DEPTH = 64;
const MAX_KEY_NODES = 4096;

interface KeyNode {
  /** `{"key":` for a first key, `,"key":` after another. */
  prefix: string;
  /** The prefix with what commonly follows it, and each after a string's closing quote. */
  quoteOpen: string;
  true: string;
  false: string;
  null: string;
  closePrefix: string;
  closeQuoteOpen: string;
  closeTrue: string;
  closeFalse: string;
  closeNull: string;
  /** A trie root: its children's prefixes open the object. */
  root: boolean;
  children: Map<string, KeyNode>;
  lastKey: string | undefined;
  lastChild: KeyNode | undefined;
  /** The trie for objects found under this key. */
  inner: KeyNode | undefined;
  /** The key this node stands for, and the node before it (for {@link compileShape}). */
  key: string;
  parent: KeyNode | undefined;
  /** Objects whose last key ended the walk here. */
  walks: number;
  /** On a trie root: its compiled shapes, the most used first, and how many it has compiled. */
  shapes: Shape[];
  compiles: number;
}

function newNode(prefix: string, root: boolean, key = '', parent?: KeyNode): KeyNode {
  const close = `"${prefix}`;
  return {
    prefix,
    quoteOpen: `${prefix}"`,
    true: `${prefix}true`,
    false: `${prefix}false`,
    null: `${prefix}null`,
    closePrefix: close,
    closeQuoteOpen: `${close}"`,
    closeTrue: `${close}true`,
    closeFalse: `${close}false`,
    closeNull: `${close}null`,
    root,
    children: new Map(),
    lastKey: undefined,
    lastChild: undefined,
    inner: undefined,
    key,
    parent,
    walks: 0,
    shapes: [],
    compiles: 0,
  };
}

/** Turns what `JSON.stringify` threw into a reason with a path where one can be found. */
function stringifyFailure(token: unknown, e: unknown): string {
  if (e instanceof RangeError) return TOO_DEEP;
  const message = e instanceof Error ? e.message : String(e);
  if (/circular/i.test(message)) return 'the value contains a circular reference';
  try {
    // A BigInt, most likely: find it for the message.
    return findUnrepresentable(token) ?? message;
  } catch {
    return message;
  }
}

function serializeError(reason: string, cause: unknown): SluiceError {
  return new SluiceError('SLUICE_E_SERIALIZE', `cannot write as JSON: ${reason}`, {
    stage: 'serialize',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Where `value` stops being plain JSON data, as `$.path: reason`, or undefined.
 * Called after `JSON.stringify` succeeded, so the value has no cycle and no BigInt.
 */
export function findUnrepresentable(value: unknown): string | undefined {
  const r = check(value);
  return r === undefined ? undefined : `$${r.path.reverse().join('')}: ${r.reason}`;
}

interface Problem {
  /** Path segments, innermost first (built while unwinding). */
  path: string[];
  reason: string;
}

function check(v: unknown): Problem | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : { path: [], reason: `${v} is not a JSON number` };
    case 'object': {
      if (v === null) return undefined;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) {
          return { path: [], reason: `${constructorName(v)} is not a plain array` };
        }
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
          return { path: [], reason: 'an array with toJSON would not read back as itself' };
        }
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          const r =
            x === undefined && !(i in v)
              ? { path: [], reason: 'an array hole is not a JSON value' }
              : check(x);
          if (r) {
            r.path.push(`[${i}]`);
            return r;
          }
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        return {
          path: [],
          reason: `${constructorName(v)} is not a JSON value (convert it to plain data first)`,
        };
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
        return { path: [], reason: 'an object with toJSON would not read back as itself' };
      }
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const r = check(o[k]);
        if (r) {
          r.path.push(/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
          return r;
        }
      }
      return undefined;
    }
    default:
      return { path: [], reason: `${v === undefined ? 'undefined' : `a ${typeof v}`} is not a JSON value` };
  }
}

function constructorName(v: object): string {
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
}
