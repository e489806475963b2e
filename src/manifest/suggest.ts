/**
 * Edit distance where an insertion, deletion, substitution or swap of two adjacent
 * characters costs 1 (optimal string alignment); used only for "did you mean" hints.
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row[j] = j;
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The closest candidate, if it is close enough to be a plausible typo: a case-only
 * difference, at most a third of the word's length (minimum 1, maximum 3) edits, or a
 * truncation (`max_heap` for `max_heap_mb`; both at least 4 characters).
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const lowered = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const truncated =
      Math.min(lowered.length, other.length) >= 4 && (other.startsWith(lowered) || lowered.startsWith(other));
    const distance = truncated ? 1 : levenshtein(lowered, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}

/** ` (did you mean 'x'?)` or the empty string, ready to append to a message. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}
