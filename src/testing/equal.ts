/**
 * Token equality for the laws: `util.isDeepStrictEqual`, except that a plain object
 * with a null prototype equals one with `Object.prototype` (fast-check's `record` and
 * `dictionary` make both; a token is data, and its prototype is not). Everything else
 * is strict: `-0` is not `0`, `'1'` is not `1`, a Date is not a plain object.
 */
import { isDeepStrictEqual } from 'node:util';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in b || !sameData(a[i], b[i])) return false;
    }
    return Object.keys(a).length === Object.keys(b).length;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !sameData(a[k], b[k])) return false;
    }
    return true;
  }
  return isDeepStrictEqual(a, b);
}
