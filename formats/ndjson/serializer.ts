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
 * The fast path for the commonest token: a flat object of strings with the same keys as
 * the previous one (every row of a CSV or TSV input). Key prefixes (`{"id":`, `,"name":`)
 * are built once per key set and strings are quoted without a JSON.stringify call unless
 * they need escaping. Anything else returns undefined and takes the general path, so
 * the output is always exactly what JSON.stringify writes.
 */
export class FlatObjectWriter {
  private keys: string[] = [];
  private prefixes: string[] = [];

  write(token: unknown, mayLearn = true): string | undefined {
    if (typeof token !== 'object' || token === null || Array.isArray(token)) return undefined;
    const proto = Object.getPrototypeOf(token);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const o = token as Record<string, unknown>;
    if (typeof o.toJSON === 'function') return undefined;
    const { keys, prefixes } = this;
    let out = '';
    let i = 0;
    // for-in visits own enumerable string keys in JSON.stringify's order (an object with
    // Object.prototype or null as prototype has no other enumerable keys to visit).
    for (const k in o) {
      const v = o[k];
      if (typeof v !== 'string') return undefined;
      if (keys[i] !== k) return mayLearn ? this.learn(o) : undefined;
      out += prefixes[i]! + quote(v);
      i++;
    }
    if (i !== keys.length) return mayLearn ? this.learn(o) : undefined;
    return i === 0 ? '{}' : `${out}}`;
  }

  /** Adopts `o`'s keys as the expected key set, then writes it. */
  private learn(o: Record<string, unknown>): string | undefined {
    const keys = Object.keys(o);
    if (keys.length === 0) return '{}';
    this.keys = keys;
    this.prefixes = keys.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
    return this.write(o, false);
  }
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
