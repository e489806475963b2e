import type { Command } from 'commander';
import { usageError } from '../usage.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Every command with its long options, read from the program itself so completions never go stale. */
function commandTable(program: Command): Array<{ name: string; options: string[] }> {
  return program.commands.map((cmd) => ({
    name: cmd.name(),
    options: cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined),
  }));
}

function bashScript(table: Array<{ name: string; options: string[] }>): string {
  const cases = table.map((c) => `    ${c.name}) opts="${[...c.options, '--help'].join(' ')}" ;;`).join('\n');
  return `# agentd bash completion: source <(agentd completion bash)
_agentd() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${table.map((c) => c.name).join(' ')} --help --version --no-color" -- "$cur") )
    return
  fi
  local opts=""
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -F _agentd agentd
`;
}

function zshScript(table: Array<{ name: string; options: string[] }>): string {
  const cases = table
    .map(
      (c) =>
        `    ${c.name}) _arguments ${[...c.options, '--help'].map((o) => `'${o}[]'`).join(' ')} '*:file:_files' ;;`,
    )
    .join('\n');
  return `#compdef agentd
# agentd zsh completion: agentd completion zsh > "\${fpath[1]}/_agentd"
_agentd() {
  if (( CURRENT == 2 )); then
    compadd -- ${table.map((c) => c.name).join(' ')}
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _agentd agentd
`;
}

function fishScript(table: Array<{ name: string; options: string[] }>): string {
  const lines = [
    '# agentd fish completion: agentd completion fish > ~/.config/fish/completions/agentd.fish',
    'complete -c agentd -f',
  ];
  for (const c of table) {
    lines.push(`complete -c agentd -n '__fish_use_subcommand' -a ${c.name}`);
    for (const o of c.options)
      lines.push(`complete -c agentd -n '__fish_seen_subcommand_from ${c.name}' -l ${o.replace(/^--/, '')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description(`print a shell completion script (${SHELLS.join(', ')})`)
    .argument('<shell>', SHELLS.join(' | '))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        return usageError('completion', `unknown shell '${shell}'; allowed: ${SHELLS.join(', ')}`);
      }
      const table = commandTable(program);
      const script = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell as Shell](table);
      process.stdout.write(script);
    });
}
