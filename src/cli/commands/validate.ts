import type { Command } from 'commander';
import { isAaosError } from '../../errors/index.js';
import { formatIssue } from '../../manifest/issue.js';
import { formatManifestError } from '../../manifest/format-error.js';
import { loadManifestFile } from '../../manifest/parse.js';
import type { AgentManifest } from '../../manifest/schema.js';
import { closestMatch } from '../../manifest/suggest.js';
import { ScriptedProvider } from '../../providers/scripted.js';
import { isRoleFile } from '../../orchestration/role-file.js';
import { loadRoleFile } from '../../orchestration/role-parse.js';
import { isExternalToolName, registeredToolNames } from '../../runtime/tool-catalog.js';

/**
 * What parses but cannot work: unknown tools, a scripted file that is missing or malformed,
 * and (for a bootstrap manifest) a lifecycle that cannot take goals.
 */
async function problemsOf(file: string, manifest: AgentManifest, asBootstrap: boolean): Promise<string[]> {
  const problems: string[] = [];
  const tools = registeredToolNames();
  manifest.capabilities.forEach((cap, index) => {
    const capability = cap.grant.capability;
    if (capability.kind !== 'tool' || tools.includes(capability.name) || isExternalToolName(capability.name)) return;
    const hint = closestMatch(capability.name, tools);
    problems.push(
      formatIssue({
        file,
        line: cap.line ?? 0,
        column: cap.column ?? 0,
        field: `capabilities[${index}]`,
        message: `unknown tool '${capability.name}'${hint ? ` (did you mean '${hint}'?)` : ''}; registered tools: ${tools.join(', ')}`,
      }),
    );
  });
  for (const tool of manifest.approval_required) {
    if (!tools.includes(tool) && !isExternalToolName(tool)) {
      const hint = closestMatch(tool, tools);
      problems.push(`${file}: approval_required: unknown tool '${tool}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
  }
  if (manifest.model.startsWith('scripted:')) {
    try {
      await new ScriptedProvider().load(manifest.model.slice('scripted:'.length));
    } catch (err) {
      problems.push(
        `${file}: model: ${isAaosError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (asBootstrap && manifest.lifecycle !== 'persistent') {
    problems.push(
      `${file}: lifecycle: the bootstrap agent must have lifecycle: persistent (it takes every goal), got '${manifest.lifecycle}'`,
    );
  }
  return problems;
}

/** `agentd validate a.yaml b.yaml…`: exit 1 with file:line errors if any manifest or role file is bad, or a manifest cannot work. */
async function validateCommand(files: string[], opts: { bootstrap?: boolean } = {}): Promise<number> {
  let bad = 0;
  for (const file of files) {
    try {
      if (await isRoleFile(file)) {
        const r = await loadRoleFile(file);
        process.stdout.write(
          `${file}: ok (role ${r.name}, ${r.model}, ${Object.keys(r.parameters).length} parameters, ${r.capabilities.length} capability templates)\n`,
        );
        continue;
      }
      const m = await loadManifestFile(file);
      const problems = await problemsOf(file, m, opts.bootstrap === true);
      if (problems.length > 0) {
        bad++;
        for (const line of problems) process.stderr.write(`${line}\n`);
        continue;
      }
      process.stdout.write(`${file}: ok (${m.name}, ${m.model}, ${m.capabilities.length} capabilities)\n`);
    } catch (err) {
      bad++;
      for (const line of formatManifestError(err)) process.stderr.write(`${line}\n`);
    }
  }
  return bad === 0 ? 0 : 1;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check agent manifests (syntax, fields, tool names, scripted model files) and role files offline; prints file:line:column errors',
    )
    .argument('<manifest...>', 'manifest or role files')
    .option('--bootstrap', 'also check the rules of a bootstrap manifest (lifecycle: persistent)')
    .action(async (files: string[], opts: { bootstrap?: boolean }) => {
      process.exitCode = await validateCommand(files, opts);
    });
}
