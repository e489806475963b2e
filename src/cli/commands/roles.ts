import type { Command } from 'commander';
import { RoleCatalog, roleDirs } from '../../orchestration/role-catalog.js';
import type { Role } from '../../orchestration/role.js';
import { ExitCode } from '../exit-codes.js';

interface RolesFlags {
  dir?: string[];
  json?: boolean;
}

async function catalogFor(flags: RolesFlags): Promise<RoleCatalog> {
  return RoleCatalog.load([...roleDirs(process.env), ...(flags.dir ?? [])]);
}

function paramLine(role: Role): string {
  return Object.entries(role.parameters)
    .map(([name, p]) => `${name}${p.required ? '' : '?'}: ${p.type}`)
    .join(', ');
}

function describeRole(role: Role): string {
  const lines = [
    `${role.name}  (${role.file})`,
    `  model        ${role.model_ladder.join(' → ')}`,
    `  parameters`,
    ...Object.entries(role.parameters).map(
      ([n, p]) => `    ${n} (${p.type}${p.required ? ', required' : ''})${p.description ? `  ${p.description}` : ''}`,
    ),
    `  capabilities`,
    ...role.capabilities.map((c) => `    ${c}`),
    `  message      ${role.message_template.replaceAll('\n', '\n               ')}`,
    `  retry        ${role.retry.max_attempts} attempt(s)${role.retry.on.length ? ` on ${role.retry.on.join(', ')}` : ''}`,
    `  limits       ${role.orchestration.max_iterations} iterations${role.budget ? `, ${role.budget.max_input_tokens} in / ${role.budget.max_output_tokens} out tokens` : ''}`,
    `  escalate on  ${role.escalate_on.join(', ') || 'nothing'}`,
    `  output       ${role.require_declared_output ? 'declared output must exist' : 'declared output optional'}`,
  ];
  return lines.join('\n');
}

function printProblems(catalog: RoleCatalog): void {
  for (const p of catalog.problems) process.stderr.write(`${p.message}\n`);
}

/** `agentd roles`: the role catalog (bundled `roles/`, `AAOS_ROLES_DIR`, `--dir`). Exit 1 if a role file is broken. */
async function rolesListCommand(flags: RolesFlags): Promise<number> {
  const catalog = await catalogFor(flags);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ roles: catalog.list(), problems: catalog.problems })}\n`);
  } else {
    const width = Math.max(4, ...catalog.names().map((n) => n.length));
    for (const role of catalog.list()) process.stdout.write(`${role.name.padEnd(width)}  ${paramLine(role)}\n`);
    printProblems(catalog);
  }
  return catalog.problems.length === 0 ? ExitCode.OK : ExitCode.FAILED;
}

async function rolesShowCommand(name: string, flags: RolesFlags): Promise<number> {
  const catalog = await catalogFor(flags);
  const role = catalog.get(name);
  if (!role) {
    try {
      catalog.require(name);
    } catch (err) {
      process.stderr.write(`agentd: ${(err as Error).message}\n`);
    }
    printProblems(catalog);
    return ExitCode.FAILED;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(role)}\n` : `${describeRole(role)}\n`);
  return ExitCode.OK;
}

export function registerRoles(program: Command): void {
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  const roles = program
    .command('roles')
    .description('list the roles plans are made of (bundled roles/, AAOS_ROLES_DIR, --dir)')
    .option('--dir <dir>', 'another roles directory (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (flags: RolesFlags) => {
      process.exitCode = await rolesListCommand(flags);
    });
  roles
    .command('show')
    .description('show one role: model ladder, parameters, capability templates, limits')
    .argument('<name>', 'role name')
    .option('--dir <dir>', 'another roles directory (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (name: string, flags: RolesFlags) => {
      process.exitCode = await rolesShowCommand(name, { ...roles.opts<RolesFlags>(), ...flags });
    });
  for (const cmd of roles.commands) cmd.exitOverride();
}
