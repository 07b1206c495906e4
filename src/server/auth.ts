/**
 * API keys: making them, hashing them, and finding the principal a request's
 * `Authorization: Bearer <key>` belongs to. Only SHA-256 hashes of keys are ever
 * stored (in the config); a key is compared in constant time and never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PrincipalConfig } from './config.js';
import { HttpError } from './errors.js';

/** The prefix of keys `sluice keys new` makes: it lets secret scanners recognise a leaked key. */
export const KEY_PREFIX = 'sk_sluice_';

/** A fresh key: 32 random bytes (256 bits), base64url, with {@link KEY_PREFIX}. */
export function newKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The line to put in the config: `sha256:<64 hex>`. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A principal as the handlers see it, after authentication. */
export interface Principal {
  readonly id: string;
  readonly config: PrincipalConfig;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Finds principals by key. Every configured hash is compared with
 * `crypto.timingSafeEqual`, and all of them are compared on every call (no early
 * exit), so the time taken does not depend on how close a guess came to any key.
 */
export class Authenticator {
  private readonly hashes: { digest: Buffer; principal: Principal }[] = [];

  constructor(principals: readonly PrincipalConfig[]) {
    for (const config of principals) {
      const principal: Principal = { id: config.id, config };
      for (const k of config.keys) {
        this.hashes.push({ digest: Buffer.from(k.slice('sha256:'.length), 'hex'), principal });
      }
    }
  }

  /** The principal whose key this is, or undefined. */
  byKey(key: string): Principal | undefined {
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: Principal | undefined;
    for (const h of this.hashes) {
      if (timingSafeEqual(h.digest, digest) && found === undefined) found = h.principal;
    }
    return found;
  }

  /**
   * The principal making `req`, from its headers alone (no body byte is read).
   * @throws HttpError 401 with `WWW-Authenticate: Bearer` when the key is missing or unknown.
   */
  authenticate(req: IncomingMessage): Principal {
    const header = req.headers.authorization;
    const m = header === undefined ? null : BEARER.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="sluice"' };
    if (!m) {
      throw new HttpError(
        'SLUICE_E_UNAUTHENTICATED',
        header === undefined
          ? 'missing Authorization header: expected "Authorization: Bearer <key>"'
          : 'malformed Authorization header: expected "Bearer <key>"',
        { headers: challenge },
      );
    }
    const principal = this.byKey(m[1]!);
    if (!principal)
      throw new HttpError('SLUICE_E_UNAUTHENTICATED', 'unknown API key', { headers: challenge });
    return principal;
  }
}
