#!/usr/bin/env node
import { CommanderError } from 'commander';
import { disableColor } from './color.js';
import { ExitCode } from './exit-codes.js';
import { unsupportedNode } from './node-version.js';
import { buildProgram } from './program.js';

const refusal = unsupportedNode();
if (refusal) {
  process.stderr.write(`${refusal}\n`);
  process.exit(ExitCode.FAILED);
}

// `agentd logs … | head`: a reader that goes away ends the command quietly, not with a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.OK);
  throw err;
});

const program = buildProgram();

// --no-color is accepted anywhere, like NO_COLOR
const argv = process.argv.filter((arg) => arg !== '--no-color');
if (argv.length !== process.argv.length) disableColor();

program.parseAsync(argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // help and --version "exit" with 0; everything else is a usage error
    process.exitCode = err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    return;
  }
  process.stderr.write(`agentd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = ExitCode.FAILED;
});
