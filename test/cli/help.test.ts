import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';
import { COMMAND_HELP, commandPath } from '../../src/cli/help.js';
import { buildProgram } from '../../src/cli/program.js';
import { runAgentd } from '../support/run-agentd.js';

function everyCommand(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(everyCommand)];
}

/** The help a user sees for `cmd`, text added after the options included. */
function helpOf(cmd: Command): string {
  let out = '';
  for (let c: Command | null = cmd; c; c = c.parent)
    c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

const plain = (s: string): string => s.replace(/`/g, '');

describe('--help', () => {
  const program = buildProgram();
  const commands = everyCommand(program);

  it('every command has examples and its environment variables, taken from the settings table', () => {
    const missing = commands.map(commandPath).filter((path) => !COMMAND_HELP[path]);
    expect(missing, 'commands without an entry in src/cli/help.ts').toEqual([]);
    for (const cmd of commands) {
      const path = commandPath(cmd);
      const help = COMMAND_HELP[path]!;
      const text = helpOf(cmd);
      expect(help.examples.length, path).toBeGreaterThan(0);
      expect(text, path).toContain('Examples:');
      for (const example of help.examples) {
        expect(text, `${path} shows its example`).toContain(`$ ${example}`);
        // an example runs the command it documents
        if (path !== 'agentd' && path !== 'help' && !example.includes('source <('))
          expect(example, path).toContain(`agentd ${path}`);
      }
      for (const name of help.env) {
        expect(text, `${path} names ${name}`).toContain(name);
        expect(text, `${path}: ${name} described as in settings.ts`).toContain(plain(SETTINGS[name].doc));
      }
    }
  });

  it('every client command names the variables that find the daemon', () => {
    for (const cmd of commands) {
      if (!cmd.options.some((o) => o.long === '--socket')) continue;
      const env = COMMAND_HELP[commandPath(cmd)]!.env;
      expect(env, commandPath(cmd)).toEqual(expect.arrayContaining(['AAOS_SOCKET', 'AAOS_DATA_DIR']));
    }
  });

  it('the built agentd prints it with exit 0, for the program and a command', async () => {
    const top = await runAgentd(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('$ agentd submit "Summarise the files in the inbox"');
    expect(top.stdout).toContain('AAOS_DATA_DIR');
    const logs = await runAgentd(['logs', '--help']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('--since <when>');
    expect(logs.stdout).toContain('$ agentd logs 3f2a9c1e --since 10m --timestamps');
    expect(logs.stdout).toMatch(/NO_COLOR\s+set to anything: no colour/);
  }, 60_000);
});
