import type { Capability, CapabilityRequest } from './capability.js';
import { globContains, globCovers } from './path-match.js';

/**
 * Level-2 matching (does a capability allow this request?) and narrowing (is a child
 * capability inside a parent one?). Pure functions; token state (revoked, expired,
 * exhausted) is the table's business.
 */

const ANY = '*';

/** Tools of connected MCP servers are named `mcp.<server>.<tool>` (src/mcp). */
const MCP_TOOL_PREFIX = 'mcp.';

/**
 * Does a `tool:` grant name this tool? `*` means every built-in tool but no MCP tool: an
 * external server's tools are granted by name (`mcp.<server>.<tool>`) or per server
 * (`mcp.<server>.*`), never by accident.
 */
function toolGrantMatches(grant: string, tool: string): boolean {
  if (grant === tool) return true;
  if (grant === ANY) return !tool.startsWith(MCP_TOOL_PREFIX);
  return (
    grant.endsWith('.*') &&
    grant.startsWith(MCP_TOOL_PREFIX) &&
    tool.startsWith(grant.slice(0, -1)) &&
    !tool.slice(grant.length - 1).includes('.')
  );
}

/**
 * One spelling per host, for grants and requests alike: lower case, no trailing dot, and an
 * IPv6 literal without its URL brackets (`[::1]` and `::1` are the same host).
 */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

const lowerHost = canonicalHost;

/** Does the capability allow the request? Paths are expected canonical already. */
export function permits(cap: Capability, req: CapabilityRequest): boolean {
  switch (req.kind) {
    case 'file_read':
    case 'file_write':
      return cap.kind === req.kind && globCovers(cap.glob, req.path);
    case 'network': {
      if (cap.kind !== 'network') return false;
      const host = lowerHost(req.host);
      return cap.hosts.some((h) => h === ANY || lowerHost(h) === host);
    }
    case 'tool':
      return cap.kind === 'tool' && toolGrantMatches(cap.name, req.name);
    case 'spawn_child':
      return cap.kind === 'spawn_child' && cap.agents.some((a) => a === ANY || a === req.name);
    case 'message_send':
      return (
        cap.kind === 'message_send' && cap.targets.some((t) => t === ANY || t === req.targetId || t === req.targetName)
      );
  }
}

/** Every child element must be in the parent list; a parent `*` covers anything, a child `*` needs a parent `*`. */
function listCovers(parent: readonly string[], child: readonly string[], norm: (s: string) => string): boolean {
  if (parent.includes(ANY)) return true;
  const held = new Set(parent.map(norm));
  return child.every((c) => c !== ANY && held.has(norm(c)));
}

const same = (s: string): string => s;

/** Delegation check: may a holder of `parent` hand `child` to another agent? Never wider. */
export function covers(parent: Capability, child: Capability): boolean {
  switch (child.kind) {
    case 'file_read':
    case 'file_write':
      return parent.kind === child.kind && globContains(parent.glob, child.glob);
    case 'network':
      return parent.kind === 'network' && listCovers(parent.hosts, child.hosts, lowerHost);
    case 'tool':
      if (parent.kind !== 'tool') return false;
      if (parent.name === child.name) return true;
      // a wildcard (`*`, `mcp.<server>.*`) is covered only by itself
      if (child.name === ANY || child.name.endsWith('.*')) return false;
      return toolGrantMatches(parent.name, child.name);
    case 'spawn_child':
      return parent.kind === 'spawn_child' && listCovers(parent.agents, child.agents, same);
    case 'message_send':
      return parent.kind === 'message_send' && listCovers(parent.targets, child.targets, same);
  }
}
