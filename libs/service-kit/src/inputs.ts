/**
 * Checks for values that come from outside. Each answers whether the text is what it claims to be, so a
 * route can refuse it with 400 before it reaches a database that would answer 500.
 */

/** Largest id a route accepts: larger numbers lose precision in JavaScript (and overflow `bigint` soon after). */
export const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;

/**
 * `YYYY-MM-DD` naming a real calendar day, checked by round trip (parse, format, compare): `2026-02-30`
 * parses in some engines as 2 March and is refused here.
 */
export function isCalendarDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const at = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text;
}
