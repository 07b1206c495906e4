/**
 * One JSON text per token. `JSON.stringify` alone would lose data without a word: it
 * writes `undefined` as nothing (or drops the property), `NaN` and `Infinity` as
 * `null`, a `Date` as a string, a `Map` as `{}`, and an array hole as `null`. So after
 * stringifying, the token is checked to be plain JSON data, and anything that would
 * not read back as itself is a `SLUICE_E_SERIALIZE` error naming where it is
 * (`$.user.tags[2]: undefined is not a JSON value`).
 *
 * Accepted: `null`, booleans, finite numbers, strings (lone surrogates are escaped as
 * `\udXXX`, so they survive), arrays without holes, and objects whose prototype is
 * `Object.prototype` or `null`, without `toJSON`. `-0` is written as `0`, as JSON
 * has no negative zero. Symbol-keyed and non-enumerable properties are not data and
 * are not written.
 */
import type { Serializer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import type { JsonValue } from './tokenizer.js';

export function createNdjsonSerializer(): Serializer<JsonValue> {
  const flat = new FlatObjectWriter();
  return {
    serialize(token: JsonValue): string {
      const fast = flat.write(token);
      if (fast !== undefined) return fast;
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
    },
  };
}

const TOO_DEEP = 'the value is nested too deeply to write';

/** Characters a JSON string must escape, plus surrogates (a lone one must be escaped too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(v: string): string {
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/**
 * The fast path for the commonest tokens: flat objects of strings, finite numbers,
 * booleans and nulls (every row of a CSV or TSV input, every SegmentEvent). Key
 * prefixes (`{"id":`, `,"name":`) are built once per key sequence, in a trie walked in
 * for-in order, so rows whose optional keys come and go share the work; strings are
 * quoted without a JSON.stringify call unless they need escaping. Anything else returns
 * undefined and takes the general path, so the output is always exactly what
 * JSON.stringify writes.
 */
export class FlatObjectWriter {
  private readonly root: KeyNode = newNode('');
  private nodes = 0;

  write(token: unknown): string | undefined {
    if (typeof token !== 'object' || token === null || Array.isArray(token)) return undefined;
    const proto = Object.getPrototypeOf(token);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const o = token as Record<string, unknown>;
    if (typeof o.toJSON === 'function') return undefined;
    let node = this.root;
    let out = '';
    // for-in visits own enumerable string keys in JSON.stringify's order (an object with
    // Object.prototype or null as prototype has no other enumerable keys to visit).
    for (const k in o) {
      const v = o[k];
      let text: string;
      switch (typeof v) {
        case 'string':
          text = quote(v);
          break;
        case 'number':
          // JSON writes a finite number as ToString does (and -0 as 0, as String does).
          if (!Number.isFinite(v)) return undefined;
          text = String(v);
          break;
        case 'boolean':
          text = v ? 'true' : 'false';
          break;
        case 'object':
          if (v !== null) return undefined;
          text = 'null';
          break;
        default:
          return undefined;
      }
      let child = node.lastKey === k ? node.lastChild : node.children.get(k);
      if (child === undefined) {
        // Bounded: objects with ever-new keys (maps in disguise) take the general path.
        if (this.nodes >= MAX_KEY_NODES) return undefined;
        child = newNode(`${node === this.root ? '{' : ','}${JSON.stringify(k)}:`);
        node.children.set(k, child);
        this.nodes++;
      }
      node.lastKey = k;
      node.lastChild = child;
      out += child.prefix + text;
      node = child;
    }
    return node === this.root ? '{}' : `${out}}`;
  }
}

const MAX_KEY_NODES = 4096;

interface KeyNode {
  prefix: string;
  children: Map<string, KeyNode>;
  lastKey: string | undefined;
  lastChild: KeyNode | undefined;
}

function newNode(prefix: string): KeyNode {
  return { prefix, children: new Map(), lastKey: undefined, lastChild: undefined };
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
