// Running one benchmark job, shared by run.mjs and memory.mjs: a spawned process with
// stdout and stderr to files, wall time from process.hrtime around it, and, under GNU
// time, its peak RSS and CPU seconds.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

/**
 * Runs `argv` (`node` as argv[0] means this Node) in `cwd` with stdout to `out` and stderr
 * to `err`. With `stats` (a scratch file), runs it under GNU time and adds `rssMiB` and
 * `cpu` (user + sys) to `{ wall }`. Rejects, with the end of stderr, when it exits non-zero.
 */
export function timedRun(name, argv, { cwd, out, err, stats }) {
  const exe = argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv;
  const [cmd, ...args] = stats ? [GNU_TIME, '-f', '%M %U %S', '-o', stats, ...exe] : exe;
  // Flush the previous job's output to disk now, untimed, so its writeback does not land
  // inside this job's time. Truncating the old output (opening with 'w') is untimed too.
  spawnSync('sync');
  const outFd = openSync(out, 'w');
  const errFd = openSync(err, 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', outFd, errFd] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(outFd);
      closeSync(errFd);
      if (code !== 0) {
        reject(
          new Error(`${name} exited with ${code ?? signal}:\n${readFileSync(err, 'utf8').slice(-2000)}`),
        );
        return;
      }
      const run = { wall };
      if (stats) {
        const [kib, user, sys] = readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        Object.assign(run, { rssMiB: kib / 1024, cpu: user + sys });
      }
      resolve(run);
    });
  });
}

/** The SHA-256 of a file, or of the byte range `{ start, end }` (inclusive) of it. */
export async function sha256(path, range = {}) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, range)) h.update(chunk);
  return h.digest('hex');
}
