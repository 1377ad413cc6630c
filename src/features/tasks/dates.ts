import * as chrono from 'chrono-node';

/**
 * Calendar dates for due dates (`YYYY-MM-DD`), always seen from one user's time zone: "today"
 * for someone in Tokyo may be tomorrow in San Francisco. Pure functions; `now` is injected.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar date (`YYYY-MM-DD`) it is at `now` in the IANA time zone `timeZone` (UTC if unknown). */
export function todayIn(timeZone: string, now: number): string {
  const parts = wallClock(timeZone, now);
  return isoDate(parts.year, parts.month, parts.day);
}

/** true when `text` is a real calendar date written `YYYY-MM-DD` (2025-02-30 is not). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export type DueDateParse = { ok: true; date: string } | { ok: false; reason: string };

/**
 * Reads a due date the way people type it: `2025-03-14`, `today`, `tomorrow`, `friday`,
 * `next friday`, `in 3 days`, `march 20`… (chrono-node), relative to `now` in `timeZone`.
 * The whole text must be a date: "friday maybe" is refused rather than half-understood.
 */
export function parseDueDate(text: string, ctx: { now: number; timeZone: string }): DueDateParse {
  const input = text.trim();
  if (input === '') return { ok: false, reason: 'no date was given' };
  if (/^\d{4}-\d{1,2}-\d{1,2}$/.test(input)) {
    return isIsoDate(input) ? { ok: true, date: input } : { ok: false, reason: `${input} is not a real calendar date` };
  }
  // chrono computes in the process's local time zone. Give it a reference whose local wall clock
  // is the user's (noon of the user's today), so its answer is a date in the user's calendar
  // whatever time zone the server runs in.
  const wall = wallClock(ctx.timeZone, ctx.now);
  const reference = new Date(wall.year, wall.month - 1, wall.day, 12, 0, 0);
  const results = chrono.parse(input, reference, { forwardDate: true });
  const first = results[0];
  if (results.length !== 1 || !first || first.index !== 0 || first.text.length !== input.length) {
    return { ok: false, reason: `I could not read "${input}" as a date` };
  }
  const { start } = first;
  const year = start.get('year');
  const month = start.get('month');
  const day = start.get('day');
  if (year === null || month === null || day === null) return { ok: false, reason: `I could not read "${input}" as a date` };
  return { ok: true, date: isoDate(year, month, day) };
}

// Building an Intl.DateTimeFormat costs far more than using one: build each once and reuse it.
const DUE_DATE_FORMAT = new Intl.DateTimeFormat('en-US', { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

/** Human form of a due date for messages: "Fri, Mar 14, 2025". */
export function formatDueDate(date: string): string {
  if (!isIsoDate(date)) return date;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return DUE_DATE_FORMAT.format(new Date(Date.UTC(y, m - 1, d)));
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per time zone (a few hundred at most); an unknown zone name from Slack falls back to UTC. */
function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = wallClockFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    } catch {
      format = wallClockFormat('UTC');
    }
    wallClockFormats.set(timeZone, format);
  }
  return format;
}

function wallClock(timeZone: string, now: number): { year: number; month: number; day: number } {
  const parts = wallClockFormat(timeZone).formatToParts(new Date(now));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}
