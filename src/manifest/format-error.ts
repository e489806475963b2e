import { isAaosError } from '../errors/index.js';
import { formatIssue, isManifestIssue } from './issue.js';

/**
 * One `file:line:col: field: message` line per manifest issue (for `agentd validate`).
 * Errors without located issues (e.g. a manifest file that does not exist) give their message.
 */
export function formatManifestError(err: unknown): string[] {
  if (isAaosError(err)) {
    const issues = err.details?.['issues'];
    if (Array.isArray(issues) && issues.length > 0 && issues.every(isManifestIssue)) return issues.map(formatIssue);
    return err.message.split('\n');
  }
  if (err instanceof Error) return [err.message];
  return [String(err)];
}
