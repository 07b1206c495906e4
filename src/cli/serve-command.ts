/**
 * `sluice serve --config sluice.yaml [--listen host:port]`: runs the HTTP ingestion
 * server until SIGTERM or SIGINT, then shuts it down gracefully (every request
 * answered 200 has its events in the store) and exits 0. A second signal during the
 * shutdown exits at once with 130. Logs are JSON lines on stderr; the first says where
 * the server listens (`{"msg":"listening","url":"http://127.0.0.1:8080"}`).
 */
import type { Command } from 'commander';
import { SluiceError } from '../core/errors.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './exit.js';

export interface ServeFlags {
  config: string;
  listen?: string;
}

export function addServeCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command('serve')
    .description('run the HTTP ingestion server (see docs/reference/server.md)')
    .requiredOption('-c, --config <path>', 'the server config (YAML)')
    .option('--listen <host:port>', "listen here instead of the config's listen (port 0: any free port)")
    .action(async (flags: ServeFlags) => {
      setCode(await serve(flags));
    });
}

export async function serve(flags: ServeFlags): Promise<number> {
  // Loaded only for this command: `sluice --help` must not load the server or SQLite.
  const [
    { loadConfig, parseListenAddress, SluiceServer, stderrLog },
    { openPostgresStore, openSqliteStore, openThreadedSqliteStore },
  ] = await Promise.all([import('../server/index.js'), import('../audience/store/index.js')]);
  const config = await loadConfig(flags.config);
  const listen = flags.listen === undefined ? config.listen : parseListenAddress(flags.listen);
  const { thread, ...storeOptions } = config.storeOptions;
  const store =
    config.store.kind === 'postgres'
      ? await openPostgresStore(config.store.url)
      : await (thread ? openThreadedSqliteStore : openSqliteStore)(config.store.path, storeOptions);
  const server = new SluiceServer({ config, store, ownsStore: true, log: stderrLog });
  try {
    await server.listen(listen);
  } catch (e) {
    await server.close();
    const err = e as NodeJS.ErrnoException;
    throw new SluiceError(
      'SLUICE_E_USAGE',
      `cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}`,
      {
        stage: 'config',
        cause: e,
      },
    );
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        stderrLog('warn', 'second signal: exiting without finishing the shutdown', { signal });
        resolve(EXIT_INTERRUPTED);
        return;
      }
      stopping = true;
      stderrLog('info', 'signal received', { signal });
      server.close().then(
        () => resolve(EXIT_OK),
        (e) => {
          stderrLog('error', 'shutdown failed', { error: String(e) });
          resolve(EXIT_INTERRUPTED);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
