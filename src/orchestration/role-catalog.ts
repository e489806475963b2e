import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readSetting, type EnvRecord } from '../config/config.js';
import { PROJECT_ROOT } from '../config/built-path.js';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { closestMatch } from '../manifest/suggest.js';
import type { Role } from './role.js';
import { loadRoleFile } from './role-parse.js';

export interface RoleProblem {
  file: string;
  code: string;
  message: string;
}

/** Where roles come from: the bundled `roles/`, then `AAOS_ROLES_DIR` (colon-separated; later wins on a name). */
export function roleDirs(env: EnvRecord): string[] {
  return [join(PROJECT_ROOT, 'roles'), ...readSetting(env, 'AAOS_ROLES_DIR')];
}

/** The roles a planner may use, by name. Files that fail to load are kept as problems, never half-loaded. */
export class RoleCatalog {
  private constructor(
    private readonly byName: ReadonlyMap<string, Role>,
    readonly problems: readonly RoleProblem[],
  ) {}

  static fromRoles(roles: readonly Role[]): RoleCatalog {
    return new RoleCatalog(new Map(roles.map((r) => [r.name, r])), []);
  }

  static async load(dirs: readonly string[] = roleDirs({})): Promise<RoleCatalog> {
    const byName = new Map<string, Role>();
    const problems: RoleProblem[] = [];
    for (const dir of dirs) {
      let files: string[];
      try {
        files = (await readdir(dir, { withFileTypes: true }))
          .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
          .map((e) => join(dir, e.name))
          .sort();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({
          file: dir,
          code: ErrorCode.ROLE_NOT_FOUND,
          message: `${dir}: cannot read roles directory (${code ?? String(err)})`,
        });
        continue;
      }
      const seenHere = new Map<string, string>();
      for (const file of files) {
        try {
          const role = await loadRoleFile(file);
          const previous = seenHere.get(role.name);
          if (previous !== undefined) {
            problems.push({
              file,
              code: ErrorCode.ROLE_INVALID,
              message: `${file}: role '${role.name}' is also defined in ${previous}`,
            });
            continue;
          }
          seenHere.set(role.name, file);
          byName.set(role.name, role);
        } catch (err) {
          const plain = toPlainError(err);
          problems.push({ file, code: plain.code, message: plain.message });
        }
      }
    }
    return new RoleCatalog(byName, problems);
  }

  get(name: string): Role | undefined {
    return this.byName.get(name);
  }

  /** The role, or ROLE_NOT_FOUND with a "did you mean" and the names there are. */
  require(name: string): Role {
    const role = this.byName.get(name);
    if (role) return role;
    throw new AaosError(ErrorCode.ROLE_NOT_FOUND, `unknown role '${name}'${hintFor(name, this.names())}`, {
      role: name,
      known: this.names(),
    });
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  list(): Role[] {
    return this.names().map((n) => this.byName.get(n)!);
  }
}

export function hintFor(name: string, known: readonly string[]): string {
  const hint = closestMatch(name, known);
  return hint !== undefined ? ` (did you mean '${hint}'?)` : known.length > 0 ? ` (known: ${known.join(', ')})` : '';
}
