import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandPath } from '../../src/cli/help.js';
import { buildProgram } from '../../src/cli/program.js';
import { runAgentd, type AgentdResult } from '../support/run-agentd.js';

/** Every command that runs something (groups like `store` only hold subcommands). */
function leaves(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => (c.commands.length > 0 ? [c, ...leaves(c)] : [c]));
}

/** Runs a few at a time: each is a Node start on a shared machine. */
async function all<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, width = 4): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// no daemon is needed: usage errors are found before any connection (a socket nobody serves proves it)
const NOWHERE = { AAOS_SOCKET: '/nonexistent/aaos-usage-test.sock' };

describe('invalid command lines exit 2 and say what is allowed', { timeout: 600_000 }, () => {
  const commands = leaves(buildProgram());

  it('an unknown flag, on every command: named, with the usage and every option of that command', async () => {
    expect(commands.length).toBeGreaterThan(30);
    const results = await all(commands, (cmd) =>
      runAgentd([...commandPath(cmd).split(' '), '--no-such-flag'], { env: NOWHERE }),
    );
    commands.forEach((cmd, i) => {
      const res = results[i]!;
      const path = commandPath(cmd);
      expect(res.code, `${path}: ${res.stderr}`).toBe(2);
      expect(res.stderr, path).toContain("unknown option '--no-such-flag'");
      expect(res.stderr, path).toContain(`usage: agentd ${path} `);
      for (const option of cmd.options) expect(res.stderr, `${path} lists ${option.flags}`).toContain(option.flags);
      expect(res.stdout, path).toBe('');
    });
  });

  const cases: Array<{ args: string[]; says: RegExp }> = [
    { args: ['bogus-command'], says: /unknown command 'bogus-command'[\s\S]*commands: run, submit/ },
    {
      args: ['runs', '--state', 'bogus'],
      says: /Allowed choices are queued, running, completed, failed, cancelled, interrupted/,
    },
    { args: ['runs', '--limit', '0'], says: /--limit must be a whole number from 1 to 10000, got '0'/ },
    { args: ['runs', '--limit', 'many'], says: /--limit must be a whole number from 1 to 10000, got 'many'/ },
    {
      args: ['submit', 'a goal', '--orchestration', 'swarm'],
      says: /--orchestration must be direct, plan or auto, got 'swarm'/,
    },
    { args: ['logs', 'x', '--tail', 'ten'], says: /--tail must be a whole number/ },
    { args: ['logs', 'x', '--since', 'last tuesday'], says: /--since must be a duration such as 90s, 10m/ },
    { args: ['approve', 'x', '--minutes', '-5'], says: /--minutes must be a positive number, got '-5'/ },
    { args: ['completion', 'tcsh'], says: /unknown shell 'tcsh'; allowed: bash, zsh, fish/ },
    { args: ['revoke', 'agent'], says: /give a token id or --all/ },
    { args: ['revoke', 'agent', 'cap_1', '--all'], says: /give a token id or --all/ },
    { args: ['init', 'no spaces allowed'], says: /the name 'no spaces allowed' must be 1-64 characters/ },
    { args: ['status'], says: /missing required argument 'id'[\s\S]*usage: agentd status \[options\] <id>/ },
    { args: ['send', 'agent'], says: /missing required argument 'text'/ },
    { args: ['status', 'a', 'b'], says: /too many arguments/ },
    { args: ['store'], says: /check[\s\S]*backup/ },
    { args: ['run', '--stdin', '--no-bootstrap'], says: /--stdin needs a bootstrap agent/ },
  ];

  it('bad values and missing or extra arguments', async () => {
    const results: AgentdResult[] = await all(cases, (c) => runAgentd(c.args, { env: NOWHERE }));
    cases.forEach((c, i) => {
      const res = results[i]!;
      expect(res.code, `${c.args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr, c.args.join(' ')).toMatch(c.says);
    });
  });
});
