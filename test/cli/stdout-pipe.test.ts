/**
 * `blockingWhenPipe` on real sockets in this process: it clears O_NONBLOCK on a socket
 * that is only the output, and leaves alone one that is the input too (inetd and
 * `socat EXEC:` give one socket as stdin and stdout: blocking its writes would block
 * its reads). The executable's own use of it is in pipes.test.ts.
 */
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { connect, createServer, type Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { blockingWhenPipe } from '../../src/cli/stdout-pipe.js';
import { nonBlocking } from './helpers.js';

const open: (Socket | Server)[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s instanceof Socket ? s.destroy() : s.close();
});

/** A connected TCP client socket and its descriptor. */
async function socket(): Promise<{ sock: Socket; fd: number }> {
  const server = createServer((peer) => open.push(peer));
  open.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sock = connect((server.address() as { port: number }).port, '127.0.0.1');
  open.push(sock);
  await once(sock, 'connect');
  const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
  return { sock, fd };
}

describe.skipIf(process.platform !== 'linux')('blockingWhenPipe', () => {
  it('makes a socket that is only the output blocking', async () => {
    const out = await socket();
    const input = await socket();
    expect(nonBlocking('self', out.fd)).toBe(true);
    expect(blockingWhenPipe(out.sock as unknown as NodeJS.WriteStream, out.fd, input.fd)).toBe(true);
    expect(nonBlocking('self', out.fd)).toBe(false);
    expect(nonBlocking('self', input.fd)).toBe(true);
  });

  it('leaves a socket that is the input too as it is', async () => {
    const both = await socket();
    expect(blockingWhenPipe(both.sock as unknown as NodeJS.WriteStream, both.fd, both.fd)).toBe(false);
    expect(nonBlocking('self', both.fd)).toBe(true);
  });

  it('leaves a file, or a descriptor it cannot stat, alone', () => {
    const fd = openSync(fileURLToPath(import.meta.url), 'r');
    try {
      expect(blockingWhenPipe(process.stdout, fd, 0)).toBe(false);
    } finally {
      closeSync(fd);
    }
    expect(blockingWhenPipe(process.stdout, 99_999, 0)).toBe(false);
  });
});
