import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';

/** Folder-name rule of the AgentSkills format: lowercase words joined by single hyphens. */
const SKILL_NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A tool name in `allowed-tools`; a trailing `*` matches by prefix (e.g. `mcp.github.*`). */
const ALLOWED_TOOL_PATTERN = /^[A-Za-z0-9_.-]+\*?$|^\*$/;

const AllowedTools = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (typeof value === 'string' ? value.split(/\s+/) : value).map((t) => t.trim()).filter((t) => t !== ''),
  )
  .pipe(
    z
      .array(z.string().regex(ALLOWED_TOOL_PATTERN, 'a tool name (letters, digits, _ . -), optionally ending in *'))
      .min(1, 'must name at least one tool (omit the field to allow every tool)'),
  );

/** SKILL.md frontmatter. Strict so that a misspelt key (`allowed_tools`) is reported rather than ignored. */
const requiredString = z.string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') });

const SkillFrontmatter = z.strictObject({
  name: requiredString
    .max(64, 'at most 64 characters')
    .regex(SKILL_NAME_PATTERN, 'lowercase letters and digits in hyphen-separated words'),
  description: requiredString.trim().min(1, 'is required').max(1024, 'at most 1024 characters'),
  license: z.string().optional(),
  compatibility: z.string().max(500, 'at most 500 characters').optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  'allowed-tools': AllowedTools.optional(),
});
type SkillFrontmatter = z.infer<typeof SkillFrontmatter>;

/** A loaded skill. `dir` is the real absolute path of its folder. */
export interface Skill {
  name: string;
  description: string;
  license: string | undefined;
  compatibility: string | undefined;
  metadata: Record<string, string>;
  /** null when the skill does not restrict tools */
  allowedTools: string[] | null;
  /** markdown after the frontmatter, trimmed */
  body: string;
  dir: string;
  /** the skills root the folder was found in */
  root: string;
}

export interface ParsedSkillMarkdown {
  frontmatter: SkillFrontmatter;
  body: string;
}

function invalid(file: string, message: string, details: Record<string, unknown> = {}): AaosError {
  return new AaosError(ErrorCode.SKILL_INVALID, `${file}: ${message}`, { file, ...details });
}

/**
 * Splits and validates a SKILL.md. The file must open with a `---` line and the
 * frontmatter ends at the next line that is exactly `---`.
 */
export function parseSkillMarkdown(text: string, file: string): ParsedSkillMarkdown {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let start = 0;
  while (start < lines.length && lines[start]?.trim() === '') start++;
  if (lines[start]?.trim() !== '---')
    throw invalid(file, 'SKILL.md must start with a --- line opening the YAML frontmatter');
  let end = start + 1;
  while (end < lines.length && lines[end]?.trimEnd() !== '---') end++;
  if (end >= lines.length) throw invalid(file, 'SKILL.md frontmatter has no closing --- line');

  const yamlText = lines.slice(start + 1, end).join('\n');
  const doc = parseDocument(yamlText);
  const yamlError = doc.errors[0];
  if (yamlError) {
    // +2: the opening --- line, and YAML lines are 1-based
    const line = yamlError.linePos?.[0]?.line;
    const fileLine = line === undefined ? undefined : line + start + 1;
    throw invalid(
      file,
      `invalid YAML frontmatter${fileLine === undefined ? '' : ` at line ${fileLine}`}: ${yamlError.message.split('\n')[0]}`,
      {
        line: fileLine,
      },
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid(file, 'frontmatter must be a YAML mapping');

  const parsed = SkillFrontmatter.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field =
      issue === undefined
        ? '(frontmatter)'
        : issue.path.length > 0
          ? issue.path.map(String).join('.')
          : '(frontmatter)';
    const message =
      issue?.code === 'unrecognized_keys'
        ? `unknown frontmatter key(s): ${issue.keys.join(', ')}`
        : `${field}: ${issue?.message ?? 'invalid'}`;
    throw invalid(file, `invalid frontmatter: ${message}`, { field });
  }
  return {
    frontmatter: parsed.data,
    body: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}
