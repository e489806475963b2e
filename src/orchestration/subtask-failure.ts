import { existsSync, statSync } from 'node:fs';
import { ErrorCode } from '../errors/index.js';
import type { ChildRunResult } from '../tools/tool.js';

/**
 * Why a subtask attempt failed. A role's `retry.on` and `escalate_on` name these;
 * `tool_repeat_guard` and `max_tokens` are also escalation signals.
 */
type FailureKind =
  | 'timeout'
  | 'hops'
  | 'denied'
  | 'error'
  | 'error_reply'
  | 'missing_output'
  | 'max_iterations'
  | 'max_tokens'
  | 'budget_exceeded'
  | 'tool_repeat_guard'
  | 'cancelled';

export interface SubtaskFailure {
  subtaskId: string;
  kind: FailureKind;
  message: string;
}

const DENIALS = new Set<string>([
  ErrorCode.CAPABILITY_DENIED,
  ErrorCode.CAPABILITY_NOT_DELEGABLE,
  ErrorCode.CAPABILITY_EXHAUSTED,
  ErrorCode.CAPABILITY_EXPIRED,
  ErrorCode.CAPABILITY_REVOKED,
]);

function isFile(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface AttemptFacts {
  result?: ChildRunResult;
  /** the error when the child could not be spawned or run at all */
  error?: { code: string; message: string };
  timedOut: boolean;
  cancelled: boolean;
  declaredOutputs: readonly string[];
  requireDeclaredOutput: boolean;
}

/**
 * Judges one attempt: undefined for a success; otherwise the failure kind and a
 * message the planner can act on. `missing` lists declared outputs that are absent
 * (reported even on success when the role does not require them).
 */
export function judgeAttempt(subtaskId: string, facts: AttemptFacts): { failure?: SubtaskFailure; missing: string[] } {
  const fail = (kind: FailureKind, message: string) => ({
    failure: { subtaskId, kind, message: `subtask '${subtaskId}': ${message}` },
    missing: [],
  });
  if (facts.timedOut) return fail('timeout', 'ran past its wall-clock limit');
  if (facts.cancelled) return fail('cancelled', 'cancelled');
  if (facts.error)
    return fail(DENIALS.has(facts.error.code) ? 'denied' : 'error', `${facts.error.code}: ${facts.error.message}`);
  const r = facts.result!;
  switch (r.stop_reason) {
    case 'complete':
      break;
    case 'tool_repeat':
      return fail('tool_repeat_guard', r.error ?? 'stopped by the tool repeat guard');
    case 'max_tokens':
    case 'max_iterations':
    case 'budget_exceeded':
      return fail(r.stop_reason, `stopped: ${r.stop_reason}${r.error ? ` (${r.error})` : ''}`);
    case 'cancelled':
      return fail('cancelled', r.error ?? 'cancelled');
    default:
      return fail('error', r.error ?? `stopped: ${r.stop_reason}`);
  }
  // the roles' error contract: a reply starting with ERROR is a failure the child reported itself
  if (/^\s*ERROR\b/.test(r.response)) return fail('error_reply', r.response.trim().slice(0, 500));
  const missing = facts.declaredOutputs.filter((p) => !isFile(p));
  if (missing.length > 0 && facts.requireDeclaredOutput) {
    return fail(
      'missing_output',
      `its declared output ${missing.map((p) => `'${p}'`).join(', ')} does not exist after it answered`,
    );
  }
  return { missing };
}
