import type { z } from 'zod';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { hintFor, type RoleCatalog } from './role-catalog.js';
import { checkRoleParams } from './role-render.js';
import { Plan, type Subtask } from './plan.js';

interface PlanProblem {
  /** e.g. `subtasks[2].depends_on[0]`, `subtasks[1].params.inputs` */
  field: string;
  message: string;
}

function refuse(problems: PlanProblem[]): AaosError {
  const text = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new AaosError(ErrorCode.PLAN_INVALID, `plan refused: ${text}`, { problems });
}

function zodField(path: readonly PropertyKey[]): string {
  return (
    path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('') || '(plan)'
  );
}

/**
 * Topological batches: each batch holds the subtasks whose dependencies are all in
 * earlier batches, sorted by id. Throws PLAN_INVALID naming the subtasks of a cycle.
 */
export function topoBatches(subtasks: readonly Subtask[]): Subtask[][] {
  const done = new Set<string>();
  let left = [...subtasks];
  const batches: Subtask[][] = [];
  while (left.length > 0) {
    const ready = left.filter((s) => s.depends_on.every((d) => done.has(d))).sort((a, b) => a.id.localeCompare(b.id));
    if (ready.length === 0) {
      throw refuse([
        { field: 'subtasks', message: `dependency cycle among ${left.map((s) => `'${s.id}'`).join(', ')}` },
      ]);
    }
    for (const s of ready) done.add(s.id);
    batches.push(ready);
    left = left.filter((s) => !done.has(s.id));
  }
  return batches;
}

/** Longest chain of dependencies above each subtask (0 for a root). */
export function depths(subtasks: readonly Subtask[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const batch of topoBatches(subtasks)) {
    for (const s of batch) out.set(s.id, Math.max(0, ...s.depends_on.map((d) => (out.get(d) ?? 0) + 1)));
  }
  return out;
}

/**
 * Everything that can be known before a subtask runs: the shape (zod), unique ids,
 * known roles, known dependencies, no cycles, parameters that fit each role (with
 * `{run}` substituted). Returns the plan, or throws PLAN_INVALID listing every problem.
 */
export function checkPlan(raw: unknown, catalog: RoleCatalog, run: string): Plan {
  const parsed = Plan.safeParse(raw);
  if (!parsed.success) {
    throw refuse(parsed.error.issues.map((i: z.core.$ZodIssue) => ({ field: zodField(i.path), message: i.message })));
  }
  const plan = parsed.data;
  const problems: PlanProblem[] = [];
  const ids = new Set<string>();
  plan.subtasks.forEach((s, i) => {
    if (ids.has(s.id)) problems.push({ field: `subtasks[${i}].id`, message: `duplicate id '${s.id}'` });
    ids.add(s.id);
  });
  const names = catalog.names();
  plan.subtasks.forEach((s, i) => {
    const role = catalog.get(s.role);
    if (!role)
      problems.push({ field: `subtasks[${i}].role`, message: `unknown role '${s.role}'${hintFor(s.role, names)}` });
    s.depends_on.forEach((d, j) => {
      if (d === s.id)
        problems.push({ field: `subtasks[${i}].depends_on[${j}]`, message: `'${s.id}' depends on itself` });
      else if (!ids.has(d))
        problems.push({
          field: `subtasks[${i}].depends_on[${j}]`,
          message: `unknown subtask '${d}'${hintFor(d, [...ids])}`,
        });
    });
    if (role) {
      try {
        checkRoleParams(role, s.params, { subtaskId: s.id, run });
      } catch (err) {
        const plain = toPlainError(err);
        const field = typeof plain.details?.['field'] === 'string' ? plain.details['field'] : 'params';
        problems.push({ field: `subtasks[${i}].${field}`, message: plain.message });
      }
    }
  });
  if (problems.length > 0) throw refuse(problems);
  topoBatches(plan.subtasks);
  return plan;
}
