import type { Command } from 'commander';
import { formatManifestError } from '../../manifest/format-error.js';
import { loadManifestFile } from '../../manifest/parse.js';

/** `agentd validate a.yaml b.yaml…`: exit 1 with file:line errors if any manifest is bad. */
export async function validateCommand(files: string[]): Promise<number> {
  let bad = 0;
  for (const file of files) {
    try {
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
    .description('check agent manifests; prints file:line:column errors')
    .argument('<manifest...>', 'manifest files')
    .action(async (files: string[]) => {
      process.exitCode = await validateCommand(files);
    });
}
