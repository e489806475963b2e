import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/**
 * Whether a YAML file is a role rather than an agent manifest: a role has a
 * `message_template` or `parameters` at the top level, which no manifest may have.
 * Unreadable or unparseable files are "not a role" (the manifest parser reports them).
 */
export async function isRoleFile(file: string): Promise<boolean> {
  try {
    const doc: unknown = parse(await readFile(file, 'utf8'), { version: '1.2' });
    return (
      doc !== null &&
      typeof doc === 'object' &&
      !Array.isArray(doc) &&
      ('message_template' in doc || 'parameters' in doc)
    );
  } catch {
    return false;
  }
}
