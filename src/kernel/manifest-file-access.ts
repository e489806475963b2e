import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode, isAaosError } from '../errors/index.js';
import { MAX_PROMPT_BYTES, type CheckedFile, type ManifestFileCheck } from '../manifest/parse.js';
import type { CallContext } from '../audit/call-context.js';
import type { CapabilityTable } from '../capability/capability-table.js';
import { isWithin, normalizePath } from '../capability/path-match.js';

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
  checkFor(parent: CallContext, tool: string): ManifestFileCheck {
    return (requested, field) => {
      const path = normalizePath(requested);
      if (this.inPromptRoot(path)) return undefined;
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
      return readChecked(path, field);
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
      throw new AaosError(
        ErrorCode.PATH_SYMLINK,
        `child manifest refused: its ${field} path '${path}' has a symbolic link at '${current}' (links are not followed)`,
        {
          path,
          component: current,
          field,
        },
      );
    }
  }
}

function errno(err: unknown): string {
  return String((err as NodeJS.ErrnoException).code ?? err);
}

/**
 * Reads the checked file once, through one O_NOFOLLOW descriptor that is proven to be the
 * path just walked (its /proc/self/fd location) and to have no other name (a hard link
 * could be a file outside the grant). The parser uses this text and never opens the path
 * again, so nothing a racing process swaps in afterwards is read.
 */
function readChecked(path: string, field: string): CheckedFile {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in cannot stall the supervisor thread
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errno(err) === 'ELOOP') throw linkRefusal(path, field, path);
    return { problem: errno(err) === 'ENOENT' ? 'not found' : `cannot be read (${errno(err)})` };
  }
  try {
    const info = fstatSync(fd);
    let where: string | undefined;
    try {
      where = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      where = undefined; // no /proc: the component walk and O_NOFOLLOW have to do
    }
    if (where !== undefined && where !== path) throw linkRefusal(path, field, where);
    if (!info.isFile()) return { problem: 'is not a regular file' };
    if (info.nlink > 1) {
      throw new AaosError(
        ErrorCode.PATH_INVALID,
        `child manifest refused: its ${field} path '${path}' has ${info.nlink} hard links, and another may be outside the grant`,
        { path, field, links: info.nlink },
      );
    }
    if (info.size > MAX_PROMPT_BYTES) return { problem: `is larger than ${MAX_PROMPT_BYTES} bytes` };
    // one byte past what fstat said, so a file that grows meanwhile is still noticed
    const buffer = Buffer.alloc(Math.min(info.size, MAX_PROMPT_BYTES) + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (n === 0) break;
      filled += n;
      if (filled === buffer.length)
        return filled > MAX_PROMPT_BYTES
          ? { problem: `is larger than ${MAX_PROMPT_BYTES} bytes` }
          : { problem: 'changed while it was read' };
    }
    return { text: buffer.subarray(0, filled).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

function linkRefusal(path: string, field: string, component: string): AaosError {
  return new AaosError(
    ErrorCode.PATH_SYMLINK,
    `child manifest refused: its ${field} path '${path}' resolves through a symbolic link (links are not followed)`,
    {
      path,
      component,
      field,
    },
  );
}
