import { spawn } from 'node:child_process';
import { AGENTD } from '../daemon/daemon-process.js';

export interface AgentdResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `agentd` as a user would (never rejects): optional stdin text, extra env,
 * working directory. `NO_COLOR` and a TTY are whatever the caller's env says.
 */
export function runAgentd(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<AgentdResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [AGENTD, ...args], {
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}
