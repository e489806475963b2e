import type { Command } from 'commander';
import { formatManifestError } from '../../manifest/format-error.js';
import { loadManifestFile } from '../../manifest/parse.js';
import { isRoleFile } from '../../orchestration/role-file.js';
import { loadRoleFile } from '../../orchestration/role-parse.js';

/** `agentd validate a.yaml b.yaml…`: exit 1 with file:line errors if any manifest or role file is bad. */
export async function validateCommand(files: string[]): Promise<number> {
  let bad = 0;
  for (const file of files) {
    try {
      if (await isRoleFile(file)) {
        const r = await loadRoleFile(file);
        process.stdout.write(`${file}: ok (role ${r.name}, ${r.model}, ${Object.keys(r.parameters).length} parameters, ${r.capabilities.length} capability templates)\n`);
        continue;
      }
      const m = await loadManifestFile(file);
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
    .description('check agent manifests and role files; prints file:line:column errors')
    .argument('<manifest...>', 'manifest or role files')
    .action(async (files: string[]) => {
      process.exitCode = await validateCommand(files);
    });
}
