import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Skill } from './skill.js';

/** The sub-folders of a skill whose files `skill_read` lists. */
const SKILL_RESOURCE_DIRS = ['scripts', 'references', 'assets'] as const;
const MAX_LISTED_SKILL_FILES = 500;
const MAX_SKILL_FILE_BYTES = 1024 * 1024;

export interface SkillFileList {
  /** relative paths with `/` separators, sorted */
  files: string[];
  truncated: boolean;
}

export interface SkillFileContent {
  content: string;
  /** `base64` when the file is not valid UTF-8 (an image in assets/, say) */
  encoding: 'utf-8' | 'base64';
  size_bytes: number;
}

/** Regular files under scripts/, references/, assets/, recursively; symlinks are neither followed nor listed. */
export async function listSkillFiles(skill: Skill): Promise<SkillFileList> {
  const files: string[] = [];
  let truncated = false;

  async function walk(relDir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(skill.dir, relDir), { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_SKILL_FILES) {
        truncated = true;
        return;
      }
      const rel = `${relDir}/${entry.name}`;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) files.push(rel);
    }
  }

  for (const dir of SKILL_RESOURCE_DIRS) {
    const info = await lstat(join(skill.dir, dir)).catch(() => undefined);
    if (info?.isDirectory()) await walk(dir);
  }
  return { files, truncated };
}

function refuse(skill: Skill, file: string, why: string): AaosError {
  return new AaosError(ErrorCode.SKILL_INVALID, `skill_read refused '${file}' in skill '${skill.name}': ${why}`, {
    skill: skill.name,
    file,
  });
}

async function notFound(skill: Skill, file: string, why: string): Promise<AaosError> {
  const { files } = await listSkillFiles(skill);
  return new AaosError(
    ErrorCode.SKILL_NOT_FOUND,
    `skill '${skill.name}' has no file '${file}' (${why}); its files: ${files.length > 0 ? files.join(', ') : '(none)'}`,
    { skill: skill.name, file, files },
  );
}

/**
 * Reads one file of a skill. The path must stay inside the skill folder: absolute
 * paths, `..` components and symlinks in any component are refused before anything
 * is opened, and the final file is opened with O_NOFOLLOW.
 */
export async function readSkillFile(skill: Skill, file: string): Promise<SkillFileContent> {
  if (file.includes('\0')) throw refuse(skill, file, 'the path contains a NUL byte');
  if (isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file))
    throw refuse(skill, file, 'absolute paths are not allowed; give a path relative to the skill folder');
  const parts = file.split(/[\\/]/).filter((part) => part !== '' && part !== '.');
  if (parts.includes('..'))
    throw refuse(skill, file, "'..' components are not allowed; the path must stay inside the skill folder");
  if (parts.length === 0) throw refuse(skill, file, 'the path names the skill folder itself; give a file path');

  const dirInfo = await lstat(skill.dir).catch(() => undefined);
  if (!dirInfo?.isDirectory()) throw refuse(skill, file, 'the skill folder is no longer a plain directory');

  let current = skill.dir;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    let info;
    try {
      info = await lstat(current);
    } catch {
      throw await notFound(skill, file, 'it does not exist');
    }
    if (info.isSymbolicLink()) throw refuse(skill, file, `'${parts.slice(0, index + 1).join('/')}' is a symbolic link`);
    const last = index === parts.length - 1;
    if (!last && !info.isDirectory())
      throw await notFound(skill, file, `'${parts.slice(0, index + 1).join('/')}' is not a directory`);
    if (last && !info.isFile()) throw await notFound(skill, file, 'it is not a regular file');
  }

  // belt and braces against a folder swapped between the checks and the open
  const rel = relative(await realpath(skill.dir), await realpath(current));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw refuse(skill, file, 'the path leaves the skill folder');

  // O_NONBLOCK: a FIFO swapped in after the checks fails the kind check instead of waiting for a writer
  const handle = await open(current, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw await notFound(skill, file, 'it is not a regular file');
    if (stat.size > MAX_SKILL_FILE_BYTES) {
      throw new AaosError(
        ErrorCode.FILE_TOO_LARGE,
        `skill file '${file}' in skill '${skill.name}' is ${stat.size} bytes (max ${MAX_SKILL_FILE_BYTES})`,
        {
          skill: skill.name,
          file,
          size_bytes: stat.size,
        },
      );
    }
    const bytes = await handle.readFile();
    try {
      return {
        content: new TextDecoder('utf-8', { fatal: true }).decode(bytes),
        encoding: 'utf-8',
        size_bytes: bytes.length,
      };
    } catch {
      return { content: bytes.toString('base64'), encoding: 'base64', size_bytes: bytes.length };
    }
  } finally {
    await handle.close();
  }
}
