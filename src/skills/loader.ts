import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { readSetting, type EnvRecord } from '../config/config.js';
import { isAaosError } from '../errors/index.js';
import { PROJECT_ROOT } from '../config/built-path.js';
import { parseSkillMarkdown, type Skill } from './skill.js';

/** A skill folder (or root) that was skipped, and why. */
export interface SkillProblem {
  path: string;
  reason: string;
}

export interface SkillLoadResult {
  /** sorted by name; a later root's skill replaces an earlier one of the same name */
  skills: Skill[];
  problems: SkillProblem[];
}

/** A SKILL.md is instructions for a model; anything this big is a mistake. */
const MAX_SKILL_MD_BYTES = 256 * 1024;

/** Bundled `skills/` first, then each `:`-separated entry of AAOS_SKILLS_DIR (later wins). */
export function skillRoots(env: EnvRecord): string[] {
  return [join(PROJECT_ROOT, 'skills'), ...readSetting(env, 'AAOS_SKILLS_DIR')];
}

async function loadOne(root: string, name: string): Promise<Skill | SkillProblem> {
  const dir = join(root, name);
  const skillFile = join(dir, 'SKILL.md');
  let info;
  try {
    info = await lstat(skillFile);
  } catch {
    return { path: dir, reason: 'no SKILL.md in this folder' };
  }
  if (info.isSymbolicLink()) return { path: skillFile, reason: 'SKILL.md is a symbolic link; not followed' };
  if (!info.isFile()) return { path: skillFile, reason: 'SKILL.md is not a regular file' };
  if (info.size > MAX_SKILL_MD_BYTES)
    return { path: skillFile, reason: `SKILL.md is ${info.size} bytes (max ${MAX_SKILL_MD_BYTES})` };

  try {
    const { frontmatter, body } = parseSkillMarkdown(await readFile(skillFile, 'utf8'), skillFile);
    if (frontmatter.name !== name) {
      return {
        path: skillFile,
        reason: `frontmatter name '${frontmatter.name}' does not match the folder name '${name}'`,
      };
    }
    return {
      name,
      description: frontmatter.description,
      license: frontmatter.license,
      compatibility: frontmatter.compatibility,
      metadata: frontmatter.metadata ?? {},
      allowedTools: frontmatter['allowed-tools'] ?? null,
      body,
      dir,
      root,
    };
  } catch (err) {
    if (isAaosError(err))
      return {
        path: skillFile,
        reason: err.message.startsWith(`${skillFile}: `) ? err.message.slice(skillFile.length + 2) : err.message,
      };
    return { path: skillFile, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Scans each root's direct sub-folders. Malformed skills are reported and skipped so
 * one bad folder never hides the others. Symlinked skill folders are never followed:
 * the root is the trust boundary an operator configured.
 */
export async function loadSkills(roots: readonly string[] = skillRoots({})): Promise<SkillLoadResult> {
  const byName = new Map<string, Skill>();
  const problems: SkillProblem[] = [];

  for (const configured of roots) {
    let root: string;
    let entries;
    try {
      root = await realpath(configured);
      entries = await readdir(root, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        path: configured,
        reason: code === 'ENOENT' ? 'skills root does not exist' : `cannot read skills root: ${code ?? String(err)}`,
      });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      if (entry.isSymbolicLink()) {
        problems.push({ path: join(root, entry.name), reason: 'skill folder is a symbolic link; not followed' });
        continue;
      }
      if (!entry.isDirectory()) continue;
      const loaded = await loadOne(root, entry.name);
      if ('reason' in loaded) problems.push(loaded);
      else byName.set(loaded.name, loaded);
    }
  }

  const skills = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { skills, problems };
}
