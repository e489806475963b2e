import type { AgentManifest } from '../manifest/schema.js';

/**
 * A child cannot do without a human what its parent needed a human for: its
 * `approval_required` is its own plus every tool its parent's requires (the parent's list
 * already holds what the grandparent required, so the whole chain is inherited).
 * Returns a copy; parsed manifests may be shared through the manifest cache.
 */
export function inheritApprovals(
  child: AgentManifest,
  parent: Pick<AgentManifest, 'approval_required'>,
): AgentManifest {
  const missing = parent.approval_required.filter((tool) => !child.approval_required.includes(tool));
  return missing.length === 0 ? child : { ...child, approval_required: [...child.approval_required, ...missing] };
}
