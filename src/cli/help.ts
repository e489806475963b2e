import type { Command } from 'commander';
import { SETTINGS, type SettingName } from '../config/settings.js';

/** What `--help` adds after a command's options: examples, and the variables that change what it does. */
export interface CommandHelp {
  examples: readonly string[];
  env: readonly SettingName[];
}

/** Every client command finds the daemon's socket from these. */
const CLIENT: readonly SettingName[] = ['AAOS_SOCKET', 'AAOS_DATA_DIR', 'XDG_DATA_HOME'];
const LIVE: readonly SettingName[] = [...CLIENT, 'NO_COLOR'];

/**
 * Keyed by the command's path (`store check`). A command without an entry fails the
 * help test, so a new command cannot ship without examples. The variables' meanings
 * come from the one settings table (src/config/settings.ts), so help cannot drift from it.
 */
export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  agentd: {
    examples: [
      'agentd run',
      'agentd submit "Summarise the files in the inbox"',
      'agentd runs',
      'agentd logs 3f2a9c1e --follow',
      'echo "a goal" | agentd run --stdin',
    ],
    env: ['AAOS_DATA_DIR', 'AAOS_SOCKET', 'AAOS_MODEL_OVERRIDE', 'NO_COLOR'],
  },
  run: {
    examples: [
      'agentd run',
      'agentd run --bootstrap my-lead.yaml --data-dir ./data',
      'echo "summarise the inbox" | agentd run --stdin --json',
      'agentd run --http 127.0.0.1:8787',
    ],
    env: [
      'AAOS_DATA_DIR',
      'AAOS_SOCKET',
      'AAOS_MODEL_OVERRIDE',
      'ANTHROPIC_API_KEY',
      'OPENAI_API_KEY',
      'AAOS_MAX_CONCURRENT_GOALS',
      'AAOS_SHUTDOWN_GRACE_MS',
      'AAOS_HTTP',
      'AAOS_CLUSTER_URL',
      'AAOS_ORCHESTRATION',
      'NO_COLOR',
    ],
  },
  submit: {
    examples: [
      'agentd submit "Summarise the files in the inbox"',
      'agentd submit --cancel "a goal"',
      'agentd submit --plan "Report on the bike-share pilot."',
      'agentd submit --json "a goal" | jq .kind',
    ],
    env: LIVE,
  },
  list: { examples: ['agentd list', 'agentd list --json'], env: CLIENT },
  status: {
    examples: ['agentd status 3f2a9c1e', 'agentd status bootstrap', 'agentd status 3f2a9c1e --json'],
    env: CLIENT,
  },
  stop: { examples: ['agentd stop 3f2a9c1e', 'agentd stop researcher', 'agentd stop --force bootstrap'], env: CLIENT },
  tools: { examples: ['agentd tools', 'agentd tools --json'], env: CLIENT },
  revoke: {
    examples: [
      'agentd revoke researcher --list',
      'agentd revoke researcher cap_7d1e',
      'agentd revoke researcher --all',
    ],
    env: CLIENT,
  },
  spawn: {
    examples: ['agentd spawn my-agent.yaml', 'agentd spawn manifests/examples/assistant.yaml --json'],
    env: CLIENT,
  },
  send: {
    examples: ['agentd send my-agent "look at the new files"', 'agentd send 3f2a9c1e "hello" --json'],
    env: CLIENT,
  },
  ask: { examples: ['agentd ask my-agent "what is in the inbox?"', 'agentd ask my-agent "hello" --json'], env: CLIENT },
  pause: {
    examples: ['agentd pause my-agent', 'agentd pause --force bootstrap'],
    env: ['AAOS_MAILBOX_MAX', ...CLIENT],
  },
  resume: { examples: ['agentd resume my-agent'], env: CLIENT },
  runs: { examples: ['agentd runs', 'agentd runs --state failed --limit 10', 'agentd runs --json'], env: CLIENT },
  logs: {
    examples: [
      'agentd logs 3f2a9c1e',
      'agentd logs 3f2a9c1e --follow',
      'agentd logs researcher --tail 20',
      'agentd logs 3f2a9c1e --since 10m --timestamps',
      'agentd logs 3f2a9c1e --json | jq .event.type',
    ],
    env: LIVE,
  },
  mcp: { examples: ['agentd mcp', 'agentd mcp --socket /data/run/agentd.sock'], env: CLIENT },
  approvals: {
    examples: ['agentd approvals', 'agentd approvals --watch', 'agentd approvals --watch --json'],
    env: [...CLIENT, 'AAOS_APPROVAL_TIMEOUT_MS'],
  },
  approve: { examples: ['agentd approve 5c0b…', 'agentd approve 5c0b… --minutes 30'], env: CLIENT },
  deny: { examples: ['agentd deny 5c0b… --reason "not that file"'], env: CLIENT },
  health: { examples: ['agentd health', 'agentd health --json'], env: CLIENT },
  validate: {
    examples: [
      'agentd validate manifests/*.yaml',
      'agentd validate --bootstrap my-lead.yaml',
      'agentd validate roles/analyzer.yaml',
    ],
    env: ['AAOS_MCP_SERVERS', 'AAOS_PROMPT_ROOTS'],
  },
  init: {
    examples: ['agentd init', 'agentd init my-researcher && agentd validate --bootstrap my-researcher.yaml'],
    env: [],
  },
  store: { examples: ['agentd store check', 'agentd store backup ./backup'], env: ['AAOS_DATA_DIR', 'XDG_DATA_HOME'] },
  'store check': {
    examples: ['agentd store check', 'agentd store check --data-dir ./data'],
    env: ['AAOS_DATA_DIR', 'XDG_DATA_HOME'],
  },
  'store backup': {
    examples: ['agentd store backup ./backup', 'agentd store backup ./backup --compact --data-dir ./data'],
    env: ['AAOS_DATA_DIR', 'XDG_DATA_HOME'],
  },
  roles: { examples: ['agentd roles', 'agentd roles --dir ./my-roles --json'], env: ['AAOS_ROLES_DIR'] },
  'roles show': {
    examples: ['agentd roles show analyzer', 'agentd roles show writer --json'],
    env: ['AAOS_ROLES_DIR'],
  },
  demo: {
    examples: ['agentd demo', 'AAOS_ORCHESTRATION=plan agentd demo', 'agentd demo --json'],
    env: ['AAOS_ORCHESTRATION', 'AAOS_MODEL_OVERRIDE', 'NO_COLOR'],
  },
  cluster: { examples: ['agentd cluster status'], env: CLIENT },
  'cluster status': { examples: ['agentd cluster status', 'agentd cluster status --json'], env: CLIENT },
  config: {
    examples: ['agentd config', 'agentd config --config ./agentd.yaml --json'],
    env: ['AAOS_DATA_DIR', 'XDG_DATA_HOME'],
  },
  console: {
    examples: ['agentd console', 'agentd console --data-dir ./data'],
    env: ['AAOS_DATA_DIR', 'XDG_DATA_HOME'],
  },
  completion: {
    examples: [
      'source <(agentd completion bash)',
      'agentd completion zsh > ~/.zfunc/_agentd',
      'agentd completion fish > ~/.config/fish/completions/agentd.fish',
    ],
    env: [],
  },
  help: { examples: ['agentd help', 'agentd help logs'], env: [] },
};

