#!/usr/bin/env node
/** The `sluice` executable: guard stdio, write a piped stdout as a filter does, run the command line, exit with its code. */
import { describeFailure, exitProcess, guardStdio, isDebug } from './exit.js';
import { runCli } from './program.js';
import { blockingWhenPipe } from './stdout-pipe.js';

guardStdio();
blockingWhenPipe();
let code: number;
try {
  code = await runCli(process.argv.slice(2));
} catch (e) {
  // runCli reports every error it expects; this is a bug, reported as one.
  const failure = describeFailure(e, isDebug());
  for (const line of failure.lines) process.stderr.write(`${line}\n`);
  code = failure.code;
}
await exitProcess(code);
