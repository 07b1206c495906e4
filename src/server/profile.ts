/**
 * `GET /debug/profile?seconds=N`: a CPU profile of the running server, taken with the
 * V8 inspector in this very process (`node:inspector` Session, no flag needed), for N
 * seconds while it serves its usual traffic. The answer is a `.cpuprofile` (JSON), which
 * Chrome DevTools, VS Code and speedscope open. One profile at a time.
 */
import { Session } from 'node:inspector';
import { HttpError } from './errors.js';

export const MAX_PROFILE_SECONDS = 300;

let running = false;

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

/** Parses `?seconds=`: a number in (0, 300], default 10. */
export function profileSeconds(raw: string | null): number {
  if (raw === null) return 10;
  const s = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(s) || s <= 0 || s > MAX_PROFILE_SECONDS) {
    throw new HttpError(
      'SLUICE_E_USAGE',
      `seconds: expected a number of seconds in (0, ${MAX_PROFILE_SECONDS}], got ${JSON.stringify(raw)}`,
    );
  }
  return s;
}

/**
 * Profiles the process for `seconds` and resolves with the profile's JSON text. An
 * abort (the server shutting down) ends the profile early; what was sampled is returned.
 * @throws HttpError 409 when a profile is already being taken.
 */
export async function cpuProfile(seconds: number, signal: AbortSignal): Promise<string> {
  if (running) throw new HttpError('SLUICE_E_CONFLICT', 'a CPU profile is already being taken');
  running = true;
  const session = new Session();
  try {
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      signal.addEventListener('abort', done);
    });
    const { profile } = await post<{ profile: unknown }>(session, 'Profiler.stop');
    return JSON.stringify(profile);
  } finally {
    session.disconnect();
    running = false;
  }
}
