/** A subtask as the plan tree shows it (from a PlanProduced event or a run's `plan`). */
export interface PlanTreeNode {
  id: string;
  role: string;
  depends_on: string[];
  state: string;
  attempts?: number;
  error?: string;
}

const MARK: Record<string, string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  failed: '✗',
  skipped: '-',
  reused: '↺',
};

function depthOf(nodes: readonly PlanTreeNode[]): Map<string, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    if (!node || seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(0, ...node.depends_on.map((p) => visit(p, seen) + 1));
    depth.set(id, d);
    return d;
  };
  for (const n of nodes) visit(n.id, new Set());
  return depth;
}

/**
 * The plan as an indented tree: each subtask under the layer it depends on, with its
 * state mark, role, dependencies and (when it failed) why.
 */
export function planTreeLines(nodes: readonly PlanTreeNode[], indent = '  '): string[] {
  const depth = depthOf(nodes);
  const ordered = [...nodes].sort(
    (a, b) => (depth.get(a.id) ?? 0) - (depth.get(b.id) ?? 0) || a.id.localeCompare(b.id),
  );
  const width = Math.max(...nodes.map((n) => n.id.length + 2 * (depth.get(n.id) ?? 0)));
  return ordered.map((n) => {
    const d = depth.get(n.id) ?? 0;
    const name = `${'  '.repeat(d)}${n.id}`.padEnd(width);
    const deps = n.depends_on.length ? `  ← ${n.depends_on.join(', ')}` : '';
    const attempts = n.attempts && n.attempts > 1 ? ` (attempt ${n.attempts})` : '';
    const error =
      n.state === 'failed' && n.error ? `  ${n.error.length > 120 ? `${n.error.slice(0, 119)}…` : n.error}` : '';
    return `${indent}${MARK[n.state] ?? '?'} ${name}  ${n.role} ${n.state}${attempts}${deps}${error}`;
  });
}
