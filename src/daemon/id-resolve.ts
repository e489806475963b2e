import { AaosError, ErrorCode } from '../errors/index.js';

/** Shorter prefixes are not looked up: too easy to hit several ids by accident. */
const MIN_ID_PREFIX = 4;

export interface IdCandidate {
  id: string;
  /** shown when a prefix or name is ambiguous, e.g. the agent's name or the run's goal */
  label: string;
}

/** The error for a reference that matches several ids; lists each, as git does. */
export type IdKind = 'agent' | 'run' | 'approval' | 'token';

export function ambiguous(
  kind: IdKind,
  ref: string,
  matches: readonly IdCandidate[],
  how: 'prefix' | 'name',
): AaosError {
  const list = matches.map((m) => `${m.id} (${m.label})`).join(', ');
  return new AaosError(
    ErrorCode.ID_AMBIGUOUS,
    `${how} '${ref}' matches ${matches.length} ${kind}s: ${list}; give more of the id`,
    {
      ref,
      kind,
      candidates: matches.map((m) => m.id),
    },
  );
}

/**
 * The one candidate whose id starts with `ref` (git-style short ids); undefined when none does
 * or `ref` is too short to try; ID_AMBIGUOUS when several do.
 */
export function byIdPrefix(kind: IdKind, ref: string, candidates: Iterable<IdCandidate>): string | undefined {
  if (ref.length < MIN_ID_PREFIX) return undefined;
  const matches: IdCandidate[] = [];
  for (const c of candidates) if (c.id.startsWith(ref)) matches.push(c);
  if (matches.length > 1) throw ambiguous(kind, ref, matches, 'prefix');
  return matches[0]?.id;
}
