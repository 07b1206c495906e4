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
  return {
    serialize(token: JsonValue): string {
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
