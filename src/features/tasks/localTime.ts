/**
 * Wall-clock times in a person's time zone as UTC instants, for reminders: "09:00 on 2026-03-29
 * in Europe/Berlin". Pure (Intl only), DST-correct: the zone's offset is looked up around the
 * wanted wall time and each candidate checked, never "add 24 hours".
 */

const DAY_MS = 24 * 60 * 60_000;
const HOUR_MS = 60 * 60_000;

/** The earliest any zone reaches a calendar date: its midnight in UTC+14 (Kiribati). */
const EARLIEST_ZONE_MS = 14 * HOUR_MS;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      // An unknown zone name from Slack: UTC.
      format = offsetFormat('UTC');
    }
    offsetFormats.set(timeZone, format);
  }
  return format;
}

/** The zone's offset from UTC (ms, east positive) at the instant `at`. */
export function zoneOffsetMs(timeZone: string, at: number): number {
  const parts = offsetFormat(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at / 1000) * 1000;
}

function dateParts(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * The UTC instant (ms) of `date` (`YYYY-MM-DD`) at `hour`:00 in `timeZone`. An hour that does not
 * exist that day (clocks spring forward over it) is the next valid instant (02:00 → 03:00); an
 * hour that happens twice (clocks fall back) is its first occurrence.
 */
export function zonedInstant(date: string, hour: number, timeZone: string): number {
  const [y, m, d] = dateParts(date);
  const wall = Date.UTC(y, m - 1, d, hour);
  // The offsets in force around that day: a zone changes offset at most once within a day or so.
  const before = zoneOffsetMs(timeZone, wall - DAY_MS);
  const after = zoneOffsetMs(timeZone, wall + DAY_MS);
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => t + zoneOffsetMs(timeZone, t) === wall);
  if (valid.length > 0) return Math.min(...valid);
  // In the gap: the wall time read with the offset before the change lands just after it.
  return wall - before;
}

/** The calendar date `days` after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = dateParts(date);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday: a calendar date's weekday is the same in every zone. */
export function weekday(date: string): number {
  const [y, m, d] = dateParts(date);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

export function isWorkingDay(date: string): boolean {
  const day = weekday(date);
  return day !== 0 && day !== 6;
}

/** `date` itself if it is a working day (Mon–Fri), else the next one. */
export function workingDayOnOrAfter(date: string): string {
  let d = date;
  while (!isWorkingDay(d)) d = addDays(d, 1);
  return d;
}

/** The earliest instant `date` begins anywhere on Earth (00:00 in UTC+14). */
export function earliestStartOf(date: string): number {
  const [y, m, d] = dateParts(date);
  return Date.UTC(y, m - 1, d) - EARLIEST_ZONE_MS;
}
