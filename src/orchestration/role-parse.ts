import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';
import { parseCapabilityEntry } from '../manifest/capability-string.js';
import {
  addZodIssues,
  MAX_MANIFEST_BYTES,
  MAX_PROMPT_BYTES,
  readYamlMapping,
  type IssueCollector,
} from '../manifest/parse.js';
import { closestMatch } from '../manifest/suggest.js';
import { ROLE_KNOWN_FIELDS, RoleInput, type Role, type RoleParameter } from './role.js';
import { capabilityPlaceholders, messagePlaceholders, MESSAGE_BUILTINS, PATH_BUILTINS } from './template.js';

const SCRIPTED = 'scripted:';

function resolveModel(model: string, baseDir: string): string {
  return model.startsWith(SCRIPTED)
    ? `${SCRIPTED}${path.resolve(baseDir, model.slice(SCRIPTED.length).trim())}`
    : model;
}

function unresolved(name: string, known: readonly string[]): string {
  const hint = closestMatch(name, known);
  return `unresolved placeholder '{${name}}'${hint !== undefined ? ` (did you mean '{${hint}}'?)` : known.length > 0 ? ` (parameters: ${known.join(', ')})` : ' (the role declares no parameters)'}`;
}

/** Every `{…}` of a capability template names a parameter of the right type, and the entry parses. */
function checkCapabilities(
  collector: IssueCollector,
  capabilities: readonly string[],
  params: Record<string, RoleParameter>,
): void {
  const names = Object.keys(params);
  capabilities.forEach((template, index) => {
    let sample = template;
    for (const ph of capabilityPlaceholders(template)) {
      const param = params[ph.name];
      if (!param) {
        if ((PATH_BUILTINS as readonly string[]).includes(ph.name) && !ph.each) continue;
        collector.at(['capabilities', index], `${unresolved(ph.name, names)} in '${template}'`);
        return;
      }
      if (ph.each && param.type !== 'string_list') {
        collector.at(
          ['capabilities', index],
          `'{${ph.name}.*}' in '${template}' needs a string_list parameter; '${ph.name}' is ${param.type}`,
        );
        return;
      }
      if (!ph.each && param.type === 'string_list') {
        collector.at(
          ['capabilities', index],
          `'${ph.name}' is a string_list: write '{${ph.name}.*}' for one capability per element, in '${template}'`,
        );
        return;
      }
      sample = sample.replace(ph.text, '/sample');
    }
    try {
      parseCapabilityEntry(sample);
    } catch (err) {
      collector.at(['capabilities', index], err instanceof AaosError ? err.message : String(err));
    }
  });
}

function readPrompt(collector: IssueCollector, raw: unknown, baseDir: string): string {
  if (typeof raw === 'string') return raw;
  const file = (raw as { file?: unknown } | undefined)?.file;
  if (typeof file !== 'string') return '';
  const resolved = path.resolve(baseDir, file.trim());
  try {
    if (statSync(resolved).size > MAX_PROMPT_BYTES) {
      collector.at(
        ['system_prompt', 'file'],
        `system_prompt file is larger than ${MAX_PROMPT_BYTES} bytes: ${resolved}`,
      );
      return '';
    }
    return readFileSync(resolved, 'utf8');
  } catch (err) {
    collector.at(
      ['system_prompt', 'file'],
      `system_prompt file cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): ${resolved}`,
    );
    return '';
  }
}

/**
 * Parses a role file in aaOS's role format. Unknown fields (with "did you mean"),
 * wrong types, capability templates that would not parse and placeholders that name
 * no parameter are all reported together, located, as AAOS_ERR_ROLE_INVALID.
 */
export function parseRole(text: string, options: { file: string; baseDir?: string }): Role {
  const file = options.file;
  const baseDir = path.resolve(options.baseDir ?? path.dirname(path.resolve(file)));
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    throw new AaosError(ErrorCode.ROLE_INVALID, `${file}: role file is larger than ${MAX_MANIFEST_BYTES} bytes`, {
      file,
    });
  }
  const { collector, raw } = readYamlMapping(
    text,
    file,
    'role is empty (expected name, model and message_template)',
    'role fields',
    ErrorCode.ROLE_INVALID,
  );
  const known: Record<string, readonly string[]> = { ...ROLE_KNOWN_FIELDS };
  const rawParams = raw['parameters'];
  if (rawParams && typeof rawParams === 'object') {
    for (const name of Object.keys(rawParams)) known[`parameters.${name}`] = ['type', 'required', 'description'];
  }
  const parsed = RoleInput.safeParse(raw, { reportInput: true });
  if (!parsed.success) addZodIssues(collector, parsed.error.issues, known);
  const prompt = readPrompt(collector, raw['system_prompt'], baseDir);
  if (parsed.success) {
    const role = parsed.data;
    checkCapabilities(collector, role.capabilities, role.parameters);
    const names = Object.keys(role.parameters);
    for (const ph of messagePlaceholders(role.message_template)) {
      if (!role.parameters[ph] && !(MESSAGE_BUILTINS as readonly string[]).includes(ph))
        collector.at(['message_template'], unresolved(ph, names));
    }
  }
  collector.throwIfAny();
  if (!parsed.success) throw new AaosError(ErrorCode.INTERNAL, 'role failed validation without issues');
  const input = parsed.data;
  const model = resolveModel(input.model, baseDir);
  return {
    ...input,
    model,
    model_ladder: (input.model_ladder ?? [input.model]).map((m) => resolveModel(m, baseDir)),
    system_prompt: prompt,
    file,
    base_dir: baseDir,
  };
}

/** Reads and parses a role file; relative paths in it resolve against its directory. */
export async function loadRoleFile(filePath: string): Promise<Role> {
  const resolved = path.resolve(filePath);
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AaosError(
      ErrorCode.ROLE_NOT_FOUND,
      `${filePath}: ${code === 'ENOENT' ? 'role file not found' : `cannot read role file (${code ?? String(err)})`}: ${resolved}`,
      {
        file: filePath,
      },
    );
  }
  return parseRole(text, { file: filePath, baseDir: path.dirname(resolved) });
}
