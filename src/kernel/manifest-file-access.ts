import { lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode, isAaosError } from '../errors/index.js';
import type { ManifestFileCheck } from '../manifest/parse.js';
import type { AgentRef, CapabilityTable } from './capability-table.js';
import { isWithin, normalizePath } from './path-match.js';

/**
 * Files named by a manifest that an agent wrote (`spawn_agent`, `spawn_agents`): the
 * supervisor reads them on the agent's behalf, so they need the agent's own `file_read`,
 * exactly as if it had called `file_read` itself. The one exception is a read-only
 * prompts root the operator configured (the bundled `manifests/`), which any agent may
 * name. The check runs before anything touches the file, so a refusal is the same
 * whether or not the file exists.
 */
export class ManifestFileAccess {
  /** canonical prompt roots that exist */
  private readonly roots: string[];

  constructor(
    private readonly capabilities: CapabilityTable,
    promptRoots: readonly string[],
  ) {
    this.roots = [];
    for (const root of promptRoots) {
      try {
        this.roots.push(realpathSync(root));
      } catch {
        // a configured root that does not exist grants nothing
      }
    }
  }

  get promptRoots(): readonly string[] {
    return this.roots;
  }

  /** The check for one manifest written by `parent` (the agent whose authority the reads use). */
  checkFor(parent: AgentRef, tool: string): ManifestFileCheck {
    return (requested, field) => {
      const path = normalizePath(requested);
      if (this.inPromptRoot(path)) return;
      try {
        this.capabilities.authorize(parent, { kind: 'file_read', path }, { tool });
      } catch (err) {
        if (!isAaosError(err)) throw err;
        throw new AaosError(
          err.code,
          `child manifest refused: its ${field} names '${path}', which agent '${parent.name}' (${parent.id}) may not read (needs 'file_read: ${path}'; ${reasonOf(err.message)}); the file was not opened`,
          { agent_id: parent.id, agent_name: parent.name, field, path, capability: `file_read: ${path}`, tool },
        );
      }
      refuseLinks(path, field);
    };
  }

  private inPromptRoot(path: string): boolean {
    const root = this.roots.find((r) => isWithin(r, path));
    if (root === undefined) return false;
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      // missing inside a root the operator made readable: the parser reports it
      return true;
    }
    return isWithin(root, real);
  }
}

function reasonOf(message: string): string {
  const idx = message.lastIndexOf(': ');
  return idx >= 0 ? message.slice(idx + 2) : message;
}

/** Inside a grant, a symbolic link in any component is refused, as the file tools refuse it. */
function refuseLinks(path: string, field: string): void {
  let current = '/';
  for (const part of path.split('/').filter((p) => p !== '')) {
    current = join(current, part);
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      return; // missing: the parser reports it (inside the grant, so existence is no secret)
    }
    if (isLink) {
      throw new AaosError(ErrorCode.PATH_SYMLINK, `child manifest refused: its ${field} path '${path}' has a symbolic link at '${current}' (links are not followed)`, {
        path,
        component: current,
        field,
      });
    }
  }
}
