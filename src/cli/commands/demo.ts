import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../../config/built-path.js';

const DEMO_GOAL = 'Write a short report on the bike-share pilot from the files in the inbox, with recommendations.';

/**
 * `agentd demo`: the offline showcase. Prepares a data dir with sample inbox files,
 * pipes one goal into `agentd run --stdin` on the scripted model, then shows where
 * the report is.
 */
async function demoCommand(flags: { dataDir?: string; json?: boolean }): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? join(process.cwd(), '.aaos-demo'));
  rmSync(join(dataDir, 'workspace'), { recursive: true, force: true });
  mkdirSync(join(dataDir, 'inbox'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'manifests', 'demo', 'inbox'), join(dataDir, 'inbox'), { recursive: true });
  const agentd = fileURLToPath(new URL('../agentd.js', import.meta.url));
  const args = [
    agentd,
    'run',
    '--bootstrap',
    join(PROJECT_ROOT, 'manifests', 'bootstrap.yaml'),
    '--data-dir',
    dataDir,
    '--stdin',
    ...(flags.json ? ['--json'] : []),
  ];
  process.stderr.write(`demo: piping one goal into: agentd ${args.slice(1).join(' ')}\n`);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'inherit', 'inherit'], env: process.env });
  child.stdin.end(`${DEMO_GOAL}\n`);
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? 1)));
  if (code !== 0) {
    process.stderr.write(`demo: agentd exited with code ${code}\n`);
    return code;
  }
  const workspaces = join(dataDir, 'workspace');
  const runs = existsSync(workspaces) ? readdirSync(workspaces) : [];
  const report = runs.map((r) => join(workspaces, r, 'report.md')).find((p) => existsSync(p));
  if (!report) {
    process.stderr.write(`demo: no report.md was written under ${workspaces}\n`);
    return 1;
  }
  const text = readFileSync(report, 'utf8');
  process.stderr.write(`\ndemo: the report is at ${report} (${text.length} bytes):\n\n`);
  process.stderr.write(`${text.split('\n').slice(0, 12).join('\n')}\n…\n`);
  return 0;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the offline demo: one goal, a bootstrap agent, narrowed children, a report')
    .option('--data-dir <dir>', 'where to keep the demo state (default ./.aaos-demo)')
    .option('--json', 'NDJSON audit events instead of the live view')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      process.exitCode = await demoCommand(opts);
    });
}
