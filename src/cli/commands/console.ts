import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { makeLoginCode } from '../../console/login-code.js';
import { toPlainError } from '../../errors/index.js';
import { HTTP_URL_FILE } from '../../http/daemon-http.js';
import { readHttpToken } from '../../http/token.js';
import { ExitCode } from '../exit-codes.js';
import { defaultDataDir } from '../paths.js';

/**
 * `agentd console`: prints a one-time sign-in URL for the web console of the daemon that
 * runs on this data dir with `--http`. The URL carries a signed, expiring code, not the
 * token; opening it sets the token cookie.
 */
async function consoleCommand(flags: { dataDir?: string }): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? defaultDataDir());
  let url: string;
  try {
    url = readFileSync(join(dataDir, HTTP_URL_FILE), 'utf8').trim();
  } catch {
    process.stderr.write(
      `agentd: no web console is running for ${dataDir}: start the daemon with an HTTP listener, e.g.\n  agentd run --bootstrap manifests/bootstrap.yaml --data-dir ${dataDir} --http 127.0.0.1:8787\n`,
    );
    return ExitCode.UNREACHABLE;
  }
  let token: string;
  try {
    token = readHttpToken(dataDir);
  } catch (err) {
    const plain = toPlainError(err);
    process.stderr.write(`agentd: ${plain.code}: ${plain.message}\n`);
    return ExitCode.FAILED;
  }
  try {
    const res = await fetch(`${url}/api/health`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    process.stderr.write(
      `agentd: the console at ${url} does not answer (${(err as Error).message}); is the daemon still running?\n`,
    );
    return ExitCode.UNREACHABLE;
  }
  process.stdout.write(`${url}/login?code=${makeLoginCode(token)}\n`);
  process.stderr.write(
    'agentd: open it within 10 minutes; it signs in once (run agentd console again for another browser)\n',
  );
  return ExitCode.OK;
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description(
      'print a one-time sign-in URL for the web console of the daemon on this data dir (started with --http)',
    )
    .option('--data-dir <dir>', 'the daemon data dir (env AAOS_DATA_DIR)')
    .action(async (opts: { dataDir?: string }) => {
      process.exitCode = await consoleCommand(opts);
    });
}
