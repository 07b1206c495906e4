/**
 * A URL for messages: `postgres://user:secret@host/db` without its password. A string
 * that does not parse is shown as its scheme only (`postgres://…`), since where the
 * password ends cannot be known.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
    return `${scheme ?? ''}…`;
  }
}
