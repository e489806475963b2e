/** What `--since` accepts, for error messages and help. */
export const SINCE_FORMS =
  'a duration such as 90s, 10m, 1h30m or 2d (units ms, s, m, h, d), or an ISO time such as 2026-11-30T01:00:00Z';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
// a date, optionally with a time and a zone; Date.parse alone takes far too much ("1", "May")
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `--since` as epoch ms: a duration counts back from `now`, an ISO time is taken as it is.
 * Undefined when the text is neither (the caller reports it with SINCE_FORMS).
 */
export function parseSince(text: string, now = Date.now()): number | undefined {
  const t = text.trim();
  if (DURATION.test(t)) {
    let ms = 0;
    for (const [, n, unit] of t.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit!] ?? 0);
    return now - ms;
  }
  if (ISO.test(t)) {
    const at = Date.parse(t);
    return Number.isFinite(at) ? at : undefined;
  }
  return undefined;
}
