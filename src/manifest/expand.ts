import path from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';
import { copyCapability, type CapabilityGrant, type Constraints } from '../capability/capability.js';
import { leadingPlaceholder } from './capability-string.js';
import type { PathPlaceholder } from './capability-string.js';
import { formatIssue } from './issue.js';
import type { ManifestIssue } from './issue.js';
import type { AgentManifest, ManifestCapability } from './schema.js';

export interface ExpandVars {
  /** the agent's data directory (absolute) */
  data_dir: string;
  /** the run's workspace (absolute), when the agent runs inside one */
  workspace?: string;
}

/** A placeholder value must be an absolute directory with no wildcard, so it cannot widen a grant. */
function checkedBase(name: PathPlaceholder, value: string): string {
  if (!path.isAbsolute(value)) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `{${name}} must be an absolute path, got '${value}'`, {
      placeholder: name,
      value,
    });
  }
  const normalised = path.resolve(value);
  if (normalised.includes('*') || normalised.includes('{') || normalised.includes('}')) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `{${name}} may not contain '*', '{' or '}': '${value}'`, {
      placeholder: name,
      value,
    });
  }
  return normalised;
}

function expandGlob(glob: string, name: PathPlaceholder, base: string): string {
  const rest = glob.slice(name.length + 2);
  if (base === path.sep) return rest === '' ? '/' : rest;
  return base + rest;
}

function missingWorkspace(manifest: AgentManifest, cap: ManifestCapability, index: number): AaosError {
  const issue: ManifestIssue = {
    file: manifest.source.file,
    line: cap.line ?? 1,
    column: cap.column ?? 1,
    field: `capabilities[${index}]`,
    message: `agent '${manifest.name}' uses {workspace} in '${cap.source}' but was started without a workspace`,
  };
  return new AaosError(ErrorCode.MANIFEST_INVALID, formatIssue(issue), {
    file: manifest.source.file,
    agent: manifest.name,
    capability: cap.source,
    issues: [issue],
  });
}

/**
 * The grants to issue when the agent is spawned: `{data_dir}`/`{workspace}` replaced by
 * absolute directories, `expires_in_seconds` turned into `constraints.expires_at` (epoch
 * ms from `now`). Returns fresh objects; the manifest is not modified. Using `{workspace}`
 * without one is an error rather than a dropped grant, so a manifest never silently runs
 * with fewer (or different) capabilities than it declares.
 */
export function expandCapabilities(
  manifest: AgentManifest,
  vars: ExpandVars,
  now: number = Date.now(),
): CapabilityGrant[] {
  const dataDir = checkedBase('data_dir', vars.data_dir);
  const workspace = vars.workspace === undefined ? undefined : checkedBase('workspace', vars.workspace);
  return manifest.capabilities.map((cap, index) => {
    const capability = copyCapability(cap.grant.capability);
    if (capability.kind === 'file_read' || capability.kind === 'file_write') {
      const placeholder = leadingPlaceholder(capability.glob);
      if (placeholder === 'data_dir') capability.glob = expandGlob(capability.glob, placeholder, dataDir);
      if (placeholder === 'workspace') {
        if (workspace === undefined) throw missingWorkspace(manifest, cap, index);
        capability.glob = expandGlob(capability.glob, placeholder, workspace);
      }
    }
    const constraints: Constraints = { ...cap.grant.constraints };
    if (cap.expires_in_seconds !== undefined) constraints.expires_at = now + cap.expires_in_seconds * 1000;
    return { capability, constraints };
  });
}