/** `agentd`, `logs`, `store check`… */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length === 0 ? 'agentd' : names.join(' ');
}

/** Markdown backticks make no sense on a terminal. */
const plain = (text: string): string => text.replace(/`/g, '');

function helpText(help: CommandHelp): string {
  const lines = ['', 'Examples:', ...help.examples.map((e) => `  $ ${e}`)];
  if (help.env.length > 0) {
    const width = Math.max(...help.env.map((n) => n.length));
    lines.push('', 'Environment:');
    for (const name of help.env) {
      const setting = SETTINGS[name];
      const fallback = setting.defaultText ?? (setting.default !== undefined ? String(setting.default) : undefined);
      lines.push(
        `  ${name.padEnd(width)}  ${plain(setting.doc)}${fallback !== undefined && !setting.secret ? ` (default: ${plain(fallback)})` : ''}`,
      );
    }
  }
  lines.push('', 'Every setting and its source: agentd config; docs/cli.md, docs/configuration.md.');
  return lines.join('\n');
}

/** Adds examples and variables to the help of the program and every command under it. */
export function addHelp(program: Command): void {
  const visit = (cmd: Command): void => {
    const help = COMMAND_HELP[commandPath(cmd)];
    if (help) cmd.addHelpText('after', helpText(help));
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}
