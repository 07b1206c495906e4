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

  private object(token: object, home: KeyNode, depth: number): string | undefined {
    const proto = Object.getPrototypeOf(token);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const o = token as Record<string, unknown>;
    if (typeof o.toJSON === 'function') return undefined;
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
        child = newNode(`${node.root ? '{' : ','}${JSON.stringify(k)}:`, false);
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
          if (child.inner === undefined) {
            if (this.nodes >= MAX_KEY_NODES) return undefined;
            child.inner = newNode('', true);
            this.nodes++;
          }
          const text = this.value(v, child.inner, depth);
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
    return node === home ? '{}' : open ? `${out}"}` : `${out}}`;
  }
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
}

function newNode(prefix: string, root: boolean): KeyNode {
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
