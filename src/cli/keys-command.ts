/**
 * `sluice keys new` and `sluice keys hash`: API keys for `sluice serve`. The server
 * stores only SHA-256 hashes of keys; `new` prints a fresh key (once: it is not kept
 * anywhere) and the `sha256:` line to paste into a principal's `keys:` in the config.
 */
import type { Command } from 'commander';
import { SluiceError } from '../core/errors.js';
import { hashKey, newKey } from '../server/auth.js';
import { EXIT_OK } from './exit.js';

function print(text: string): Promise<number> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve(EXIT_OK)));
}

/** Reads all of stdin as text. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function addKeysCommand(program: Command, setCode: (code: number) => void): void {
  const keys = program.command('keys').description('make and hash API keys for sluice serve');
  keys
    .command('new')
    .description('print a fresh random API key (shown once) and the sha256: line for the config')
    .option('--json', 'print {"key", "hash"} as JSON')
    .action(async (flags: { json?: boolean }) => {
      const key = newKey();
      const hash = hashKey(key);
      if (flags.json) {
        setCode(await print(`${JSON.stringify({ key, hash })}\n`));
        return;
      }
      process.stderr.write(
        'The first line is the key: give it to the client now, it is not stored anywhere.\n' +
          "The second line goes in the principal's keys: list in sluice.yaml.\n",
      );
      setCode(await print(`${key}\n${hash}\n`));
    });
  keys
    .command('hash')
    .description('read a key on stdin and print its sha256: line (to re-derive a lost config line)')
    .action(async () => {
      const key = (await readStdin()).trim();
      if (key === '' || /\s/.test(key)) {
        throw new SluiceError('SLUICE_E_USAGE', 'keys hash: expected one key on stdin', { stage: 'config' });
      }
      setCode(await print(`${hashKey(key)}\n`));
    });
}
